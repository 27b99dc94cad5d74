package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"admincenter/internal/imports"
	"admincenter/internal/testdb"
)

// The pages of the hardening fixes, in a browser at desktop and phone
// widths: a click during an outage that leaves a domain verified, a page
// quoted without the token, and an upload over the limit, which must get
// the product's page (not a dropped connection). None scrolls sideways.
func TestBrowserHardenedPages(t *testing.T) {
	a := newApp(t, testdb.SQLite(t))
	c := a.client()
	c.login("owner@acme.test")
	report, _ := readyReport(t, a, c)

	byFile := addDomain(t, c, "initech.test")
	d := a.domain(byFile)
	a.serve("/"+d.FileName, string(d.FileContent()))
	c.post(fmt.Sprintf("/admin/domains/%d/verify", byFile), url.Values{"method": {"https"}}).want(t, http.StatusSeeOther)
	a.serveStatus("/"+d.FileName, http.StatusServiceUnavailable, "down")

	wrong := addDomain(t, c, "example.test")
	w := a.domain(wrong)
	a.serve("/"+w.FileName, "<!doctype html><title>Example</title><p>Welcome to our site. "+strings.Repeat("Lorem ipsum dolor sit amet. ", 40))

	big := filepath.Join(t.TempDir(), "too-big.csv")
	if err := os.WriteFile(big, make([]byte, imports.UploadLimit+1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{1280, 390} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			b := newTab(t, a)
			if width < 1280 {
				b.narrow()
			}
			b.signIn("owner@acme.test")
			fits := func(page string) {
				t.Helper()
				b.inspect("hardened-" + page)
			}

			b.open(fmt.Sprintf("/admin/domains/%d?tab=dns", byFile))
			b.press("Verify Domain")
			b.waitText("initech.test stays verified: the check of its HTML file could not be completed.")
			b.waitText("they count as a missing proof and re-validation starts.")
			fits("verified-during-outage")

			b.open(fmt.Sprintf("/admin/domains/%d?tab=https", wrong))
			b.press("Verify Domain")
			b.waitText("Not verified yet.") // a notice of this click: the page of the last one says the rest
			b.waitText("The page begins")
			b.waitText("does not contain the token " + w.Token)
			fits("page-without-token")

			b.open(report)
			b.do(chromedp.SetUploadFiles(chromedp.ID("f-file"), []string{big}))
			b.press("Upload edited file")
			b.waitText("The file is larger than 64 MB")
			b.waitText("Sign out")
			fits("upload-too-large")
		})
	}
}
