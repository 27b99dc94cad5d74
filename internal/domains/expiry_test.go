package domains_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/audit"
	"admincenter/internal/domains"
	"admincenter/internal/mail"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
)

// expire lets a domain in re-validation reach its deadline and runs the
// due work there.
func (f *fixture) expire(t *testing.T, d domains.Domain) {
	t.Helper()
	f.advanceTo(t, *d.DeadlineAt)
	f.runDue(t)
	if n := f.count(t, &domains.Domain{}, "id = ?", d.ID); n != 0 {
		t.Fatalf("%s still there at its deadline", d.Name)
	}
}

// At the deadline, after a last check, the domain is deleted and the
// managed users at it or at its subdomains are removed from the
// organization, keeping their logins, their accounts staying with the
// organization. The Owner, users at another verified domain, unmanaged
// users and other organizations' users stay as they are.
func TestExpiry(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		tm := f.team(t)
		org, owner := tm.org, tm.owner
		eve := f.Member(t, f.Person(t, "eve@eu.acme.test", true, 0), org.ID, users.Standard)   // at eu.acme.test, verified on its own
		gina := f.Member(t, f.Person(t, "gina@globex.test", true, 0), org.ID, users.Admin)     // at another domain
		nick := f.Member(t, f.Person(t, "nick@notacme.test", true, 0), org.ID, users.Standard) // a name that only ends like acme.test
		var uma users.User                                                                     // unmanaged, at acme.test
		db.Take(&uma, "email = ?", "uma@acme.test")
		_, ivan := f.Org(t, "Initech", "ivan@initech.test")
		zed := f.Member(t, f.Person(t, "zed@acme.test", true, 0), ivan.OrgID(), users.Standard) // another organization's, at acme.test
		ownerAccount := f.account(t, owner, "Olivia's project")
		adamAccount := f.account(t, tm.admin, "Adam's project")
		samAccounts := []users.Account{f.account(t, tm.std, "Sam one"), f.account(t, tm.std, "Sam two")}
		zedAccount := f.account(t, zed, "Zed's project")
		if uma.Email != "uma@acme.test" || uma.Managed() {
			t.Fatalf("fixture: %+v", uma)
		}

		d := f.verified(t, owner, "acme.test")
		eu := f.verified(t, owner, "eu.acme.test")
		globex := f.verified(t, owner, "globex.test")
		d = f.demote(t, d)
		deadline := *d.DeadlineAt
		warnings, err := f.svc.Warnings(f.ctx, org.ID)
		if err != nil || len(warnings) != 1 || warnings[0].UsersAtRisk != 4 {
			t.Fatalf("Warnings = %+v, %v; want acme.test with 4 users at risk", warnings, err)
		}

		f.tickUntil(t, recheck, deadline.Add(-time.Second), nil)
		if n := f.count(t, &users.User{}, "organization_id = ?", org.ID); n != 8 {
			t.Fatalf("%d managed users before the deadline", n)
		}
		f.clk.Advance(time.Second)
		asked := len(f.dns.Queries())
		f.runDue(t)
		// The last check ran, and found nothing, before the domain went.
		if !slices.Contains(f.dns.Queries()[asked:], "udp TXT _twilio.acme.test.") {
			t.Errorf("no last check at the deadline: %q", f.dns.Queries()[asked:])
		}

		if n := f.count(t, &domains.Domain{}, "id = ?", d.ID); n != 0 {
			t.Fatal("the domain was not deleted")
		}
		if n := f.count(t, &domains.Check{}, "domain_id = ?", d.ID); n != 0 {
			t.Fatalf("%d checks of the deleted domain left", n)
		}
		for _, other := range []domains.Domain{eu, globex} {
			if got := f.reload(t, other.ID); got.Status != domains.Verified {
				t.Fatalf("%s: %+v", other.Name, got)
			}
		}

		var expiries []domains.Expiry
		db.Find(&expiries)
		if len(expiries) != 1 {
			t.Fatalf("%d expiries", len(expiries))
		}
		exp := expiries[0]
		if exp.OrganizationID != org.ID || exp.DomainName != "acme.test" || exp.UnicodeName != "acme.test" ||
			!exp.DeadlineAt.Equal(deadline) || !exp.StartedAt.Equal(deadline) || !sameTime(exp.FinishedAt, &deadline) || exp.LeaseUntil != nil {
			t.Fatalf("expiry %+v", exp)
		}
		var removals []domains.Removal
		db.Where("expiry_id = ?", exp.ID).Order("email").Find(&removals)
		wantRemovals := []struct {
			user     users.User
			role     users.Role
			accounts []users.Account
		}{
			{tm.admin, users.Admin, []users.Account{adamAccount}},
			{tm.retired, users.Admin, nil},
			{tm.std, users.Standard, samAccounts},
			{tm.sub, users.Standard, nil},
		}
		if len(removals) != len(wantRemovals) {
			t.Fatalf("removals %+v", removals)
		}
		for i, want := range wantRemovals {
			r := removals[i]
			var ids []string
			for _, a := range want.accounts {
				ids = append(ids, a.ID)
			}
			got := strings.Split(r.Accounts, ",")
			if r.Accounts == "" {
				got = nil
			}
			slices.Sort(ids)
			slices.Sort(got)
			if r.UserID != want.user.ID || r.Email != want.user.Email || r.Name != want.user.Name || r.Role != want.role ||
				r.Outcome != "removed" || !sameTime(r.DoneAt, &deadline) || r.ReaddedAt != nil || !slices.Equal(got, ids) {
				t.Errorf("removal %+v, want %s as %s with accounts %v", r, want.user.Email, want.role, ids)
			}

			// Their login survives, unmanaged; a deactivated one stays so.
			u := f.Reload(t, want.user)
			if u.Managed() || u.Role != "" || u.JoinedAt != nil || u.PasswordHash != want.user.PasswordHash ||
				u.Email != want.user.Email || (u.DeactivatedAt != nil) != (want.user.ID == tm.retired.ID) {
				t.Errorf("removed user %+v", u)
			}
			for _, a := range want.accounts {
				if got := f.reloadAccount(t, a.ID); got.OwnerID != owner.ID || got.OrganizationID == nil || *got.OrganizationID != org.ID {
					t.Errorf("account %+v, want it owned by the Owner in the organization", got)
				}
			}
		}

		// Everyone else is as they were.
		for _, u := range []users.User{owner, eve, gina, nick, uma, zed} {
			if got := f.Reload(t, u); got.OrgID() != u.OrgID() || got.Role != u.Role {
				t.Errorf("%s changed: %+v", u.Email, got)
			}
		}
		for _, a := range []users.Account{ownerAccount, zedAccount} {
			if got := f.reloadAccount(t, a.ID); got.OwnerID != a.OwnerID {
				t.Errorf("account %s changed hands", a.Name)
			}
		}

		expired := f.audited(t, org.ID, "domain.expired")
		if len(expired) != 1 || expired[0].Actor != "system" || expired[0].TargetID != fmt.Sprint(d.ID) || !expired[0].CreatedAt.Equal(deadline) ||
			expired[0].Details != "not re-validated before 2026-04-01T09:00:00Z; deleted, 4 managed users to remove" {
			t.Fatalf("domain.expired entries %+v", expired)
		}
		removed := f.audited(t, org.ID, "member.removed")
		var labels []string
		for _, e := range removed {
			labels = append(labels, e.Target)
			if e.Actor != "system" || e.ActorID != nil || e.TargetType != "user" || !strings.HasPrefix(e.Details, "acme.test expired; ") {
				t.Errorf("member.removed entry %+v", e)
			}
		}
		slices.Sort(labels)
		if !slices.Equal(labels, []string{"adam@acme.test", "dora@acme.test", "sam@acme.test", "sue@sales.acme.test"}) {
			t.Fatalf("member.removed for %q", labels)
		}
		if e := removed[slices.IndexFunc(removed, func(e audit.Entry) bool { return e.Target == "sam@acme.test" })]; e.Details != "acme.test expired; 2 accounts now owned by olivia@acme.test" {
			t.Errorf("member.removed for sam: %q", e.Details)
		}

		// Each removed user is told once; the Owner and the Administrators
		// who are left get one summary.
		if got := f.recipients(t, "You are no longer managed by Acme Corp"); !slices.Equal(got, []string{"adam@acme.test", "dora@acme.test", "sam@acme.test", "sue@sales.acme.test"}) {
			t.Fatalf("removal emails to %q", got)
		}
		for _, m := range f.emails(t, "You are no longer managed by Acme Corp") {
			if !strings.Contains(m.Body, "Acme Corp could not keep acme.test verified") || !strings.Contains(m.Body, "You can still sign in") {
				t.Errorf("removal email:\n%s", m.Body)
			}
		}
		summary := "acme.test was deleted from Acme Corp"
		if got := f.recipients(t, summary); !slices.Equal(got, []string{"gina@globex.test", "olivia@acme.test"}) {
			t.Fatalf("summary sent to %q", got)
		}
		for _, m := range f.emails(t, summary) {
			for _, want := range []string{
				"Managed users removed from Acme Corp (4 users); they keep their logins",
				"adam <adam@acme.test>\n  dora <dora@acme.test>\n  sam <sam@acme.test>\n  sue <sue@sales.acme.test>",
				"https://admin.example.test/admin/domains",
			} {
				if !strings.Contains(m.Body, want) {
					t.Errorf("summary lacks %q:\n%s", want, m.Body)
				}
			}
		}
		wantField(t, domains.AllowsEmail(db, f.svc.Providers, org.ID, "new@acme.test"), "email", "acme.test is not one of your organization's domains")
		if err := domains.AllowsEmail(db, f.svc.Providers, org.ID, "new@eu.acme.test"); err != nil {
			t.Fatal(err)
		}

		// Nothing more happens later.
		emails := f.count(t, &mail.Message{}, "1 = 1")
		f.tickUntil(t, recheck, deadline.Add(3*recheck), nil)
		if n := f.count(t, &mail.Message{}, "1 = 1"); n != emails {
			t.Fatalf("%d more emails after the expiry", n-emails)
		}
		if n := f.count(t, &domains.Expiry{}, "1 = 1"); n != 1 {
			t.Fatalf("%d expiries", n)
		}
	})
}

// stopAt cancels the returned context when the nth row that matches is
// written, as if the process were stopped right there: the transaction
// writing it commits or not, and nothing after it runs. unhook removes the
// hook.
func stopAt(t *testing.T, db *gorm.DB, n int64, match func(row any) bool) (ctx context.Context, unhook func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var seen atomic.Int64
	const name = "test:stop"
	err := db.Callback().Create().After("gorm:create").Register(name, func(tx *gorm.DB) {
		if tx.Error == nil && match(tx.Statement.Dest) && seen.Add(1) == n {
			cancel()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return ctx, func() {
		if err := db.Callback().Create().Remove(name); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
}

func auditAction(action string) func(row any) bool {
	return func(row any) bool {
		e, ok := row.(*audit.Entry)
		return ok && e.Action == action
	}
}

// An expiry stopped anywhere after it was recorded is finished by a later
// RunDue, of any instance, once the stopped one's lease has run out: every
// user is removed exactly once, with one audit entry and one email, and
// the summary is written once.
func TestExpiryResumesAfterAStop(t *testing.T) {
	const people = 60 // more than one batch of removals
	stops := []struct {
		name    string
		n       int64
		match   func(row any) bool
		removed int // by the time it stopped
	}{
		{"right after the expiry was recorded", 1, auditAction("domain.expired"), 0},
		{"writing the second removal", 2, auditAction("member.removed"), 1},
		{"past the first batch of removals", 55, auditAction("member.removed"), 54},
		{"writing the summary", 1, func(row any) bool {
			m, ok := row.(*mail.Message)
			return ok && m.Subject == "acme.test was deleted from Acme Corp"
		}, people},
	}
	for _, stop := range stops {
		t.Run(stop.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, db *gorm.DB) {
				f := newFixture(t, db)
				org, owner := f.Org(t, "Acme Corp", "olivia@acme.test")
				f.Member(t, f.Person(t, "gina@globex.test", true, 0), org.ID, users.Admin)
				f.verified(t, owner, "globex.test")
				for i := range people {
					f.Member(t, f.Person(t, fmt.Sprintf("u%02d@acme.test", i), true, 0), org.ID, users.Standard)
				}
				d := f.demote(t, f.verified(t, owner, "acme.test"))
				f.advanceTo(t, *d.DeadlineAt)

				ctx, unhook := stopAt(t, db, stop.n, stop.match)
				if _, err := f.svc.RunDue(ctx, 4); err != nil && ctx.Err() == nil {
					t.Fatal(err)
				}
				unhook()
				var exp domains.Expiry
				if err := db.Take(&exp).Error; err != nil || exp.FinishedAt != nil {
					t.Fatalf("stopped expiry %+v, %v", exp, err)
				}
				type progress struct{ Removed, Pending, Audited, Emailed, Summaries int64 }
				state := func() progress {
					return progress{
						Removed:   f.count(t, &domains.Removal{}, "outcome = 'removed'"),
						Pending:   f.count(t, &domains.Removal{}, "outcome = 'pending'"),
						Audited:   int64(len(f.audited(t, org.ID, "member.removed"))),
						Emailed:   int64(len(f.emails(t, "You are no longer managed by Acme Corp"))),
						Summaries: int64(len(f.emails(t, "acme.test was deleted from Acme Corp"))),
					}
				}
				done := int64(stop.removed)
				if got, want := state(), (progress{Removed: done, Pending: people - done, Audited: done, Emailed: done}); got != want {
					t.Fatalf("when stopped: %+v, want %+v", got, want)
				}

				// While the stopped instance's lease runs, nobody takes it over.
				f.clk.Advance(time.Minute)
				f.runDue(t)
				if got := state(); got.Removed != done {
					t.Fatalf("resumed while the lease ran: %+v", got)
				}

				// Then two instances resume it at once. On PostgreSQL the stopped
				// transaction's row lock may outlive it for a moment, as a killed
				// process's lasts until the server notices: the instances skip
				// the locked expiry, and the next tick takes it.
				f.clk.Advance(10 * time.Minute)
				for tick := 0; ; tick++ {
					var wg sync.WaitGroup
					for _, s := range []*domains.Service{f.svc, f.service()} {
						wg.Go(func() {
							if _, err := s.RunDue(f.ctx, 4); err != nil {
								t.Error(err)
							}
						})
					}
					wg.Wait()
					exp = domains.Expiry{}
					db.Take(&exp)
					if exp.FinishedAt != nil || tick == 100 {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
				if exp.FinishedAt == nil || exp.LeaseUntil != nil {
					t.Fatalf("resumed expiry %+v", exp)
				}
				if got, want := state(), (progress{Removed: people, Audited: people, Emailed: people, Summaries: 2}); got != want {
					t.Fatalf("after resuming: %+v, want %+v", got, want)
				}
				for i := range people {
					email := fmt.Sprintf("u%02d@acme.test", i)
					if n := f.count(t, &audit.Entry{}, "action = 'member.removed' AND target = ?", email); n != 1 {
						t.Errorf("%s: %d member.removed entries", email, n)
					}
					if n := f.count(t, &mail.Message{}, "recipient = ?", email); n != 1 {
						t.Errorf("%s: %d emails", email, n)
					}
				}
				if got := f.recipients(t, "acme.test was deleted from Acme Corp"); !slices.Equal(got, []string{"gina@globex.test", "olivia@acme.test"}) {
					t.Fatalf("summary sent to %q", got)
				}
				if m := f.emails(t, "acme.test was deleted from Acme Corp")[0]; !strings.Contains(m.Body, fmt.Sprintf("Managed users removed from Acme Corp (%d users)", people)) {
					t.Fatalf("summary:\n%s", m.Body)
				}
				if n := len(f.audited(t, org.ID, "domain.expired")); n != 1 {
					t.Fatalf("%d domain.expired entries", n)
				}
				if n := f.count(t, &users.User{}, "organization_id = ?", org.ID); n != 2 {
					t.Fatalf("%d managed users left, want the Owner and gina", n)
				}
			})
		})
	}
}
