package invites_test

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/domains"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
)

func TestAccept(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		inv, raw := f.invite(t, f.admin, "ursula@acme.test", users.Admin)

		before := f.snapshot(t)
		_, err := f.svc.Accept(f.ctx, raw, f.sam.ID)
		wantCode(t, err, apperr.Forbidden, "This invitation is for ursula@acme.test, but you are signed in as sam@acme.test.")
		_, err = f.svc.Accept(f.ctx, "NOSUCHTOKEN", f.ursula.ID)
		wantCode(t, err, apperr.NotFound, "This invitation link is not valid.")
		f.unchanged(t, before, "refused acceptances")

		f.clk.Advance(time.Hour)
		now := f.clk.Now()
		offer, err := f.svc.Accept(f.ctx, raw, f.ursula.ID)
		if err != nil {
			t.Fatal(err)
		}
		if offer.ID != inv.ID || offer.OrganizationName != "Acme Corp" || offer.Role != users.Admin {
			t.Fatalf("offer %+v", offer)
		}
		u := f.Reload(t, f.ursula)
		if u.OrgID() != f.acme.ID || u.Role != users.Admin || u.JoinedAt == nil || !u.JoinedAt.Equal(now) ||
			u.EmailVerifiedAt == nil || !u.EmailVerifiedAt.Equal(now) {
			t.Fatalf("user after accepting: %+v", u)
		}
		if n := f.count(t, &users.Account{}, "owner_id = ? AND organization_id = ?", u.ID, f.acme.ID); n != 2 {
			t.Fatalf("%d of 2 accounts moved into the organization", n)
		}
		stored := f.invitation(t, inv.ID)
		if stored.AcceptedAt == nil || !stored.AcceptedAt.Equal(now) || stored.AcceptedBy == nil || *stored.AcceptedBy != u.ID {
			t.Fatalf("invitation %+v", stored)
		}
		e := f.lastEntry(t, f.acme.ID)
		if e.Action != "invitation.accepted" || e.Actor != "ursula@acme.test" || *e.ActorID != u.ID ||
			e.TargetType != "user" || e.TargetID != fmt.Sprint(u.ID) || e.Details != "joined as Administrator" {
			t.Fatalf("audit entry %+v", e)
		}
		_, err = f.svc.Accept(f.ctx, raw, f.ursula.ID)
		wantCode(t, err, apperr.NotFound, "This invitation was already accepted.")
		if open, _ := f.svc.Open(f.ctx, f.acme.ID); len(open) != 0 {
			t.Fatalf("an accepted invitation is listed: %+v", open)
		}
	})
}

// Accepting checks the person and the domain again: both may have changed
// since the invitation was sent.
func TestAcceptRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		walt := f.Person(t, "walt@acme.test", true, 0)
		vera := f.Person(t, "vera@acme.test", true, 1)
		_, toUrsula := f.invite(t, f.admin, "ursula@acme.test", users.Standard)
		_, toWalt := f.invite(t, f.admin, "walt@acme.test", users.Standard)
		_, toVera := f.invite(t, f.admin, "vera@acme.test", users.Standard)

		f.Member(t, f.ursula, f.globex.ID, users.Standard)
		f.Member(t, walt, f.acme.ID, users.Standard)
		before := f.snapshot(t)
		_, err := f.svc.Accept(f.ctx, toUrsula, f.ursula.ID)
		wantCode(t, err, apperr.Conflict, "You are managed by another organization.")
		_, err = f.svc.Accept(f.ctx, toWalt, walt.ID)
		wantCode(t, err, apperr.Conflict, "You are already a member of Acme Corp.")

		db.Model(&vera).Update("deactivated_at", f.clk.Now())
		_, err = f.svc.Accept(f.ctx, toVera, vera.ID)
		wantCode(t, err, apperr.Forbidden, "Your login is deactivated.")
		db.Model(&vera).Update("deactivated_at", nil)

		for _, status := range []domains.Status{domains.Revalidating, domains.Pending, domains.Failed} {
			f.setDomainStatus(t, f.acmeDomain, status)
			_, err = f.svc.Accept(f.ctx, toVera, vera.ID)
			wantCode(t, err, apperr.Conflict, "This invitation cannot be accepted right now: Acme Corp does not currently have acme.test verified.")
		}
		f.setDomainStatus(t, f.acmeDomain, domains.Verified)
		if _, err := f.domains.Delete(f.ctx, f.owner.ID, f.acmeDomain.ID); err != nil {
			t.Fatal(err)
		}
		before.entries++ // domain.deleted
		_, err = f.svc.Accept(f.ctx, toVera, vera.ID)
		wantCode(t, err, apperr.Conflict, "does not currently have acme.test verified")
		f.unchanged(t, before, "refused acceptances")
		if got := f.Reload(t, vera); got.Managed() {
			t.Fatal("vera joined")
		}
		if n := f.count(t, &users.Account{}, "owner_id = ? AND organization_id IS NOT NULL", vera.ID); n != 0 {
			t.Fatal("vera's account moved")
		}

		// Verified again, the same link works.
		f.verifiedDomain(t, f.owner, "acme.test")
		if _, err := f.svc.Accept(f.ctx, toVera, vera.ID); err != nil {
			t.Fatal(err)
		}
		if got := f.Reload(t, vera); got.OrgID() != f.acme.ID || got.Role != users.Standard {
			t.Fatalf("vera after accepting: %+v", got)
		}
	})
}

func TestSignUpAndAccept(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		inv, raw := f.invite(t, f.admin, "nina@acme.test", users.Admin)

		before := f.snapshot(t)
		_, _, err := f.svc.SignUpAndAccept(f.ctx, raw, users.SignUpForm{Name: "  ", Email: "not an email", Password: "short"})
		wantFields(t, err, map[string]string{"name": "Enter your name.", "password": "Use at least 10 characters"})
		_, _, err = f.svc.SignUpAndAccept(f.ctx, raw, users.SignUpForm{Name: "Nina", Password: ""})
		wantFields(t, err, map[string]string{"password": "Enter a password."})
		_, _, err = f.svc.SignUpAndAccept(f.ctx, "NOSUCHTOKEN", users.SignUpForm{Name: "Nina", Password: "correct horse battery"})
		wantCode(t, err, apperr.NotFound, "This invitation link is not valid.")
		f.unchanged(t, before, "refused sign-ups")

		// Someone who already has a login must sign in instead.
		_, toUrsula := f.invite(t, f.admin, "ursula@acme.test", users.Standard)
		before = f.snapshot(t)
		_, _, err = f.svc.SignUpAndAccept(f.ctx, toUrsula, users.SignUpForm{Name: "Ursula", Password: "correct horse battery"})
		wantFields(t, err, map[string]string{"email": "An account with this email already exists."})
		f.unchanged(t, before, "a sign-up with a taken email")

		f.clk.Advance(time.Hour)
		now := f.clk.Now()
		u, offer, err := f.svc.SignUpAndAccept(f.ctx, raw, users.SignUpForm{Name: " Nina Simone ", Email: "someone.else@evil.test", Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		if offer.ID != inv.ID || offer.OrganizationName != "Acme Corp" {
			t.Fatalf("offer %+v", offer)
		}
		stored := f.Reload(t, u)
		if stored.Email != "nina@acme.test" || stored.Name != "Nina Simone" || stored.EmailVerifiedAt == nil ||
			!stored.EmailVerifiedAt.Equal(now) || stored.OrgID() != f.acme.ID || stored.Role != users.Admin || !stored.Active() {
			t.Fatalf("new user %+v", stored)
		}
		if bcrypt.CompareHashAndPassword([]byte(stored.PasswordHash), []byte("correct horse battery")) != nil {
			t.Fatal("the password was not stored")
		}
		if n := f.count(t, &users.User{}, "email = ?", "someone.else@evil.test"); n != 0 {
			t.Fatal("a login was created for the typed address")
		}
		if got := f.invitation(t, inv.ID); got.AcceptedAt == nil || *got.AcceptedBy != u.ID {
			t.Fatalf("invitation %+v", got)
		}
		e := f.lastEntry(t, f.acme.ID)
		if e.Action != "invitation.accepted" || e.Actor != "nina@acme.test" || e.Details != "joined as Administrator" {
			t.Fatalf("audit entry %+v", e)
		}
		if n := f.count(t, &users.User{}, "email = ?", "nina@acme.test"); n != 1 {
			t.Fatalf("%d logins for nina@acme.test", n)
		}
		_, _, err = f.svc.SignUpAndAccept(f.ctx, raw, users.SignUpForm{Name: "Nina", Password: "correct horse battery"})
		wantCode(t, err, apperr.NotFound, "already accepted")
	})
}

// Addresses at an internationalised domain can be invited and accepted in
// their Unicode form.
func TestInternationalDomain(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		f.verifiedDomain(t, f.owner, "bücher.test")
		inv, raw := f.invite(t, f.admin, "Anna@Bücher.test", users.Standard)
		if inv.Email != "anna@bücher.test" {
			t.Fatalf("invited %q", inv.Email)
		}
		u, _, err := f.svc.SignUpAndAccept(f.ctx, raw, users.SignUpForm{Name: "Anna", Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Reload(t, u); got.OrgID() != f.acme.ID {
			t.Fatalf("anna after accepting: %+v", got)
		}
	})
}
