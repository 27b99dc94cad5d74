package domains_test

import (
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/domains"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
)

// Warnings lists the organization's domains in re-validation, soonest
// deadline first, each with the number of managed users its expiry would
// remove: not the Owner, not users at another verified domain, whichever
// form of an internationalised name their address uses.
func TestWarnings(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		tm := f.team(t)
		org, owner := tm.org, tm.owner
		f.Member(t, f.Person(t, "eve@eu.acme.test", true, 0), org.ID, users.Standard)
		f.Member(t, f.Person(t, "ada@bücher.test", true, 0), org.ID, users.Standard)
		f.Member(t, f.Person(t, "bo@xn--bcher-kva.test", true, 0), org.ID, users.Standard)
		f.Member(t, f.Person(t, "gina@globex.test", true, 0), org.ID, users.Admin)
		initech, ivan := f.Org(t, "Initech", "ivan@initech.test")
		f.Member(t, f.Person(t, "zed@acme.test", true, 0), initech.ID, users.Standard)

		acme := f.verified(t, owner, "acme.test")
		eu := f.verified(t, owner, "eu.acme.test")
		f.verified(t, owner, "globex.test")
		f.clk.Advance(time.Hour)
		buecher := f.verified(t, owner, "bücher.test")
		f.verified(t, ivan, "initech.test")

		if got, err := f.svc.Warnings(f.ctx, org.ID); err != nil || len(got) != 0 {
			t.Fatalf("Warnings with every domain verified: %+v, %v", got, err)
		}
		buecher = f.demote(t, buecher) // a day after it was verified
		acme = f.demote(t, acme)       // a day and an hour after
		want := []domains.Warning{
			{DomainID: buecher.ID, Name: "bücher.test", Deadline: *buecher.DeadlineAt, UsersAtRisk: 2},
			{DomainID: acme.ID, Name: "acme.test", Deadline: *acme.DeadlineAt, UsersAtRisk: 4},
		}
		if buecher.DeadlineAt.After(*acme.DeadlineAt) {
			want[0], want[1] = want[1], want[0]
		}
		wantWarnings(t, f, org.ID, want)
		wantWarnings(t, f, initech.ID, nil)

		// Once eu.acme.test is in re-validation too, eve is at risk twice.
		eu = f.demote(t, eu)
		want = append(want, domains.Warning{DomainID: eu.ID, Name: "eu.acme.test", Deadline: *eu.DeadlineAt, UsersAtRisk: 1})
		want[1].UsersAtRisk = 5
		wantWarnings(t, f, org.ID, want)

		// The expiry of bücher.test removes both its users.
		f.expire(t, buecher)
		for _, email := range []string{"ada@bücher.test", "bo@xn--bcher-kva.test"} {
			var u users.User
			if err := db.Take(&u, "email = ?", email).Error; err != nil || u.Managed() {
				t.Errorf("%s after the expiry: %+v, %v", email, u, err)
			}
		}
	})
}

func wantWarnings(t *testing.T, f *fixture, orgID int64, want []domains.Warning) {
	t.Helper()
	got, err := f.svc.Warnings(f.ctx, orgID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("Warnings = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].DomainID != want[i].DomainID || got[i].Name != want[i].Name || !got[i].Deadline.Equal(want[i].Deadline) ||
			got[i].UsersAtRisk != want[i].UsersAtRisk {
			t.Fatalf("warning %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// While a domain is in re-validation nobody can be added with an address
// at it or under it, and the refusal names the deadline; another verified
// domain above or beside it still allows its addresses.
func TestAllowsEmailDuringRevalidation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		tm := f.team(t)
		d := f.demote(t, f.verified(t, tm.owner, "acme.test"))
		eu := f.verified(t, tm.owner, "eu.acme.test")

		for _, email := range []string{"new@acme.test", "new@sales.acme.test"} {
			err := domains.AllowsEmail(f.db, f.svc.Providers, tm.org.ID, email)
			wantField(t, err, "email", "acme.test needs re-validation: until it is verified again, nobody with")
			wantField(t, err, "email", "If it is not verified by "+deadlineText(*d.DeadlineAt)+", it will be deleted from the organization.")
		}
		if err := domains.AllowsEmail(f.db, f.svc.Providers, tm.org.ID, "new@eu.acme.test"); err != nil {
			t.Fatalf("an address at another verified domain: %v", err)
		}

		f.demote(t, eu)
		wantField(t, domains.AllowsEmail(f.db, f.svc.Providers, tm.org.ID, "new@eu.acme.test"), "email", "eu.acme.test needs re-validation")

		f.publishTXT(t, d)
		f.advanceTo(t, *f.reload(t, d.ID).NextCheckAt)
		f.runDue(t)
		if err := domains.AllowsEmail(f.db, f.svc.Providers, tm.org.ID, "new@acme.test"); err != nil {
			t.Fatalf("after the restore: %v", err)
		}
		// Verified acme.test covers its subdomains, eu.acme.test included.
		if err := domains.AllowsEmail(f.db, f.svc.Providers, tm.org.ID, "new@eu.acme.test"); err != nil {
			t.Fatalf("under a verified domain: %v", err)
		}
	})
}
