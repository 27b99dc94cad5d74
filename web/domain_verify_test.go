package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/domains"
	"admincenter/internal/testdb"
)

// A click on the tab of the method nobody used, while the check of the
// proof in place cannot be completed, leaves the domain verified and says
// so: why, and from when failing checks would count as a missing proof.
func TestVerifyClickDuringAnOutageSaysTheDomainStaysVerified(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		c := a.client()
		c.login("owner@acme.test")
		id := addDomain(t, c, "initech.test")
		d := a.domain(id)
		a.serve("/"+d.FileName, string(d.FileContent()))
		c.post(fmt.Sprintf("/admin/domains/%d/verify", id), url.Values{"method": {"https"}}).want(t, http.StatusSeeOther)
		if got := a.domain(id); got.Status != domains.Verified {
			t.Fatalf("status %s after the file was found", got.Status)
		}

		a.serveStatus("/"+d.FileName, http.StatusServiceUnavailable, "down for maintenance")
		r := c.post(fmt.Sprintf("/admin/domains/%d/verify", id), url.Values{"method": {"dns"}})
		r.want(t, http.StatusSeeOther)
		got := a.domain(id)
		if got.Status != domains.Verified || got.InconclusiveSince == nil {
			t.Fatalf("after a click during the outage: %s, inconclusive since %v", got.Status, got.InconclusiveSince)
		}
		from := got.InconclusiveSince.Add(72 * time.Hour).UTC().Format("2 Jan 2006 15:04 UTC")
		c.get(r.location).want(t, http.StatusOK,
			"initech.test stays verified: the check of its HTML file could not be completed.",
			"answered 503 Service Unavailable.",
			"If the checks keep failing, from "+from+" they count as a missing proof and re-validation starts.")
		// The list tells of the outage too, under the status.
		if !regexp.MustCompile(`Verified</span>\s*<div class="small warn-text">\s*Checks failing since\s*<time datetime="`).MatchString(c.get("/admin/domains").body) {
			t.Error("the Domains list does not tell that the checks of a verified domain fail")
		}
	})
}

// A page that answers 200 without the token is quoted, with its size and
// type, beside the expected value.
func TestVerifyQuotesThePageWithoutTheToken(t *testing.T) {
	a := newApp(t, testdb.SQLite(t))
	c := a.client()
	c.login("owner@acme.test")
	id := addDomain(t, c, "initech.test")
	d := a.domain(id)
	a.serve("/"+d.FileName, "<html><body>Welcome to <b>Initech</b>\x00</body></html>"+strings.Repeat(" ", 300))
	r := c.post(fmt.Sprintf("/admin/domains/%d/verify", id), url.Values{"method": {"https"}})
	r.want(t, http.StatusSeeOther)
	c.get(strings.TrimSuffix(r.location, "#last-check")).want(t, http.StatusOK,
		"but the page (352 bytes, text/html; charset=utf-8) does not contain the token "+d.Token+". It begins: ",
		"The page begins",
		`<p class="mono break">"<html><body>Welcome to <b>Initech</b>\x00</body></html> `, // the client unescapes the page
		"Expected: <span class=\"mono break\">"+d.Token+"</span>")
}
