package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/domains"
	"admincenter/internal/mail"
	"admincenter/internal/paths"
	"admincenter/internal/testdb"
	"admincenter/internal/testpeople"
	"admincenter/internal/users"
)

var atRiskEmailPattern = regexp.MustCompile(`(?s)<tr>\s*<td><a href="/admin/users/\d+">[^<]*</a></td>\s*<td>([^<]+)</td>`)

// atRiskListed returns the emails a page of the users at risk lists.
func atRiskListed(r response) []string {
	out := []string{}
	for _, m := range atRiskEmailPattern.FindAllStringSubmatch(r.body, -1) {
		out = append(out, m[1])
	}
	return out
}

// The page of the users at risk and its CSV list, and the domain's page,
// the banner and the emails count, the users the expiry then removes: the
// managed users at acme.test or under it, but not the Owner nor anyone
// also at another verified domain.
func TestAtRiskIsWhoTheExpiryRemoves(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		c := a.client()
		c.login("owner@acme.test")
		org := a.user("owner@acme.test").OrgID()
		acme := verifyDomain(t, a, c, "acme.test")
		verifyDomain(t, a, c, "eu.acme.test")
		people := testpeople.Maker{DB: db, Now: time.Now}
		people.Member(t, a.user("ava.adams@acme.test"), org, users.Standard)
		sue := people.Member(t, people.Person(t, "sue@sales.acme.test", true, 1), org, users.Admin)
		db.Model(&sue).Update("name", `=HYPERLINK("https://evil.test","Sue")`)
		eve := people.Member(t, people.Person(t, "eve@eu.acme.test", true, 1), org, users.Standard)
		want := []string{"admin@acme.test", "ava.adams@acme.test", "sam@acme.test", "sue@sales.acme.test"}

		a.dns.Remove("_twilio.acme.test")
		c.post(paths.DomainVerify(acme), url.Values{"method": {"dns"}}).want(t, http.StatusSeeOther)
		if d := a.domain(acme); d.Status != domains.Revalidating {
			t.Fatalf("acme.test is %s", d.Status)
		}

		link := fmt.Sprintf(`<a href="%s">4 users</a>`, paths.AtRisk(acme))
		c.get(paths.Domain(acme)).want(t, http.StatusOK, link)
		c.get(paths.Users).want(t, http.StatusOK, "4 managed users will be removed then.", fmt.Sprintf(`<a href="%s">See who</a>`, paths.AtRisk(acme)))

		r := c.get(paths.AtRisk(acme))
		r.want(t, http.StatusOK, "Sam's Sandbox", "Acme Support Line", `<a class="btn secondary" href="`+paths.AtRiskCSV(acme)+`" download>`)
		r.wantText(t, "Domains › acme.test › Users at risk", "Re-validation required · 30 days left",
			"acme.test is deleted from Acme Corp, and the 4 managed users below are removed from it.",
			"4 users · page 1 of 1")
		if got := atRiskListed(r); !slices.Equal(got, want) {
			t.Fatalf("the page lists %q, want %q", got, want)
		}
		if strings.Contains(r.body, "needs re-validation:") {
			t.Error("the page repeats the banner about its own domain")
		}

		r = c.get(paths.AtRiskCSV(acme))
		r.want(t, http.StatusOK)
		if got, want := r.header.Get("Content-Disposition"), "attachment; filename=acme.test-at-risk-"+time.Now().UTC().Format("2006-01-02")+".csv"; got != want {
			t.Errorf("Content-Disposition %q, want %q", got, want)
		}
		if got := r.header.Get("Content-Type"); got != "text/csv; charset=utf-8" {
			t.Errorf("Content-Type %q", got)
		}
		rows := csvRows(t, r.body)
		var listed []string
		for _, row := range rows[1:] {
			listed = append(listed, row[1])
		}
		if strings.Join(rows[0], ",") != "user_id,email,name,role,status,accounts,account_ids,account_names" || !slices.Equal(listed, want) {
			t.Fatalf("CSV %q", rows)
		}
		if row := rows[4]; row[2] != `'=HYPERLINK("https://evil.test","Sue")` || row[3] != "Administrator" || row[5] != "1" {
			t.Errorf("sue's row %q: the name must not run as a formula", row)
		}

		var m mail.Message
		db.Where("recipient = ? AND subject = ?", "owner@acme.test", "Action needed: re-validate acme.test").Take(&m)
		for _, s := range []string{"(4 users) will be removed", a.url + paths.AtRisk(acme)} {
			if !strings.Contains(m.Body, s) {
				t.Errorf("the email lacks %q:\n%s", s, m.Body)
			}
		}

		db.Model(&domains.Domain{}).Where("id = ?", acme).Update("deadline_at", time.Now().Add(-time.Second))
		if _, err := a.svc.Domains.RunDue(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		var removed []string
		db.Model(&domains.Removal{}).Where("outcome = 'removed'").Order("email").Pluck("email", &removed)
		if !slices.Equal(removed, want) {
			t.Fatalf("the expiry removed %q; the page listed %q", removed, want)
		}
		for _, email := range want {
			if a.user(email).Managed() {
				t.Errorf("%s is still managed", email)
			}
		}
		for _, u := range []users.User{a.user("owner@acme.test"), eve} {
			if !a.user(u.Email).Managed() {
				t.Errorf("%s was removed", u.Email)
			}
		}
		c.get(paths.AtRisk(acme)).want(t, http.StatusNotFound)
	})
}

// The list is the domain's page's: for its organization's Owner and
// Administrators only. A domain that is not in re-validation has a page
// saying that nobody is at risk.
func TestAtRiskAuthorization(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		globex := a.client()
		globex.login("owner@globex.test")
		theirs := verifyDomain(t, a, globex, "globex.test")
		a.dns.Remove("_twilio.globex.test")
		globex.post(paths.DomainVerify(theirs), url.Values{"method": {"dns"}}).want(t, http.StatusSeeOther)

		admin := a.client()
		admin.login("admin@acme.test")
		verified := verifyDomain(t, a, admin, "acme.test")
		pending := addDomain(t, admin, "initech.test")
		for _, path := range []string{paths.AtRisk(theirs), paths.AtRiskCSV(theirs), "/admin/domains/abc/at-risk", paths.AtRisk(424242)} {
			admin.get(path).want(t, http.StatusNotFound)
		}
		r := admin.get(paths.AtRisk(verified))
		r.wantText(t, "Nobody is at risk", "acme.test is verified: it has no deadline, and nobody is going to be removed.")
		if strings.Contains(r.body, paths.AtRiskCSV(verified)) {
			t.Error("a verified domain offers a CSV of nobody")
		}
		admin.get(paths.AtRisk(pending)).wantText(t, "initech.test is not verified (Pending verification): it has no deadline")
		admin.get(paths.AtRiskCSV(verified)).want(t, http.StatusOK, "user_id,email,name,role,status,accounts,account_ids,account_names\r\n")

		sam := a.client()
		sam.login("sam@acme.test")
		for _, path := range []string{paths.AtRisk(verified), paths.AtRiskCSV(verified)} {
			sam.get(path).want(t, http.StatusForbidden)
			if r := a.client().get(path); r.status != http.StatusSeeOther || r.location != paths.LoginThen(path) {
				t.Errorf("a visitor to %s gets %d %s", path, r.status, r.location)
			}
		}
	})
}
