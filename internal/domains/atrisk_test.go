package domains_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/domains"
	"admincenter/internal/paging"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
)

// atRisk is a user at risk as a test compares them: their email and the
// ids of their accounts, sorted.
type atRisk struct {
	Email    string
	Accounts string
}

func accountIDs(accounts []users.Account) string {
	ids := make([]string, len(accounts))
	for i, a := range accounts {
		ids[i] = a.ID
	}
	slices.Sort(ids)
	return strings.Join(ids, " ")
}

// allAtRisk reads every page of the users at risk at d.
func (f *fixture) allAtRisk(t *testing.T, d domains.Domain) (list []atRisk, total int64, pages int) {
	t.Helper()
	for n := 1; ; n++ {
		p, err := f.svc.AtRisk(f.ctx, d, n)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) > paging.Size {
			t.Fatalf("page %d holds %d users", n, len(p.Items))
		}
		for _, u := range p.Items {
			list = append(list, atRisk{u.Email, accountIDs(u.Accounts)})
		}
		if n >= p.Pages() {
			return list, p.Total, p.Pages()
		}
	}
}

// The users at risk, listed a page at a time or in the CSV, and their
// number in the emails, the banner and the domain's page, are exactly the
// users its expiry then removes, with exactly the accounts it hands to the
// Owner: the managed users at the domain or under it, but not the Owner,
// not those also at another verified domain, not another organization's
// nor unmanaged people.
func TestAtRiskIsWhoTheExpiryRemoves(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		domains.SetAtRiskBatch(t, 4) // the CSV reads several batches
		tm := f.team(t)
		org, owner := tm.org, tm.owner
		eve := f.Member(t, f.Person(t, "eve@eu.acme.test", true, 1), org.ID, users.Standard) // under acme.test, and at eu.acme.test, verified
		gina := f.Member(t, f.Person(t, "gina@globex.test", true, 0), org.ID, users.Admin)   // at another verified domain only
		nick := f.Member(t, f.Person(t, "nick@notacme.test", true, 0), org.ID, users.Standard)
		_, ivan := f.Org(t, "Initech", "ivan@initech.test")
		zed := f.Member(t, f.Person(t, "zed@acme.test", true, 1), ivan.OrgID(), users.Standard)
		for i := range paging.Size { // a second page
			f.Member(t, f.Person(t, fmt.Sprintf("u%02d@acme.test", i), true, i%3), org.ID, users.Standard)
		}
		f.account(t, owner, "Olivia's project")
		sam := []users.Account{f.account(t, tm.std, "=SUM(A1:A9)")}
		f.clk.Advance(time.Minute)
		sam = append(sam, f.account(t, tm.std, "Sam, second"))

		d := f.verified(t, owner, "acme.test")
		eu := f.verified(t, owner, "eu.acme.test")
		f.verified(t, owner, "globex.test")
		d = f.demote(t, d)

		// Who is at risk, by email, with their accounts.
		var want []atRisk
		var accounts []users.Account
		db.Where("organization_id = ?", org.ID).Order("id").Find(&accounts)
		for _, u := range []users.User{tm.admin, tm.retired, tm.std, tm.sub} {
			var own []users.Account
			for _, a := range accounts {
				if a.OwnerID == u.ID {
					own = append(own, a)
				}
			}
			want = append(want, atRisk{u.Email, accountIDs(own)})
		}
		var extra []users.User
		db.Where("email LIKE ? AND organization_id = ?", "u%@acme.test", org.ID).Order("email").Find(&extra)
		for _, u := range extra {
			var own []users.Account
			db.Where("owner_id = ?", u.ID).Find(&own)
			want = append(want, atRisk{u.Email, accountIDs(own)})
		}
		slices.SortFunc(want, func(a, b atRisk) int { return strings.Compare(a.Email, b.Email) })
		if len(want) != 4+paging.Size {
			t.Fatalf("fixture: %d users at risk", len(want))
		}

		got, total, pages := f.allAtRisk(t, d)
		if !slices.Equal(got, want) || total != int64(len(want)) || pages != 2 {
			t.Fatalf("at risk: %d users on %d pages (total %d):\n%v\nwant:\n%v", len(got), pages, total, got, want)
		}

		var out bytes.Buffer
		if err := f.svc.WriteAtRiskCSV(f.ctx, &out, d); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(bytes.NewReader(out.Bytes())).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rows[0], domains.AtRiskHeader) || len(rows) != len(want)+1 {
			t.Fatalf("CSV of %d rows, header %q", len(rows), rows[0])
		}
		for i, row := range rows[1:] {
			ids := strings.Fields(row[6])
			slices.Sort(ids)
			if row[1] != want[i].Email || strings.Join(ids, " ") != want[i].Accounts || row[5] != fmt.Sprint(len(ids)) {
				t.Errorf("CSV row %d: %q, want %+v", i+1, row, want[i])
			}
		}
		samRow := rows[slices.IndexFunc(rows, func(r []string) bool { return r[1] == "sam@acme.test" })]
		if want := []string{fmt.Sprint(tm.std.ID), "sam@acme.test", "sam", "Standard User", "Active", "2",
			sam[0].ID + " " + sam[1].ID, "'=SUM(A1:A9)\nSam, second"}; !slices.Equal(samRow, want) {
			t.Errorf("sam's row %q, want %q", samRow, want)
		}
		if !strings.Contains(out.String(), "\r\n") || strings.Contains(strings.ReplaceAll(out.String(), "\r\n", ""), "\n") {
			t.Error("the CSV's lines do not all end with CRLF")
		}

		// The emails, the banner and the domain's page give the same number
		// and link to the list.
		f.advanceTo(t, d.DeadlineAt.Add(-grace*7/30))
		f.runDue(t)
		count := fmt.Sprintf("the managed users with an address at it (%d users) will be removed.", len(want))
		link := fmt.Sprintf("Who they are, with their accounts:\n\nhttps://admin.example.test/admin/domains/%d/at-risk\n", d.ID)
		for _, subject := range []string{"Action needed: re-validate acme.test", "7 days left to re-validate acme.test"} {
			emails := f.emails(t, subject)
			if len(emails) == 0 {
				t.Fatalf("no email %q", subject)
			}
			for _, m := range emails {
				if !strings.Contains(m.Body, count) || !strings.Contains(m.Body, link) {
					t.Errorf("%q lacks %q or %q:\n%s", subject, count, link, m.Body)
				}
			}
		}
		warnings, err := f.svc.Warnings(f.ctx, org.ID)
		if err != nil || len(warnings) != 1 || warnings[0].UsersAtRisk != int64(len(want)) {
			t.Fatalf("Warnings = %+v, %v", warnings, err)
		}
		if page, err := f.svc.Page(f.ctx, org.ID, d.ID); err != nil || page.AtRisk != int64(len(want)) {
			t.Fatalf("the domain's page counts %d users at risk, %v", page.AtRisk, err)
		}

		// A domain not in re-validation has nobody at risk.
		if p, err := f.svc.AtRisk(f.ctx, eu, 1); err != nil || p.Total != 0 || len(p.Items) != 0 {
			t.Fatalf("at risk at the verified eu.acme.test: %+v, %v", p, err)
		}
		out.Reset()
		if err := f.svc.WriteAtRiskCSV(f.ctx, &out, eu); err != nil || out.String() != strings.Join(domains.AtRiskHeader, ",")+"\r\n" {
			t.Fatalf("CSV at eu.acme.test: %q, %v", out.String(), err)
		}

		// The expiry removes exactly them, handing exactly their accounts to
		// the Owner.
		f.expire(t, d)
		var removals []domains.Removal
		db.Order("email").Find(&removals)
		var removed []atRisk
		for _, r := range removals {
			ids := strings.Split(r.Accounts, ",")
			slices.Sort(ids)
			if r.Outcome != "removed" {
				t.Errorf("removal %+v", r)
			}
			removed = append(removed, atRisk{r.Email, strings.TrimSpace(strings.Join(ids, " "))})
		}
		if !slices.Equal(removed, want) {
			t.Fatalf("the expiry removed:\n%v\nthe list said:\n%v", removed, want)
		}
		for _, u := range []users.User{owner, eve, gina, nick, zed} {
			if got := f.Reload(t, u); got.OrgID() != u.OrgID() {
				t.Errorf("%s was removed", u.Email)
			}
		}
	})
}
