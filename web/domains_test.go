package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gorm.io/gorm"

	"admincenter/internal/domains"
	"admincenter/internal/testdb"
)

// addDomain adds a domain as c and returns its id.
func addDomain(t testing.TB, c *client, name string) int64 {
	t.Helper()
	r := c.post("/admin/domains/new", url.Values{"name": {name}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("add %s: %d\n%s", name, r.status, r.body)
	}
	var id int64
	fmt.Sscanf(r.location, "/admin/domains/%d", &id)
	return id
}

func (a *app) domain(id int64) domains.Domain {
	a.t.Helper()
	var d domains.Domain
	if err := a.db.Take(&d, id).Error; err != nil {
		a.t.Fatal(err)
	}
	return d
}

func TestDomainRoutesAuthorization(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		globex := a.client()
		globex.login("owner@globex.test")
		theirs := addDomain(t, globex, "globex.test")

		owner := a.client()
		owner.login("owner@acme.test")
		mine := addDomain(t, owner, "acme.test")
		for _, path := range []string{"/admin/domains/%d", "/admin/domains/%d/verification-file"} {
			owner.get(fmt.Sprintf(path, theirs)).want(t, http.StatusNotFound)
			owner.get(fmt.Sprintf(path, mine)).want(t, http.StatusOK)
		}
		owner.post(fmt.Sprintf("/admin/domains/%d/verify", theirs), url.Values{"method": {"dns"}}).want(t, http.StatusNotFound)
		owner.post(fmt.Sprintf("/admin/domains/%d/delete", theirs), url.Values{"ack": {"0"}}).want(t, http.StatusNotFound)
		if a.domain(theirs).Name != "globex.test" {
			t.Fatal("another organization's domain changed")
		}

		std := a.client()
		std.login("sam@acme.test")
		for _, path := range []string{"/admin/domains", "/admin/domains/new", fmt.Sprintf("/admin/domains/%d", mine), fmt.Sprintf("/admin/domains/%d/verification-file", mine)} {
			std.get(path).want(t, http.StatusForbidden)
		}
		std.post("/admin/domains/new", url.Values{"name": {"sneaky.test"}}).want(t, http.StatusForbidden)
		std.post(fmt.Sprintf("/admin/domains/%d/verify", mine), url.Values{"method": {"dns"}}).want(t, http.StatusForbidden)
		std.post(fmt.Sprintf("/admin/domains/%d/delete", mine), url.Values{"ack": {"0"}}).want(t, http.StatusForbidden)
		owner.get("/admin/domains/abc").want(t, http.StatusNotFound)
	})
}

func TestAddDomainRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		globex := a.client()
		globex.login("owner@globex.test")
		id := addDomain(t, globex, "globex.test")
		a.dns.Add(t, `_twilio.globex.test. 300 IN TXT "`+a.domain(id).Token+`"`)
		globex.post(fmt.Sprintf("/admin/domains/%d/verify", id), url.Values{"method": {"dns"}}).want(t, http.StatusSeeOther)

		c := a.client()
		c.login("admin@acme.test")
		addDomain(t, c, "acme.test")
		cases := []struct{ input, want string }{
			{"", "Enter a domain name"},
			{"https://acme.test/", "without https://"},
			{"bad_name.test", "not allowed in a domain name"},
			{strings.Repeat("a", 64) + ".test", "at most 63 characters"},
			{strings.Repeat("abcdefghi.", 26) + "test", "at most 253 characters"},
			{"localhost", "full domain name with a dot"},
			{"192.0.2.10", "is an IP address"},
			{"co.uk", "public suffix"},
			{"github.io", "public suffix"},
			{"gmail.com", "common email provider"},
			{"www.initech.test", "bare domain without www: initech.test"},
			{"ACME.test.", "already one of your organization's domains"},
			{"globex.test", "verified by another organization"},
		}
		var before int64
		db.Model(&domains.Domain{}).Count(&before)
		for _, tc := range cases {
			r := c.post("/admin/domains/new", url.Values{"name": {tc.input}})
			r.want(t, http.StatusUnprocessableEntity, tc.want, `aria-invalid="true"`, "Save & continue")
		}
		var after int64
		db.Model(&domains.Domain{}).Count(&after)
		if after != before {
			t.Fatalf("refusals created %d domains", after-before)
		}
		// Unicode input is stored as its A-label and shown in both forms.
		id = addDomain(t, c, " Bücher.TEST ")
		if d := a.domain(id); d.Name != "xn--bcher-kva.test" || d.UnicodeName != "bücher.test" {
			t.Fatalf("stored %q / %q", d.Name, d.UnicodeName)
		}
		c.get("/admin/domains").want(t, http.StatusOK, "bücher.test", "xn--bcher-kva.test", "2 of 100 domains")
	})
}

func TestVerificationFileDownload(t *testing.T) {
	a := newApp(t, testdb.SQLite(t))
	c := a.client()
	c.login("owner@acme.test")
	id := addDomain(t, c, "acme.test")
	d := a.domain(id)
	r := c.get(fmt.Sprintf("/admin/domains/%d/verification-file", id))
	r.want(t, http.StatusOK, d.Token)
	if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="`+d.FileName+`"` {
		t.Fatalf("Content-Disposition %q", cd)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
}

func TestDeleteDomainNeedsAcknowledgements(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		c := a.client()
		c.login("owner@acme.test")
		id := addDomain(t, c, "acme.test")
		c.post(fmt.Sprintf("/admin/domains/%d/delete", id), nil).want(t, http.StatusUnprocessableEntity, "Nothing was deleted")
		c.post(fmt.Sprintf("/admin/domains/%d/delete", id), url.Values{"ack": {"1"}}).want(t, http.StatusUnprocessableEntity, "Nothing was deleted")
		a.domain(id)
		c.post(fmt.Sprintf("/admin/domains/%d/delete", id), url.Values{"ack": {"0"}}).want(t, http.StatusSeeOther)
		var n int64
		db.Model(&domains.Domain{}).Where("id = ?", id).Count(&n)
		if n != 0 {
			t.Fatal("not deleted")
		}
		if !a.user("sam@acme.test").Managed() {
			t.Fatal("deleting a domain removed a managed user")
		}
		c.get("/admin/audit").want(t, http.StatusOK, "domain.deleted")
	})
}
