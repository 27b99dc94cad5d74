package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/domains"
	"admincenter/internal/paths"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
)

var listedPattern = regexp.MustCompile(`<td class="domain"><a href="/admin/domains/\d+">([^<]+)</a>`)

// listed returns the names of the domains a Domains page lists, in order.
func listed(r response) []string {
	out := []string{}
	for _, m := range listedPattern.FindAllStringSubmatch(r.body, -1) {
		out = append(out, m[1])
	}
	return out
}

// statusCounts returns the counts above the list, as links and words.
func statusCounts(t *testing.T, r response) string {
	t.Helper()
	nav := regexpFind(t, r.body, `(?s)<nav class="status-counts"[^>]*>(.*?)</nav>`)
	var out []string
	for _, m := range regexp.MustCompile(`<a href="([^"]+)"( aria-current="true")?>([^<]+)</a>`).FindAllStringSubmatch(nav, -1) {
		current := ""
		if m[2] != "" {
			current = "*"
		}
		out = append(out, m[3]+current+" "+m[1])
	}
	return strings.Join(out, ", ")
}

// domainsFixture signs in Acme's owner with five domains, one or two of
// each status, and gives Globex domains that Acme's filters would match.
func domainsFixture(t *testing.T, db *gorm.DB) (*app, *client, map[string]int64) {
	t.Helper()
	a := newApp(t, db)
	globex := a.client()
	globex.login("owner@globex.test")
	addDomain(t, globex, "globex.test")
	addDomain(t, globex, "acme-globex.test")
	addDomain(t, globex, "bücher-globex.test")

	c := a.client()
	c.login("owner@acme.test")
	ids := map[string]int64{
		"acme.test":    verifyDomain(t, a, c, "acme.test"),
		"bücher.test":  addDomain(t, c, "bücher.test"),
		"initech.test": addDomain(t, c, "initech.test"),
		"example.test": verifyDomain(t, a, c, "example.test"),
		"eu.acme.test": addDomain(t, c, "eu.acme.test"),
	}
	db.Model(&domains.Domain{}).Where("id = ?", ids["initech.test"]).Update("status", domains.Failed)
	db.Model(&domains.Domain{}).Where("id = ?", ids["example.test"]).Updates(map[string]any{
		"status": domains.Revalidating, "deadline_at": time.Now().Add(12 * 24 * time.Hour), "revalidation_started_at": time.Now()})
	return a, c, ids
}

func TestDomainsListFilters(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		_, c, _ := domainsFixture(t, db)
		all := []string{"acme.test", "eu.acme.test", "example.test", "initech.test", "bücher.test"}
		cases := []struct {
			name, query string
			want        []string
			counts      string // the current one starred
		}{
			{"none", "", all,
				"1 verified /admin/domains?status=verified, 2 pending /admin/domains?status=pending, 1 needs re-validation /admin/domains?status=revalidating, 1 failed /admin/domains?status=failed"},
			{"name", "?name=acme", []string{"acme.test", "eu.acme.test"}, ""},
			{"name in capitals, spaced", "?name=+ACME.TEST+", []string{"acme.test", "eu.acme.test"}, ""},
			{"Unicode name", "?name=BÜCH", []string{"bücher.test"}, ""},
			{"A-label", "?name=xn--bcher", []string{"bücher.test"}, ""},
			{"wildcards are letters", "?name=" + url.QueryEscape("%_"), []string{}, ""},
			{"status", "?status=pending", []string{"eu.acme.test", "bücher.test"},
				"1 verified /admin/domains?status=verified, 2 pending* /admin/domains?status=pending, 1 needs re-validation /admin/domains?status=revalidating, 1 failed /admin/domains?status=failed"},
			{"re-validation", "?status=revalidating", []string{"example.test"}, ""},
			{"name and status", "?name=acme&status=pending", []string{"eu.acme.test"}, ""},
			{"empty values", "?name=&status=", all, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := c.get("/admin/domains" + tc.query)
				r.want(t, http.StatusOK, "5 of 100 domains")
				if got := listed(r); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("listed %v, want %v", got, tc.want)
				}
				if strings.Contains(r.body, "globex") {
					t.Error("another organization's domain is shown")
				}
				if tc.counts != "" {
					if got := statusCounts(t, r); got != tc.counts {
						t.Errorf("counts %s\nwant   %s", got, tc.counts)
					}
				}
				if len(tc.want) > 0 && len(tc.want) < len(all) {
					r.want(t, http.StatusOK, fmt.Sprintf("Showing %d of 5 domains.", len(tc.want)), `href="/admin/domains">Clear filters</a>`)
				}
			})
		}

		// The form keeps what it applies, so that the address can be kept.
		r := c.get("/admin/domains?name=acme&status=pending")
		r.want(t, http.StatusOK, `name="name" type="search" value="acme"`, `<option value="pending" selected>`)
		if !reflect.DeepEqual(listed(c.get(paths.DomainsWhere("acme", "pending"))), listed(r)) {
			t.Error("the link to a filtered list is not that list")
		}

		// An empty result says so and offers to clear.
		c.get("/admin/domains?name=nowhere").want(t, http.StatusOK, "No domains match", "No domain's name contains “nowhere”.", "Clear filters")
		c.get("/admin/domains?status=failed&name=acme").want(t, http.StatusOK, "No domain with the status “Verification failed” has a name containing “acme”.")
	})
}

// A filter the list cannot apply is named next to its field, and the
// list is shown without it.
func TestDomainsListBadFilters(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		_, c, _ := domainsFixture(t, db)
		cases := []struct {
			name, query string
			want        []string
			fragments   []string
		}{
			{"unknown status", "?status=gone&name=acme", []string{"acme.test", "eu.acme.test"},
				[]string{`<select id="f-status" name="status" aria-invalid="true" aria-describedby="f-status-error">`, `id="f-status-error">There is no status "gone": choose one from the list.</p>`}},
			{"control character", "?name=acme%00&status=verified", []string{"acme.test"},
				[]string{`aria-invalid="true"`, `id="f-name-error">A search cannot contain control characters (found U+0000).</p>`}},
			{"escape", "?name=%1B%5B31m", []string{"acme.test", "eu.acme.test", "example.test", "initech.test", "bücher.test"},
				[]string{"A search cannot contain control characters (found U+001B)."}},
			{"not text", "?name=%FF%FE&status=%FF", []string{"acme.test", "eu.acme.test", "example.test", "initech.test", "bücher.test"},
				[]string{"A search must be text: it contains bytes that are not valid UTF-8.", "There is no status \"\ufffd\""}},
			{"status in capitals", "?status=VERIFIED", []string{"acme.test", "eu.acme.test", "example.test", "initech.test", "bücher.test"},
				[]string{`There is no status "VERIFIED"`}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := c.get("/admin/domains" + tc.query)
				r.want(t, http.StatusOK, append(tc.fragments, "5 of 100 domains", "Clear filters")...)
				if got := listed(r); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("listed %v, want %v", got, tc.want)
				}
			})
		}
	})
}

// verifyForm returns the method a row's check sends and its button: the
// button posts the list's one verify form, with its CSRF token, to the
// row's domain.
func verifyForm(t *testing.T, r response, id int64) (method, button string) {
	t.Helper()
	regexpFind(t, r.body, `<form id="verify-domain" method="post"[^>]*>\s*<input type="hidden" name="_csrf" value="([^"]+)"`)
	m := regexp.MustCompile(fmt.Sprintf(`<button [^>]*type="submit" form="verify-domain" formaction="/admin/domains/%d/verify" name="method" value="([a-z]+)"[^>]*>([^<]+)</button>`, id)).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no Verify button for %d in:\n%s", id, r.body)
	}
	return m[1], m[2]
}

// follow goes where a redirect leads, as a browser would.
func follow(t *testing.T, c *client, r response) response {
	t.Helper()
	if r.status != http.StatusSeeOther {
		t.Fatalf("status %d, want a redirect:\n%s", r.status, r.body)
	}
	return c.get(r.location)
}

// A row's Verify Domain (Check now, once verified) checks the domain by
// its method and lands on the domain's page with the outcome.
func TestDomainsListRowVerify(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		c := a.client()
		c.login("owner@acme.test")
		byDNS := verifyDomain(t, a, c, "acme.test")
		byFile := addDomain(t, c, "example.test")
		d := a.domain(byFile)
		a.serve("/"+d.FileName, string(d.FileContent()))
		c.post(paths.DomainVerify(byFile), url.Values{"method": {"https"}}).want(t, http.StatusSeeOther)
		pending := addDomain(t, c, "initech.test")

		list := c.get(paths.Domains)
		rows := []struct {
			id             int64
			method, button string
			lands          string
			outcome        string
		}{
			{byDNS, "dns", "Check now", paths.Domain(byDNS), "acme.test is verified"},
			{byFile, "https", "Check now", paths.Domain(byFile), "example.test is verified"},
			{pending, "dns", "Verify Domain", paths.DomainTab(pending, "dns") + "#last-check", "Not verified yet"},
		}
		for _, row := range rows {
			method, button := verifyForm(t, list, row.id)
			if method != row.method || button != row.button {
				t.Errorf("row %d: %s %s, want %s %s", row.id, button, method, row.button, row.method)
			}
			r := c.post(paths.DomainVerify(row.id), url.Values{"method": {method}})
			if r.location != row.lands {
				t.Errorf("%s led to %s, want %s", button, r.location, row.lands)
			}
			follow(t, c, r).want(t, http.StatusOK, row.outcome)
		}

		// Once proven, the pending domain's row checks it by the proof found.
		a.dns.Add(t, `_twilio.initech.test. 300 IN TXT "`+a.domain(pending).Token+`"`)
		follow(t, c, c.post(paths.DomainVerify(pending), url.Values{"method": {"dns"}})).want(t, http.StatusOK, "initech.test is verified")
		if method, button := verifyForm(t, c.get(paths.Domains), pending); method != "dns" || button != "Check now" {
			t.Errorf("verified row: %s %s", button, method)
		}
	})
}

// A row's Delete Domain opens the list's one dialog, filled in with that
// domain (app.js), whose form deletes only once its box is ticked.
func TestDomainsListRowDelete(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a, c, ids := domainsFixture(t, db)
		id := ids["bücher.test"]
		list := c.get(paths.Domains)
		list.want(t, http.StatusOK,
			fmt.Sprintf(`data-dialog-open="delete-domain" data-dialog-action="/admin/domains/%d/delete" data-dialog-title="Delete bücher.test?" data-dialog-fill="bücher.test" aria-label="Delete Domain bücher.test">Delete Domain</button>`, id),
			`<dialog id="delete-domain" aria-labelledby="delete-domain-title">`,
			`<input type="checkbox" id="delete-domain-ack-0" name="ack" value="0" required>`,
			"I understand what deleting this domain does.", "stay in Acme Corp")
		if n := strings.Count(list.body, "<dialog "); n != 1 {
			t.Errorf("%d dialogs for 5 rows, want the one they share", n)
		}

		c.post(paths.DomainDelete(id), nil).want(t, http.StatusUnprocessableEntity, "Nothing was deleted")
		c.post(paths.DomainDelete(id), url.Values{"ack": {"1"}}).want(t, http.StatusUnprocessableEntity, "Nothing was deleted")
		a.domain(id)

		r := c.post(paths.DomainDelete(id), url.Values{"ack": {"0"}})
		if r.location != paths.Domains {
			t.Fatalf("deleted, then led to %q", r.location)
		}
		after := follow(t, c, r)
		after.want(t, http.StatusOK, "bücher.test was deleted.", "4 of 100 domains", `href="/admin/domains?status=pending">1 pending</a>`)
		if got := listed(after); !reflect.DeepEqual(got, []string{"acme.test", "eu.acme.test", "example.test", "initech.test"}) {
			t.Errorf("listed %v", got)
		}
		if strings.Contains(after.body, fmt.Sprintf(`id="delete-%d"`, id)) {
			t.Error("the deleted domain's dialog is still there")
		}
		// Globex's bücher-globex.test stays, and is Globex's only.
		var n int64
		db.Model(&domains.Domain{}).Where("unicode_name = ?", "bücher-globex.test").Count(&n)
		if n != 1 {
			t.Errorf("%d bücher-globex.test left", n)
		}
	})
}

// An organization's list never shows another's domains, nor counts them.
func TestDomainsListIsTheOrganizations(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a, _, _ := domainsFixture(t, db)
		globex := a.client()
		globex.login("owner@globex.test")
		for _, query := range []string{"", "?name=acme", "?name=b%C3%BCcher", "?status=pending"} {
			r := globex.get("/admin/domains" + query)
			r.want(t, http.StatusOK, "3 of 100 domains", "0 verified", "3 pending", "0 need re-validation", "0 failed")
			for _, name := range listed(r) {
				if !strings.Contains(name, "globex") {
					t.Errorf("Globex sees %s at %s", name, query)
				}
			}
		}
		if got := listed(globex.get("/admin/domains?name=acme")); !reflect.DeepEqual(got, []string{"acme-globex.test"}) {
			t.Errorf("Globex's acme: %v", got)
		}
	})
}

// A domain deleted at the end of its grace period leaves a notice on the
// Domains list for a while: what happened, how many users were removed,
// and how to get them back.
func TestDomainsListTellsOfAnExpiry(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		c := a.client()
		c.login("owner@acme.test")
		org := a.user("owner@acme.test").OrgID()
		now := time.Now()
		recent := a.expired(org, "labs.test", now.Add(-time.Hour), "sam@acme.test", "admin@acme.test")
		a.expired(org, "old.test", now.AddDate(0, -1, 0))
		db.Model(&domains.Removal{}).Where("expiry_id = ? AND email = ?", recent.ID, "admin@acme.test").Update("readded_at", now)
		r := c.get("/admin/domains")
		r.want(t, http.StatusOK, "labs.test was deleted",
			"the managed users at it (2 users) were removed from your organization. They keep their logins.",
			"Add labs.test again", "its page then offers to add back the 1 user not back yet.")
		if strings.Contains(r.body, "old.test was deleted") {
			t.Error("an expiry of a month ago is still told")
		}
		db.Model(&domains.Removal{}).Where("expiry_id = ?", recent.ID).Update("readded_at", now)
		if strings.Contains(c.get("/admin/domains").body, "labs.test was deleted") {
			t.Error("the notice stays once everyone is back")
		}
	})
}

// expired records what the end of a grace period leaves: the domain name
// of org deleted at, and these people removed (by the email of a user).
func (a *app) expired(org int64, name string, at time.Time, emails ...string) domains.Expiry {
	a.t.Helper()
	done := at.Add(time.Minute)
	e := domains.Expiry{OrganizationID: org, DomainName: name, UnicodeName: name, DeadlineAt: at, StartedAt: at, FinishedAt: &done}
	if err := a.db.Create(&e).Error; err != nil {
		a.t.Fatal(err)
	}
	for _, email := range emails {
		u := a.user(email)
		r := domains.Removal{ExpiryID: e.ID, UserID: u.ID, Email: email, Name: u.Name, Role: users.Standard, Outcome: "removed", DoneAt: &done}
		if err := a.db.Create(&r).Error; err != nil {
			a.t.Fatal(err)
		}
	}
	return e
}

// After an expiry, the way back is told at each step: the list says to add
// the domain again, then to verify it; its page lists who would come back
// and offers to add them back once it is verified.
func TestAddBackAfterAnExpiry(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		c := a.client()
		c.login("owner@acme.test")
		org := a.user("owner@acme.test").OrgID()
		a.expired(org, "initech.test", time.Now().Add(-time.Hour), "ava.adams@acme.test", "ben.adams@acme.test")
		c.get("/admin/domains").wantText(t, "They keep their logins. Add initech.test again and verify it: its page then offers to add back the 2 users not back yet.")

		id := addDomain(t, c, "initech.test")
		page := fmt.Sprintf("/admin/domains/%d", id)
		list := c.get("/admin/domains")
		list.want(t, http.StatusOK, `<a href="`+page+`">verify it</a>`)
		list.wantText(t, "initech.test is added again: verify it, and its page then offers to add back the 2 users not back yet.")
		r := c.get(page)
		r.wantText(t, "Add back the users removed before", "2 managed users removed from Acme Corp when initech.test expired on",
			"Ava Adams <ava.adams@acme.test>", "Ben Adams <ben.adams@acme.test>", "Once initech.test is verified again, you can add them back here.")
		if strings.Contains(r.body, "/add-back") {
			t.Error("a domain not verified offers to add its users back")
		}

		d := a.domain(id)
		a.serve("/"+d.FileName, string(d.FileContent()))
		c.post(page+"/verify", url.Values{"method": {"https"}}).want(t, http.StatusSeeOther)
		list = c.get("/admin/domains")
		list.want(t, http.StatusOK, `<a href="`+page+`">add back the 2 users</a>`)
		list.wantText(t, "initech.test is verified again: add back the 2 users not back yet on its page.")
		c.get(page).want(t, http.StatusOK, "Add back 2 users removed on")
		r = follow(t, c, c.post(page+"/add-back", nil))
		r.want(t, http.StatusOK, "Added back and emailed: 2 users.")
		if strings.Contains(c.get("/admin/domains").body, "initech.test was deleted") {
			t.Error("the notice stays once everyone is back")
		}
		if !a.user("ava.adams@acme.test").Managed() {
			t.Error("Ava was not added back")
		}
	})
}

// A signed-in page reads the session, the person, their organization and
// whether it has anything to warn about in one statement; the Domains list
// then reads its domains in one more. A domain in re-validation brings its
// banner back, and a lately deleted domain its notice.
func TestDomainsPageReadsInTwoStatements(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		c := a.client()
		c.login("owner@acme.test")
		addDomain(t, c, "initech.test")
		c.get(paths.Domains) // shows, and so forgets, the flash that saves the session
		n := testdb.CountStatements(t, db)
		c.get(paths.Domains).want(t, http.StatusOK, "initech.test")
		if got := n.Load(); got != 2 {
			t.Errorf("the Domains page ran %d statements, want 2", got)
		}

		db.Model(&domains.Domain{}).Where("name = ?", "initech.test").Updates(map[string]any{
			"status": domains.Revalidating, "deadline_at": time.Now().Add(12 * 24 * time.Hour), "revalidation_started_at": time.Now()})
		c.get(paths.Users).want(t, http.StatusOK, "initech.test needs re-validation")
		c.get(paths.Domains).want(t, http.StatusOK, "initech.test needs re-validation")
	})
}
