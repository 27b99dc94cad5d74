package domains_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"gorm.io/gorm"

	"admincenter/internal/domains"
	"admincenter/internal/orgs"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
	"admincenter/internal/verify"
)

// team is an organization as the re-validation tests need it: the Owner
// and an Administrator, who are told about everything, and the managed
// users an expiry of acme.test would remove.
type team struct {
	org     orgs.Organization
	owner   users.User // olivia@acme.test: told, never removed
	admin   users.User // adam@acme.test: told, at risk
	std     users.User // sam@acme.test: at risk
	sub     users.User // sue@sales.acme.test: at risk (a subdomain)
	retired users.User // dora@acme.test, a deactivated Administrator: at risk, not told
}

// teamAdmins are the people told about the team's domains.
var teamAdmins = []string{"adam@acme.test", "olivia@acme.test"}

func (f *fixture) team(t *testing.T) team {
	t.Helper()
	org, owner := f.Org(t, "Acme Corp", "olivia@acme.test")
	tm := team{
		org: org, owner: owner,
		admin:   f.Member(t, f.Person(t, "adam@acme.test", true, 0), org.ID, users.Admin),
		std:     f.Member(t, f.Person(t, "sam@acme.test", true, 0), org.ID, users.Standard),
		sub:     f.Member(t, f.Person(t, "sue@sales.acme.test", true, 0), org.ID, users.Standard),
		retired: f.Member(t, f.Person(t, "dora@acme.test", true, 0), org.ID, users.Admin),
	}
	f.deactivate(t, tm.retired)
	f.Person(t, "uma@acme.test", true, 0) // unmanaged: never at risk
	return tm
}

// A definitive absence found by the daily check starts the re-validation:
// the deadline is the grace period away, the Owner and Administrators are
// told why, by when, and how many users they would lose.
func TestProofMissingStartsRevalidation(t *testing.T) {
	cases := []struct {
		name   string
		method verify.Method // that proved the domain
		lose   func(t *testing.T, f *fixture, d domains.Domain)
		why    func(f *fixture, d domains.Domain) string
	}{
		{
			name: "TXT record deleted (NXDOMAIN)", method: verify.DNS,
			lose: func(t *testing.T, f *fixture, d domains.Domain) { f.dns.Remove(d.TXTName()) },
			why: func(*fixture, domains.Domain) string {
				return "No TXT record at _twilio.acme.test: the name does not exist (NXDOMAIN)."
			},
		},
		{
			name: "TXT record replaced by another type (NODATA)", method: verify.DNS,
			lose: func(t *testing.T, f *fixture, d domains.Domain) {
				f.dns.Remove(d.TXTName())
				f.dns.Add(t, d.TXTName()+". 300 IN A 127.0.0.1")
			},
			why: func(*fixture, domains.Domain) string {
				return "No TXT record at _twilio.acme.test: the name exists but has no TXT record."
			},
		},
		{
			name: "TXT record altered", method: verify.DNS,
			lose: func(t *testing.T, f *fixture, d domains.Domain) {
				f.dns.Remove(d.TXTName())
				f.dns.Add(t, d.TXTName()+`. 300 IN TXT "twilio-domain-verification=0123"`)
			},
			why: func(*fixture, domains.Domain) string {
				return `Found 1 TXT record at _twilio.acme.test, but it is not the expected value: "twilio-domain-verification=0123".`
			},
		},
		{
			name: "HTML file deleted", method: verify.HTTPS,
			lose: func(t *testing.T, f *fixture, d domains.Domain) { f.unpublishFile(d) },
			why: func(f *fixture, d domains.Domain) string {
				return fmt.Sprintf("https://acme.test:%d/%s answered 404 Not Found.", f.site.Port, d.FileName)
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, db *gorm.DB) {
				f := newFixture(t, db)
				tm := f.team(t)
				d := f.verifiedBy(t, tm.owner, "acme.test", tc.method)
				tc.lose(t, f, d)

				f.clk.Advance(recheck - time.Second)
				if n := f.runDue(t); n != 0 {
					t.Fatalf("checked %d domains before the day was over", n)
				}
				f.clk.Advance(time.Second)
				now := f.clk.Now()
				if n := f.runDue(t); n != 1 {
					t.Fatalf("RunDue checked %d domains", n)
				}
				deadline := now.Add(grace)
				got := f.reload(t, d.ID)
				if got.Status != domains.Revalidating || !sameTime(got.RevalidationStartedAt, &now) || !sameTime(got.DeadlineAt, &deadline) ||
					!sameTime(got.NextCheckAt, at(now.Add(recheck))) || !sameTime(got.LastCheckedAt, &now) || got.InconclusiveSince != nil ||
					got.WarnedFirstAt != nil || got.WarnedLastAt != nil || got.LeaseUntil != nil || got.VerifiedMethod != tc.method {
					t.Fatalf("after the proof went missing: %+v", got)
				}

				// The method that proved it is tried first, then the other.
				checks := f.checks(t, d.ID)[2:]
				if len(checks) != 2 || checks[0].Method != tc.method || checks[1].Method == tc.method ||
					checks[0].Outcome != verify.Absent || checks[1].Outcome != verify.Absent ||
					!checks[0].Automatic || !checks[1].Automatic || checks[0].Summary != tc.why(f, d) {
					t.Fatalf("daily check %+v", checks)
				}

				why := tc.why(f, d)
				entries := f.history(t, tm.org.ID, d.ID)
				if got := strings.Join(actions(entries), " "); got != "domain.added domain.verified domain.revalidation_required" {
					t.Fatalf("history: %s", got)
				}
				if e := entries[2]; e.Actor != "system" || e.ActorID != nil || !e.CreatedAt.Equal(now) ||
					e.Details != "Verified → Re-validation required until 2026-04-01T09:00:00Z: "+why {
					t.Fatalf("audit entry %+v", e)
				}

				subject := "Action needed: re-validate acme.test"
				if got := f.recipients(t, subject); !slices.Equal(got, teamAdmins) {
					t.Fatalf("%q sent to %q, want the Owner and the active Administrators", subject, got)
				}
				for _, m := range f.emails(t, subject) {
					for _, want := range []string{
						"The proof that Acme Corp owns acme.test is missing.", why,
						"If it is not verified again by 1 Apr 2026 09:00 UTC, the domain will be deleted from the organization, and the managed users with an address at it (4 users) will be removed.",
						fmt.Sprintf("https://admin.example.test/admin/domains/%d", d.ID),
					} {
						if !strings.Contains(m.Body, want) {
							t.Errorf("email to %s lacks %q:\n%s", m.Recipient, want, m.Body)
						}
					}
				}
				if n := f.count(t, &users.User{}, "organization_id = ?", tm.org.ID); n != 5 {
					t.Fatalf("%d managed users left; re-validation removes nobody", n)
				}
			})
		})
	}
}

// With nobody at risk the emails still say by when the domain must be
// verified again.
func TestRevalidationEmailsNameTheDeadlineWithNobodyAtRisk(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		_, owner := f.Org(t, "Acme Corp", "olivia@acme.test")
		d := f.demote(t, f.verified(t, owner, "acme.test"))
		f.advanceTo(t, d.DeadlineAt.Add(-grace*7/30))
		f.runDue(t)

		for _, subject := range []string{"Action needed: re-validate acme.test", "7 days left to re-validate acme.test"} {
			m := f.emails(t, subject)
			if len(m) != 1 {
				t.Fatalf("%d emails %q", len(m), subject)
			}
			for _, want := range []string{deadlineText(*d.DeadlineAt), "No managed user would be removed."} {
				if !strings.Contains(m[0].Body, want) {
					t.Errorf("%q lacks %q:\n%s", subject, want, m[0].Body)
				}
			}
		}
	})
}

// Once running, the deadline never moves later: not on later failed
// checks, not on a failed Verify click, not on checks that cannot tell.
// Nor is anyone told twice.
func TestDeadlineNeverMovesLater(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		tm := f.team(t)
		d := f.demote(t, f.verified(t, tm.owner, "acme.test"))
		started, deadline := *d.RevalidationStartedAt, *d.DeadlineAt

		steps := []struct {
			name string
			do   func(t *testing.T)
		}{
			{"five more daily checks fail", func(t *testing.T) {
				for range 5 {
					f.advanceTo(t, *f.reload(t, d.ID).NextCheckAt)
					if n := f.runDue(t); n != 1 {
						t.Fatalf("RunDue checked %d", n)
					}
				}
			}},
			{"a Verify click fails", func(t *testing.T) {
				f.clk.Advance(time.Hour)
				got, report, err := f.svc.Verify(f.ctx, tm.admin.ID, d.ID, verify.DNS)
				if err != nil || got.Status != domains.Revalidating || report.Outcome() != verify.Absent {
					t.Fatalf("Verify: %+v, %s, %v", got, report.Outcome(), err)
				}
			}},
			{"a day of SERVFAIL", func(t *testing.T) {
				f.dns.Set(dns.RcodeServerFailure, false)
				defer f.dns.Set(0, false)
				f.advanceTo(t, *f.reload(t, d.ID).NextCheckAt)
				first := f.clk.Now()
				f.runDue(t)
				for range 24 {
					got := f.reload(t, d.ID)
					if !sameTime(got.InconclusiveSince, &first) || !sameTime(got.NextCheckAt, at(f.clk.Now().Add(time.Hour))) {
						t.Fatalf("checks that cannot tell are retried hourly: %+v", got)
					}
					f.clk.Advance(time.Hour)
					if n := f.runDue(t); n != 1 {
						t.Fatalf("RunDue checked %d", n)
					}
				}
			}},
			{"the next check fails again", func(t *testing.T) {
				f.advanceTo(t, *f.reload(t, d.ID).NextCheckAt)
				f.runDue(t)
				if got := f.reload(t, d.ID); got.InconclusiveSince != nil {
					t.Fatalf("an absent result leaves the run of checks that could not tell open: %+v", got)
				}
			}},
		}
		for _, step := range steps {
			step.do(t)
			got := f.reload(t, d.ID)
			if got.Status != domains.Revalidating || !sameTime(got.DeadlineAt, &deadline) || !sameTime(got.RevalidationStartedAt, &started) {
				t.Fatalf("after %s: %+v, want the deadline to stay %s", step.name, got, deadline)
			}
		}
		if n := len(f.audited(t, tm.org.ID, "domain.revalidation_required")); n != 1 {
			t.Fatalf("%d domain.revalidation_required entries", n)
		}
		if got := f.recipients(t, "Action needed: re-validate acme.test"); !slices.Equal(got, teamAdmins) {
			t.Fatalf("told %q", got)
		}
	})
}

// A proof back in place before the deadline restores the domain, whoever
// finds it: the daily check, a Verify click by either method, or the last
// check at the deadline. A later loss starts a new grace period.
func TestRestoredBeforeTheDeadline(t *testing.T) {
	cases := []struct {
		name    string
		restore func(t *testing.T, f *fixture, tm team, d domains.Domain) // returns at the moment of the restoring check
		actor   string
		proof   string
	}{
		{
			name: "by the daily check",
			restore: func(t *testing.T, f *fixture, tm team, d domains.Domain) {
				f.tickUntil(t, recheck, d.DeadlineAt.Add(-10*recheck), nil)
				f.publishTXT(t, d)
				f.tickUntil(t, recheck, f.clk.Now().Add(recheck), nil)
			},
			actor: "system", proof: "DNS record before the deadline of 2026-04-01T09:00:00Z: Found the expected TXT record at _twilio.acme.test.",
		},
		{
			name: "by a Verify click, with the other method",
			restore: func(t *testing.T, f *fixture, tm team, d domains.Domain) {
				f.tickUntil(t, recheck, d.DeadlineAt.Add(-3*recheck), nil) // after the first reminder
				f.publishFile(d)
				f.clk.Advance(time.Hour)
				got, _, err := f.svc.Verify(f.ctx, tm.admin.ID, d.ID, verify.DNS)
				if err != nil || got.Status != domains.Verified || got.VerifiedMethod != verify.HTTPS {
					t.Fatalf("Verify: %+v, %v", got, err)
				}
			},
			actor: "adam@acme.test", proof: "HTML file before the deadline of 2026-04-01T09:00:00Z: https://acme.test:",
		},
		{
			name: "by the last check at the deadline",
			restore: func(t *testing.T, f *fixture, tm team, d domains.Domain) {
				f.tickUntil(t, recheck, d.DeadlineAt.Add(-time.Second), nil) // both reminders go out
				f.publishTXT(t, d)
				f.tickUntil(t, time.Hour, *d.DeadlineAt, nil)
			},
			actor: "system", proof: "DNS record before the deadline of 2026-04-01T09:00:00Z: Found the expected TXT record at _twilio.acme.test.",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, db *gorm.DB) {
				f := newFixture(t, db)
				tm := f.team(t)
				verifiedAt := f.clk.Now()
				d := f.demote(t, f.verified(t, tm.owner, "acme.test"))

				tc.restore(t, f, tm, d)
				now := f.clk.Now()
				got := f.reload(t, d.ID)
				if got.Status != domains.Verified || got.RevalidationStartedAt != nil || got.DeadlineAt != nil ||
					got.WarnedFirstAt != nil || got.WarnedLastAt != nil || got.InconclusiveSince != nil || got.LeaseUntil != nil ||
					!sameTime(got.NextCheckAt, at(now.Add(recheck))) || !sameTime(got.VerifiedAt, &verifiedAt) {
					t.Fatalf("after the proof came back: %+v", got)
				}
				restored := f.audited(t, tm.org.ID, "domain.restored")
				if len(restored) != 1 || restored[0].Actor != tc.actor || !restored[0].CreatedAt.Equal(now) ||
					!strings.HasPrefix(restored[0].Details, "Re-validation required → Verified by "+tc.proof) {
					t.Fatalf("domain.restored entries %+v", restored)
				}
				subject := "acme.test is verified again"
				if got := f.recipients(t, subject); !slices.Equal(got, teamAdmins) {
					t.Fatalf("%q sent to %q", subject, got)
				}
				for _, m := range f.emails(t, subject) {
					if !strings.Contains(m.Body, "the domain is verified again for Acme Corp, and nobody will be removed") ||
						!strings.Contains(m.Body, fmt.Sprintf("https://admin.example.test/admin/domains/%d", d.ID)) {
						t.Errorf("email to %s:\n%s", m.Recipient, m.Body)
					}
				}
				if n := f.count(t, &domains.Expiry{}, "1 = 1"); n != 0 {
					t.Fatalf("%d expiries of a restored domain", n)
				}
				if n := f.count(t, &users.User{}, "organization_id = ?", tm.org.ID); n != 5 {
					t.Fatalf("%d managed users left", n)
				}
				if err := domains.AllowsEmail(db, f.svc.Providers, tm.org.ID, "new@acme.test"); err != nil {
					t.Fatalf("AllowsEmail after the restore: %v", err)
				}

				// Nothing more happens at the old deadline.
				f.tickUntil(t, recheck, d.DeadlineAt.Add(recheck), nil)
				if got := f.reload(t, d.ID); got.Status != domains.Verified || len(f.emails(t, subject)) != 2 {
					t.Fatalf("after the old deadline: %+v", got)
				}

				// A new loss is a new re-validation, with a new deadline.
				again := f.demote(t, got)
				if !again.DeadlineAt.After(*d.DeadlineAt) || again.WarnedFirstAt != nil || again.WarnedLastAt != nil {
					t.Fatalf("second re-validation: %+v", again)
				}
				if n := len(f.audited(t, tm.org.ID, "domain.revalidation_required")); n != 2 {
					t.Fatalf("%d domain.revalidation_required entries", n)
				}
				if n := len(f.emails(t, "Action needed: re-validate acme.test")); n != 4 {
					t.Fatalf("%d emails for two re-validations", n)
				}
			})
		})
	}
}

// The daily check asks the method that proved the domain, and the other
// only when that one finds nothing.
func TestAutomaticCheckUsesTheProvingMethodFirst(t *testing.T) {
	txtQuery := "udp TXT _twilio.acme.test."
	cases := []struct {
		name       string
		method     verify.Method // that proved the domain
		after      func(f *fixture, d domains.Domain)
		wantChecks []verify.Method // of the daily check, in order
		wantNow    verify.Method   // the method that proves it now
		wantTXT    bool            // whether the TXT record was looked up
		wantFile   bool            // whether the file was fetched
	}{
		{
			name: "DNS proof in place: the file is not fetched", method: verify.DNS,
			after:      func(f *fixture, d domains.Domain) { f.publishFile(d) },
			wantChecks: []verify.Method{verify.DNS}, wantNow: verify.DNS, wantTXT: true,
		},
		{
			name: "file in place: the TXT record is not looked up", method: verify.HTTPS,
			after:      func(f *fixture, d domains.Domain) {},
			wantChecks: []verify.Method{verify.HTTPS}, wantNow: verify.HTTPS, wantFile: true,
		},
		{
			name: "DNS proof gone, file in place: the file keeps it verified", method: verify.DNS,
			after: func(f *fixture, d domains.Domain) {
				f.dns.Remove(d.TXTName())
				f.publishFile(d)
			},
			wantChecks: []verify.Method{verify.DNS, verify.HTTPS}, wantNow: verify.HTTPS, wantTXT: true, wantFile: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, db *gorm.DB) {
				f := newFixture(t, db)
				org, owner := f.Org(t, "Acme Corp", "olivia@acme.test")
				d := f.verifiedBy(t, owner, "acme.test", tc.method)
				tc.after(f, d)
				f.clk.Advance(recheck)
				queries, fetches := len(f.dns.Queries()), len(f.site.Seen())

				if n := f.runDue(t); n != 1 {
					t.Fatalf("RunDue checked %d", n)
				}
				var methods []verify.Method
				for _, c := range f.checks(t, d.ID)[2:] {
					methods = append(methods, c.Method)
				}
				if !slices.Equal(methods, tc.wantChecks) {
					t.Fatalf("daily check by %v, want %v", methods, tc.wantChecks)
				}
				if asked := slices.Contains(f.dns.Queries()[queries:], txtQuery); asked != tc.wantTXT {
					t.Errorf("TXT record looked up: %t, want %t", asked, tc.wantTXT)
				}
				if fetched := len(f.site.Seen()) > fetches; fetched != tc.wantFile {
					t.Errorf("file fetched: %t, want %t", fetched, tc.wantFile)
				}
				got := f.reload(t, d.ID)
				if got.Status != domains.Verified || got.VerifiedMethod != tc.wantNow || !sameTime(got.NextCheckAt, at(f.clk.Now().Add(recheck))) {
					t.Fatalf("after the daily check: %+v", got)
				}
				if n := len(f.history(t, org.ID, d.ID)); n != 2 {
					t.Fatalf("a passing daily check wrote %d audit entries", n-2)
				}

				// The next day, the method that proves it now goes first.
				f.clk.Advance(recheck)
				before := len(f.checks(t, d.ID))
				f.runDue(t)
				if next := f.checks(t, d.ID)[before:]; len(next) != 1 || next[0].Method != tc.wantNow || next[0].Outcome != verify.Found {
					t.Fatalf("next daily check %+v", next)
				}
			})
		})
	}
}
