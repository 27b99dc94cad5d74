package domains_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/domains"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
	"admincenter/internal/verify"
)

// After an expiry, once the organization has added and verified the same
// domain again, the users the expiry removed can be added back, with their
// roles and the accounts handed to the Owner, once. People who joined
// another organization or were deactivated meanwhile are skipped, saying
// why.
func TestAddBack(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		org, owner := f.Org(t, "Acme Corp", "olivia@acme.test")
		adam := f.Member(t, f.Person(t, "adam@acme.test", true, 0), org.ID, users.Admin)
		sam := f.Member(t, f.Person(t, "sam@acme.test", true, 0), org.ID, users.Standard)
		sue := f.Member(t, f.Person(t, "sue@sales.acme.test", true, 0), org.ID, users.Standard)
		joe := f.Member(t, f.Person(t, "joe@acme.test", true, 0), org.ID, users.Standard)
		dee := f.Member(t, f.Person(t, "dee@acme.test", true, 0), org.ID, users.Standard)
		stan := f.Member(t, f.Person(t, "stan@globex.test", true, 0), org.ID, users.Standard)
		adamAccount := f.account(t, adam, "Adam's project")
		samAccounts := []users.Account{f.account(t, sam, "Sam one"), f.account(t, sam, "Sam two")}
		ownerAccount := f.account(t, owner, "Olivia's project")

		old := f.demote(t, f.verified(t, owner, "acme.test"))
		f.expire(t, old)
		if n := f.count(t, &users.User{}, "organization_id = ?", org.ID); n != 2 {
			t.Fatalf("%d managed users after the expiry, want the Owner and stan", n)
		}
		_, _, err := f.svc.AddBack(f.ctx, owner.ID, old.ID)
		wantCode(t, err, apperr.NotFound, "No such domain")

		// Meanwhile joe founds an organization of his own, dee's login is
		// switched off, and sam, unmanaged, starts a new project.
		f.clk.Advance(24 * time.Hour)
		if _, err := f.orgs.Create(f.ctx, joe.ID, "Joe's Shop"); err != nil {
			t.Fatal(err)
		}
		f.deactivate(t, dee)
		samNew := f.account(t, sam, "Sam three")

		// Added again, not yet verified: the users are listed, but cannot
		// be added back.
		d := f.add(t, owner, "acme.test")
		if d.Token == old.Token {
			t.Fatal("the new entry reuses the old token")
		}
		exp, removed, err := f.svc.Removed(f.ctx, d)
		if err != nil || exp.DomainName != "acme.test" || !exp.DeadlineAt.Equal(*old.DeadlineAt) {
			t.Fatalf("Removed: %+v, %v", exp, err)
		}
		var listed []string
		for _, r := range removed {
			listed = append(listed, r.Email)
		}
		if !slices.Equal(listed, []string{"adam@acme.test", "dee@acme.test", "joe@acme.test", "sam@acme.test", "sue@sales.acme.test"}) {
			t.Fatalf("Removed lists %q", listed)
		}
		_, _, err = f.svc.AddBack(f.ctx, owner.ID, d.ID)
		wantCode(t, err, apperr.Conflict, "acme.test must be verified before its users can be added back.")

		f.publishTXT(t, d)
		if d, _, err = f.svc.Verify(f.ctx, owner.ID, d.ID, verify.DNS); err != nil || d.Status != domains.Verified {
			t.Fatalf("Verify: %+v, %v", d, err)
		}
		_, _, err = f.svc.AddBack(f.ctx, stan.ID, d.ID)
		wantCode(t, err, apperr.Forbidden, "Only the Owner and Administrators")

		f.clk.Advance(time.Minute)
		now := f.clk.Now()
		added, skipped, err := f.svc.AddBack(f.ctx, owner.ID, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(added, []string{"adam@acme.test", "sam@acme.test", "sue@sales.acme.test"}) {
			t.Fatalf("added %q", added)
		}
		if !slices.Equal(skipped, []string{"dee@acme.test (login deactivated)", "joe@acme.test (now managed by another organization)"}) {
			t.Fatalf("skipped %q", skipped)
		}

		for _, want := range []struct {
			user users.User
			role users.Role
		}{{adam, users.Admin}, {sam, users.Standard}, {sue, users.Standard}} {
			got := f.Reload(t, want.user)
			if got.OrgID() != org.ID || got.Role != want.role || !sameTime(got.JoinedAt, &now) {
				t.Errorf("%s back as %+v, want %s", want.user.Email, got, want.role)
			}
		}
		for _, a := range []struct {
			account users.Account
			owner   users.User
		}{{adamAccount, adam}, {samAccounts[0], sam}, {samAccounts[1], sam}, {samNew, sam}, {ownerAccount, owner}} {
			got := f.reloadAccount(t, a.account.ID)
			if got.OwnerID != a.owner.ID || got.OrganizationID == nil || *got.OrganizationID != org.ID {
				t.Errorf("account %q: %+v, want it owned by %s in the organization", a.account.Name, got, a.owner.Email)
			}
		}
		if got := f.Reload(t, joe); got.Role != users.Owner || got.OrgID() == org.ID {
			t.Errorf("joe: %+v", got)
		}
		if got := f.Reload(t, dee); got.Managed() || got.Active() {
			t.Errorf("dee: %+v", got)
		}

		entries := f.audited(t, org.ID, "member.added_back")
		var targets []string
		for _, e := range entries {
			targets = append(targets, e.Target)
			if e.Actor != "olivia@acme.test" || e.ActorID == nil || *e.ActorID != owner.ID || !e.CreatedAt.Equal(now) ||
				!strings.HasSuffix(e.Details, "after acme.test was verified again") {
				t.Errorf("audit entry %+v", e)
			}
		}
		if !slices.Equal(targets, added) {
			t.Fatalf("member.added_back for %q", targets)
		}
		if e := entries[0]; e.Details != "as Administrator, with 1 account, after acme.test was verified again" {
			t.Errorf("adam's entry: %q", e.Details)
		}
		if e := entries[1]; e.Details != "as Standard User, with 2 accounts, after acme.test was verified again" {
			t.Errorf("sam's entry: %q", e.Details)
		}
		subject := "You are managed by Acme Corp again"
		if got := f.recipients(t, subject); !slices.Equal(got, added) {
			t.Fatalf("%q sent to %q", subject, got)
		}
		if m := f.emails(t, subject)[0]; !strings.Contains(m.Body, "Acme Corp verified your email domain again and added you back to the organization as Administrator.") {
			t.Errorf("email to %s:\n%s", m.Recipient, m.Body)
		}

		// Done: nobody is listed or added twice.
		if _, removed, err := f.svc.Removed(f.ctx, d); err != nil || len(removed) != 0 {
			t.Fatalf("Removed after adding back: %+v, %v", removed, err)
		}
		added, skipped, err = f.svc.AddBack(f.ctx, owner.ID, d.ID)
		if err != nil || len(added) != 0 || len(skipped) != 0 {
			t.Fatalf("second AddBack: %q, %q, %v", added, skipped, err)
		}
		if n := len(f.emails(t, subject)); n != 3 {
			t.Fatalf("%d emails after the second AddBack", n)
		}
		if n := len(f.audited(t, org.ID, "member.added_back")); n != 3 {
			t.Fatalf("%d audit entries after the second AddBack", n)
		}
	})
}
