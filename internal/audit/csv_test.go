package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/audit"
	"admincenter/internal/testdb"
)

func TestWriteCSV(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		a, b := seedLog(t, db)
		at := time.Date(2026, 3, 6, 8, 30, 0, 0, time.UTC)
		ada := audit.Actor{ID: 7, Email: "ada@acme.test"}
		bob := audit.Target{Type: "user", ID: "17", Label: "bob@acme.test"}
		for _, details := range []string{`=HYPERLINK("http://evil.test","click")`, "+1", "-1", "@SUM(A1)", "\tx", "line one\nline \"two\", with a comma"} {
			if err := audit.Record(db, at, a, ada, "member.role_changed", bob, details); err != nil {
				t.Fatal(err)
			}
		}
		if err := audit.Record(db, at, a, audit.Actor{Email: "=cmd|' /C calc'!A0"}, "made.up", audit.Target{Type: "user", ID: "1", Label: "-x"}, ""); err != nil {
			t.Fatal(err)
		}
		log := &audit.Log{DB: db}
		var out bytes.Buffer
		if err := log.WriteCSV(ctx, &out, a, audit.Filter{Actor: "ada", From: day("2026-03-06")}); err != nil {
			t.Fatal(err)
		}
		// A line break in a cell is written CRLF too, as RFC 4180 has it.
		want := "time_utc,actor,action,action_code,target_type,target_id,target,details\r\n" +
			"2026-03-06T08:30:00Z,ada@acme.test,Role changed,member.role_changed,user,17,bob@acme.test,\"line one\r\nline \"\"two\"\", with a comma\"\r\n" +
			"2026-03-06T08:30:00Z,ada@acme.test,Role changed,member.role_changed,user,17,bob@acme.test,'\tx\r\n" +
			"2026-03-06T08:30:00Z,ada@acme.test,Role changed,member.role_changed,user,17,bob@acme.test,'@SUM(A1)\r\n" +
			"2026-03-06T08:30:00Z,ada@acme.test,Role changed,member.role_changed,user,17,bob@acme.test,'-1\r\n" +
			"2026-03-06T08:30:00Z,ada@acme.test,Role changed,member.role_changed,user,17,bob@acme.test,'+1\r\n" +
			"2026-03-06T08:30:00Z,ada@acme.test,Role changed,member.role_changed,user,17,bob@acme.test,\"'=HYPERLINK(\"\"http://evil.test\"\",\"\"click\"\")\"\r\n"
		if out.String() != want {
			t.Errorf("CSV:\n%q\nwant\n%q", out.String(), want)
		}

		// Unfiltered: every entry of the organization, newest first, and
		// none of the other's; an unknown action keeps its code.
		out.Reset()
		if err := log.WriteCSV(ctx, &out, a, audit.Filter{}); err != nil {
			t.Fatal(err)
		}
		rows := readCSV(t, out.String())
		if len(rows) != 1+10+7 {
			t.Fatalf("%d rows, want a header and 17 entries:\n%s", len(rows), out.String())
		}
		if got := rows[1]; !slices.Equal(got, []string{"2026-03-06T08:30:00Z", "'=cmd|' /C calc'!A0", "made.up", "made.up", "user", "1", "'-x", ""}) {
			t.Errorf("newest row %q", got)
		}
		if got := rows[len(rows)-1]; !slices.Equal(got, []string{"2026-03-01T00:00:00Z", "ada@acme.test", "Domain added", "domain.added", "domain", "5", "acme.test", "token issued"}) {
			t.Errorf("oldest row %q", got)
		}
		if strings.Contains(out.String(), "another organization's") || strings.Contains(out.String(), "globex") {
			t.Errorf("another organization's entry is in the CSV:\n%s", out.String())
		}

		// The other organization gets its own only.
		out.Reset()
		if err := log.WriteCSV(ctx, &out, b, audit.Filter{}); err != nil {
			t.Fatal(err)
		}
		if rows := readCSV(t, out.String()); len(rows) != 2 || rows[1][7] != "another organization's" {
			t.Errorf("the other organization's CSV: %q", rows)
		}
	})
}

// The CSV is streamed: it reads the log a page at a time and writes each
// page before it reads the next, so that a long log is never held whole.
func TestWriteCSVStreams(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		clk := newClock()
		org := newOrg(t, db, "Acme", clk.Now())
		other := newOrg(t, db, "Globex", clk.Now())
		const n = 2345
		var entries []audit.Entry
		for i := range n {
			clk.Advance(time.Second)
			target := audit.Target{Type: "user", ID: fmt.Sprint(i), Label: fmt.Sprintf("user%d@acme.test", i)}
			entries = append(entries, audit.NewEntry(clk.Now(), org, audit.System, "user.imported", target, fmt.Sprint("#", i)))
			if i%100 == 0 {
				entries = append(entries, audit.NewEntry(clk.Now(), other, audit.System, "user.imported", target, "other"))
			}
		}
		if err := audit.RecordAll(db, entries); err != nil {
			t.Fatal(err)
		}
		var queries atomic.Int32
		err := db.Callback().Query().After("gorm:query").Register("test:count_audit_queries", func(tx *gorm.DB) {
			if tx.Statement.Table == "audit_log" {
				queries.Add(1)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		w := &firstWrite{queries: &queries}
		if err := (&audit.Log{DB: db}).WriteCSV(ctx, w, org, audit.Filter{Action: "user.imported"}); err != nil {
			t.Fatal(err)
		}
		if got := queries.Load(); got != 3 {
			t.Errorf("%d queries for %d entries, want 3 pages", got, n)
		}
		if w.queriesBefore != 1 {
			t.Errorf("the first bytes were written after %d queries, want 1: the CSV is not streamed", w.queriesBefore)
		}
		rows := readCSV(t, w.buf.String())
		if len(rows) != n+1 {
			t.Fatalf("%d rows, want %d", len(rows), n+1)
		}
		for i, r := range rows[1:] {
			if want := fmt.Sprint("#", n-1-i); r[7] != want {
				t.Fatalf("row %d is %q, want details %s: entries lost, repeated or out of order across pages", i+1, r, want)
			}
		}
	})
}

// firstWrite keeps what is written, and how many queries had been made
// when the first bytes came.
type firstWrite struct {
	buf           bytes.Buffer
	queries       *atomic.Int32
	queriesBefore int32
}

func (w *firstWrite) Write(p []byte) (int, error) {
	if w.buf.Len() == 0 {
		w.queriesBefore = w.queries.Load()
	}
	return w.buf.Write(p)
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, s)
	}
	return rows
}
