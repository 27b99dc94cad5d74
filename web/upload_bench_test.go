package web_test

import (
	"bufio"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"admincenter/internal/imports"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
)

// BenchmarkUploadPeakRSS uploads 64 MB files of hostile shapes, and a real
// report's CSV of about that size, to the report page through the real
// server, and reports the process's peak resident memory during the
// upload (VmHWM, reset before each one) beside the file's size. The server
// reads the file once as a stream; its memory must not grow with the
// file's shape. Linux only (/proc/self/clear_refs).
//
//	go test ./web -run '^$' -bench UploadPeakRSS -benchtime 1x
func BenchmarkUploadPeakRSS(b *testing.B) {
	const size = imports.UploadLimit - 1<<20 // under the limit: the file is read
	shapes := []struct {
		name string
		line func(w *bufio.Writer, n int) // writes the file's n-th piece
	}{
		{"one huge line", func(w *bufio.Writer, n int) { w.WriteString(strings.Repeat("a,", 512)) }},
		{"a million columns", func(w *bufio.Writer, n int) {
			if n > 0 && n%1000 == 0 {
				w.WriteString("\r\n") // rows of a million columns each (1000 pieces of 1024)
			}
			w.WriteString(strings.Repeat("x,", 512))
		}},
		{"a million rows", func(w *bufio.Writer, n int) {
			for i := range 16 {
				fmt.Fprintf(w, "%d,u%d@acme.test,U,2026-03-01T09:00:00Z,true,0,,true,eligible\r\n", 1000000+n*16+i, n*16+i)
			}
		}},
	}
	a := newApp(b, testdb.SQLite(b))
	owner := a.client()
	owner.login("owner@acme.test")
	report, _ := readyReport(b, a, owner)
	for _, shape := range shapes {
		b.Run(shape.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "upload.csv")
			writeFile(b, path, size, shape.line)
			uploadAndMeasure(b, a, owner, report, path, http.StatusUnprocessableEntity)
		})
	}
	b.Run("a whole report as downloaded", func(b *testing.B) {
		a := newApp(b, testdb.SQLite(b))
		owner := a.client()
		owner.login("owner@acme.test")
		signUpMany(b, a, 500_000) // about 55 MB of CSV
		report, _ := readyReport(b, a, owner)
		path := filepath.Join(b.TempDir(), "report.csv")
		download(b, owner, report+"/report.csv", path)
		uploadAndMeasure(b, a, owner, report, path, http.StatusSeeOther)
	})
}

// writeFile writes pieces until the file holds about size bytes.
func writeFile(b *testing.B, path string, size int64, piece func(w *bufio.Writer, n int)) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for n := 0; int64(w.Buffered())+fileSize(b, f) < size; n++ {
		piece(w, n)
		if w.Buffered() > 1<<20 {
			w.Flush()
		}
	}
	w.Flush()
	f.Close()
}

func fileSize(b *testing.B, f *os.File) int64 {
	st, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	return st.Size()
}

// uploadAndMeasure streams the file to the upload route from disk and
// reports the peak RSS while the server reads it.
func uploadAndMeasure(b *testing.B, a *app, c *client, report, path string, want int) {
	st, _ := os.Stat(path)
	var peak, before int64
	for b.Loop() {
		debug.FreeOSMemory()
		before = status(b, "VmRSS")
		if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
			b.Skipf("cannot reset the peak RSS: %v", err)
		}
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			mw.WriteField("_csrf", c.csrf)
			part, _ := mw.CreateFormFile("file", "report.csv")
			f, err := os.Open(path)
			if err == nil {
				io.Copy(part, f)
				f.Close()
			}
			mw.Close()
			pw.CloseWithError(err)
		}()
		req, _ := http.NewRequest(http.MethodPost, a.url+report+"/upload", pr)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := c.http.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			b.Fatalf("status %d, want %d: %.2000s", resp.StatusCode, want, body)
		}
		peak = max(peak, status(b, "VmHWM"))
	}
	b.ReportMetric(float64(st.Size())/(1<<20), "file-MB")
	b.ReportMetric(float64(before)/(1<<20), "before-MB")
	b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
	b.ReportMetric(float64(peak-before)/float64(st.Size()), "growth/file")
}

// status reads a size from /proc/self/status, in bytes.
func status(b *testing.B, key string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	b.Fatalf("no %s in /proc/self/status", key)
	return 0
}

// signUpMany adds n people at acme.test who can be imported, each with an
// account.
func signUpMany(b *testing.B, a *app, n int) {
	now := time.Now()
	for start := 0; start < n; start += 5000 {
		batch := make([]users.User, min(5000, n-start))
		for i := range batch {
			batch[i] = users.User{Email: fmt.Sprintf("person%d@acme.test", start+i), Name: fmt.Sprint("Person ", start+i),
				PasswordHash: "x", SessionsValidAfter: now, CreatedAt: now, EmailVerifiedAt: &now}
		}
		if err := a.db.CreateInBatches(batch, 500).Error; err != nil {
			b.Fatal(err)
		}
		accounts := make([]users.Account, len(batch))
		for i, u := range batch {
			accounts[i] = users.Account{ID: users.NewAccountID(), Name: "project", OwnerID: u.ID, CreatedAt: now}
		}
		if err := a.db.CreateInBatches(accounts, 500).Error; err != nil {
			b.Fatal(err)
		}
	}
}

// download saves what path answers to a file.
func download(b *testing.B, c *client, path, to string) {
	req, _ := http.NewRequest(http.MethodGet, c.app.url+path, nil)
	resp, err := c.http.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	f, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("download: %d, %v", resp.StatusCode, err)
	}
}
