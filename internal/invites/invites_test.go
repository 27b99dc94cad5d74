package invites_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/domains"
	"admincenter/internal/invites"
	"admincenter/internal/testdb"
	"admincenter/internal/token"
	"admincenter/internal/users"
)

func TestInviteRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		f.invite(t, f.admin, "nina@acme.test", users.Standard)
		before := f.snapshot(t)

		cases := []struct {
			email  string
			role   users.Role
			fields map[string]string
		}{
			{"", users.Standard, map[string]string{"email": "Enter an email address."}},
			{"not-an-email", users.Standard, map[string]string{"email": "Enter a valid email address, like name@example.com."}},
			{"Nina <nina@acme.test>", users.Standard, map[string]string{"email": "Enter a valid email address"}},
			{"new@acme.test", users.Owner, map[string]string{"role": "Choose Administrator or Standard User."}},
			{"new@acme.test", "root", map[string]string{"role": "Choose Administrator or Standard User."}},
			{"new@acme.test", "", map[string]string{"role": "Choose Administrator or Standard User."}},
			{"nope", users.Owner, map[string]string{"email": "Enter a valid email address", "role": "Choose Administrator"}},
			{"ada@gmail.com", users.Standard, map[string]string{"email": "gmail.com is a common email provider"}},
			{"ada@initech.test", users.Standard, map[string]string{"email": "initech.test is not verified yet (Pending verification)"}},
			{"ada@unknown.test", users.Standard, map[string]string{"email": "unknown.test is not one of your organization's domains"}},
			{"ada@globex.test", users.Standard, map[string]string{"email": "globex.test is not one of your organization's domains"}},
			{"sam@acme.test", users.Admin, map[string]string{"email": "sam@acme.test is already a member of your organization."}},
			{"olivia@acme.test", users.Admin, map[string]string{"email": "olivia@acme.test is already a member"}},
			{"greta@acme.test", users.Standard, map[string]string{"email": "greta@acme.test is managed by another organization and cannot join yours until that organization removes them."}},
			{"dora@acme.test", users.Standard, map[string]string{"email": "The login of dora@acme.test is deactivated."}},
			{"nina@acme.test", users.Admin, map[string]string{"email": "An invitation to nina@acme.test is already pending. Resend or cancel it in the list of invitations."}},
			{"  NINA@Acme.TEST ", users.Standard, map[string]string{"email": "An invitation to nina@acme.test is already pending."}},
		}
		for _, tc := range cases {
			_, err := f.svc.Invite(f.ctx, f.admin.ID, tc.email, tc.role)
			wantFields(t, err, tc.fields)
		}
		_, err := f.svc.Invite(f.ctx, f.sam.ID, "new@acme.test", users.Standard)
		wantCode(t, err, apperr.Forbidden, "Only the Owner and Administrators")
		_, err = f.svc.Invite(f.ctx, f.ursula.ID, "new@acme.test", users.Standard)
		wantCode(t, err, apperr.Forbidden, "Only the Owner and Administrators")
		f.unchanged(t, before, "refused invitations")

		// Another organization may invite the same address at its own domain.
		f.verifiedDomain(t, f.globexOwner, "globex.test")
		f.invite(t, f.globexOwner, "ada@globex.test", users.Standard)
		_, err = f.svc.Invite(f.ctx, f.admin.ID, "ada@globex.test", users.Standard)
		wantFields(t, err, map[string]string{"email": "globex.test is not one of your organization's domains"})
	})
}

func TestInvite(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		f.clk.Advance(time.Hour)
		now := f.clk.Now()

		inv, err := f.svc.Invite(f.ctx, f.admin.ID, " Nina@Acme.TEST ", users.Admin)
		if err != nil {
			t.Fatal(err)
		}
		if inv.ID == 0 || inv.OrganizationID != f.acme.ID || inv.Email != "nina@acme.test" || inv.Role != users.Admin ||
			inv.InvitedBy != f.admin.ID || !inv.CreatedAt.Equal(now) || !inv.SentAt.Equal(now) ||
			!inv.ExpiresAt.Equal(now.Add(7*24*time.Hour)) || inv.AcceptedAt != nil || inv.CancelledAt != nil ||
			!regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(inv.TokenHash) {
			t.Fatalf("invitation %+v", inv)
		}
		if stored := f.invitation(t, inv.ID); !same(stored, inv) {
			t.Fatalf("stored %+v\nreturned %+v", stored, inv)
		}

		m := f.lastEmail(t, "nina@acme.test")
		raw := f.lastLink(t, "nina@acme.test")
		if token.Hash(raw) != inv.TokenHash {
			t.Fatal("the emailed link does not match the stored hash")
		}
		for _, want := range []string{
			"adam invited you to join the organization Acme Corp as Administrator.",
			"http://admin.test:8080/invitations/accept?token=" + raw,
			"The link is valid until 8 Mar 2026 10:00 UTC.",
		} {
			if !strings.Contains(m.Body, want) {
				t.Fatalf("the email lacks %q:\n%s", want, m.Body)
			}
		}
		if m.Subject != "You are invited to join Acme Corp" || !m.CreatedAt.Equal(now) || m.SentAt != nil {
			t.Fatalf("email %+v", m)
		}
		if n := f.count(t, &invites.Invitation{}, "1 = 1"); n != 1 {
			t.Fatalf("%d invitations", n)
		}

		e := f.lastEntry(t, f.acme.ID)
		if e.Action != "invitation.sent" || e.Actor != "adam@acme.test" || e.TargetType != "invitation" ||
			e.TargetID != fmt.Sprint(inv.ID) || e.Target != "nina@acme.test" || e.Details != "role: Administrator" {
			t.Fatalf("audit entry %+v", e)
		}

		offer, err := f.svc.Lookup(f.ctx, raw)
		if err != nil || offer.ID != inv.ID || offer.OrganizationName != "Acme Corp" || offer.InviterName != "adam" || offer.HasLogin {
			t.Fatalf("Lookup: %+v, %v", offer, err)
		}
		open, err := f.svc.Open(f.ctx, f.acme.ID)
		if err != nil || len(open) != 1 || open[0].ID != inv.ID {
			t.Fatalf("Open: %+v, %v", open, err)
		}
		if open, _ := f.svc.Open(f.ctx, f.globex.ID); len(open) != 0 {
			t.Fatal("another organization sees the invitation")
		}

		// People who have a login can be invited too: they sign in to accept.
		_, raw = f.invite(t, f.owner, "ursula@acme.test", users.Standard)
		if offer, err := f.svc.Lookup(f.ctx, raw); err != nil || !offer.HasLogin || offer.InviterName != "olivia" {
			t.Fatalf("Lookup: %+v, %v", offer, err)
		}
	})
}

func TestResend(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		inv, first := f.invite(t, f.admin, "nina@acme.test", users.Standard)
		f.clk.Advance(8 * 24 * time.Hour) // expired: resending is how it is renewed
		_, err := f.svc.Lookup(f.ctx, first)
		wantCode(t, err, apperr.NotFound, "This invitation has expired")
		now := f.clk.Now()

		renewed, err := f.svc.Resend(f.ctx, f.owner.ID, inv.ID)
		if err != nil {
			t.Fatal(err)
		}
		second := f.lastLink(t, "nina@acme.test")
		if second == first || renewed.TokenHash != token.Hash(second) || !renewed.SentAt.Equal(now) ||
			!renewed.ExpiresAt.Equal(now.Add(invites.TTL)) || !renewed.CreatedAt.Equal(inv.CreatedAt) {
			t.Fatalf("renewed %+v", renewed)
		}
		if stored := f.invitation(t, inv.ID); !same(stored, renewed) {
			t.Fatalf("stored %+v", stored)
		}
		_, err = f.svc.Lookup(f.ctx, first)
		wantCode(t, err, apperr.NotFound, "This invitation link is not valid. It may have been replaced by a newer one")
		if _, err := f.svc.Lookup(f.ctx, second); err != nil {
			t.Fatalf("the new link: %v", err)
		}
		if n := f.count(t, &invites.Invitation{}, "1 = 1"); n != 1 {
			t.Fatalf("%d invitations after resending", n)
		}
		e := f.lastEntry(t, f.acme.ID)
		if e.Action != "invitation.resent" || e.Actor != "olivia@acme.test" || e.TargetID != fmt.Sprint(inv.ID) {
			t.Fatalf("audit entry %+v", e)
		}

		// The address must still be allowed.
		before := f.snapshot(t)
		f.setDomainStatus(t, f.acmeDomain, domains.Revalidating)
		_, err = f.svc.Resend(f.ctx, f.admin.ID, inv.ID)
		wantCode(t, err, apperr.Conflict, "acme.test needs re-validation")
		f.setDomainStatus(t, f.acmeDomain, domains.Verified)
		_, err = f.svc.Resend(f.ctx, f.sam.ID, inv.ID)
		wantCode(t, err, apperr.Forbidden, "Only the Owner and Administrators")
		_, err = f.svc.Resend(f.ctx, f.globexOwner.ID, inv.ID)
		wantCode(t, err, apperr.NotFound, "No such invitation in this organization.")
		f.unchanged(t, before, "refused resends")
		if !same(f.invitation(t, inv.ID), renewed) {
			t.Fatal("a refused resend changed the invitation")
		}

		// Nor can an invitation be resent to someone who joined another organization.
		invU, _ := f.invite(t, f.admin, "ursula@acme.test", users.Standard)
		f.Member(t, f.ursula, f.globex.ID, users.Standard)
		_, err = f.svc.Resend(f.ctx, f.admin.ID, invU.ID)
		wantCode(t, err, apperr.Conflict, "ursula@acme.test is managed by another organization")
	})
}

func TestCancel(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		inv, raw := f.invite(t, f.admin, "nina@acme.test", users.Standard)
		before := f.snapshot(t)
		_, err := f.svc.Cancel(f.ctx, f.sam.ID, inv.ID)
		wantCode(t, err, apperr.Forbidden, "Only the Owner and Administrators")
		_, err = f.svc.Cancel(f.ctx, f.globexOwner.ID, inv.ID)
		wantCode(t, err, apperr.NotFound, "No such invitation in this organization.")
		f.unchanged(t, before, "refused cancellations")

		f.clk.Advance(time.Hour)
		cancelled, err := f.svc.Cancel(f.ctx, f.owner.ID, inv.ID)
		if err != nil || cancelled.CancelledAt == nil || !cancelled.CancelledAt.Equal(f.clk.Now()) {
			t.Fatalf("Cancel: %+v, %v", cancelled, err)
		}
		if stored := f.invitation(t, inv.ID); stored.CancelledAt == nil {
			t.Fatal("not stored")
		}
		_, err = f.svc.Lookup(f.ctx, raw)
		wantCode(t, err, apperr.NotFound, "This invitation was cancelled. Ask the person who invited you for a new one.")
		e := f.lastEntry(t, f.acme.ID)
		if e.Action != "invitation.cancelled" || e.Actor != "olivia@acme.test" || e.Target != "nina@acme.test" {
			t.Fatalf("audit entry %+v", e)
		}
		if open, _ := f.svc.Open(f.ctx, f.acme.ID); len(open) != 0 {
			t.Fatalf("a cancelled invitation is listed: %+v", open)
		}

		_, err = f.svc.Cancel(f.ctx, f.owner.ID, inv.ID)
		wantCode(t, err, apperr.Conflict, "already accepted or cancelled")
		_, err = f.svc.Resend(f.ctx, f.owner.ID, inv.ID)
		wantCode(t, err, apperr.Conflict, "already accepted or cancelled")

		// The address can be invited again, with a new link.
		again, raw2 := f.invite(t, f.admin, "nina@acme.test", users.Admin)
		if again.ID == inv.ID || raw2 == raw {
			t.Fatal("no new invitation")
		}
		_, err = f.svc.Lookup(f.ctx, raw)
		wantCode(t, err, apperr.NotFound, "cancelled")
	})
}

func TestLookup(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		_, raw := f.invite(t, f.admin, "nina@acme.test", users.Standard)

		_, err := f.svc.Lookup(f.ctx, "NOSUCHTOKEN")
		wantCode(t, err, apperr.NotFound, "This invitation link is not valid.")
		_, err = f.svc.Lookup(f.ctx, "")
		wantCode(t, err, apperr.NotFound, "This invitation link is not valid.")

		f.clk.Advance(invites.TTL - time.Second)
		if _, err := f.svc.Lookup(f.ctx, raw); err != nil {
			t.Fatalf("a second before expiry: %v", err)
		}
		f.clk.Advance(2 * time.Second)
		_, err = f.svc.Lookup(f.ctx, raw)
		wantCode(t, err, apperr.NotFound, "This invitation has expired: invitations are valid for 7 days. Ask the person who invited you to resend it.")
		_, err = f.svc.Accept(f.ctx, raw, f.ursula.ID)
		wantCode(t, err, apperr.NotFound, "expired")

		_, raw = f.invite(t, f.admin, "ursula@acme.test", users.Standard)
		if _, err := f.svc.Accept(f.ctx, raw, f.ursula.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Lookup(f.ctx, raw)
		wantCode(t, err, apperr.NotFound, "This invitation was already accepted. Sign in to continue.")
	})
}
