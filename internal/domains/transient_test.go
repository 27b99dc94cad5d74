package domains_test

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"gorm.io/gorm"

	"admincenter/internal/domains"
	"admincenter/internal/mail"
	"admincenter/internal/testdb"
	"admincenter/internal/testnet"
	"admincenter/internal/verify"
)

// fault is a way for DNS to be broken for a while: checks during it
// cannot tell whether the proof is there.
type fault struct {
	name  string
	start func(t *testing.T, f *fixture)
	stop  func(f *fixture)
	seen  string // in the summary of a check during the fault
}

var faults = []fault{
	{
		name:  "SERVFAIL",
		start: func(t *testing.T, f *fixture) { f.dns.Set(dns.RcodeServerFailure, false) },
		stop:  func(f *fixture) { f.dns.Set(0, false) },
		seen:  "answered SERVFAIL",
	},
	{
		// The resolver stops answering; its queries time out (quickly, so
		// that the test stays fast).
		name: "timeouts",
		start: func(t *testing.T, f *fixture) {
			f.svc.Checker = f.checkerAsking(t, testnet.SilentDNS(t), 20*time.Millisecond)
		},
		stop: func(f *fixture) { f.svc.Checker = f.checker },
		seen: "timeout after 20ms",
	},
}

// A verified domain is never demoted by checks that cannot tell: a whole
// day of them is retried hourly, changes nothing and tells nobody, and the
// first check that finds the proof again ends the run.
func TestTransientFailuresNeverDemote(t *testing.T) {
	for _, fl := range faults {
		t.Run(fl.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, db *gorm.DB) {
				f := newFixture(t, db)
				tm := f.team(t)
				d := f.verified(t, tm.owner, "acme.test")
				fl.start(t, f)
				f.clk.Advance(recheck)
				first := f.clk.Now()
				before := len(f.checks(t, d.ID))

				// Checks at 0h, 1h, ..., 24h: a day and an hour of faults.
				for hour := 0; hour <= 24; hour++ {
					if n := f.runDue(t); n != 1 {
						t.Fatalf("hour %d: RunDue checked %d", hour, n)
					}
					got := f.reload(t, d.ID)
					if got.Status != domains.Verified || !sameTime(got.InconclusiveSince, &first) ||
						!sameTime(got.NextCheckAt, at(f.clk.Now().Add(time.Hour))) || got.DeadlineAt != nil || got.LeaseUntil != nil {
						t.Fatalf("hour %d: %+v", hour, got)
					}
					f.clk.Advance(time.Hour - time.Second)
					if n := f.runDue(t); n != 0 {
						t.Fatalf("hour %d: retried %d early", hour, n)
					}
					f.clk.Advance(time.Second)
				}
				checks := f.checks(t, d.ID)[before:]
				if len(checks) != 2*25 {
					t.Fatalf("%d checks in 25 hours, want 25 of both methods", len(checks))
				}
				for _, c := range checks {
					if c.Outcome != verify.Inconclusive || !c.Automatic || (c.Method == verify.DNS && !strings.Contains(c.Summary, fl.seen)) {
						t.Fatalf("check during the fault: %+v", c)
					}
				}

				fl.stop(f)
				now := f.clk.Now()
				f.runDue(t)
				got := f.reload(t, d.ID)
				if got.Status != domains.Verified || got.InconclusiveSince != nil || !sameTime(got.NextCheckAt, at(now.Add(recheck))) {
					t.Fatalf("after the fault: %+v", got)
				}
				if n := len(f.history(t, tm.org.ID, d.ID)); n != 2 {
					t.Fatalf("the fault wrote %d audit entries", n-2)
				}
				if n := f.count(t, &mail.Message{}, "1 = 1"); n != 0 {
					t.Fatalf("the fault sent %d emails", n)
				}
			})
		})
	}
}

// Checks that cannot tell count as a missing proof once they have gone
// on for the inconclusive limit, whatever mix of faults they were: the
// domain is demoted at exactly 72 hours, not an hour earlier.
func TestInconclusiveForTheLimitCountsAsAbsent(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		tm := f.team(t)
		d := f.verified(t, tm.owner, "acme.test")
		timeouts, servfail := faults[1], faults[0]

		timeouts.start(t, f)
		f.clk.Advance(recheck)
		first := f.clk.Now()
		f.runDue(t)
		f.tickUntil(t, time.Hour, first.Add(12*time.Hour), nil)
		timeouts.stop(f)
		servfail.start(t, f)
		f.tickUntil(t, time.Hour, first.Add(inconclusiveLimit-time.Hour), nil)
		if got := f.reload(t, d.ID); got.Status != domains.Verified || !sameTime(got.InconclusiveSince, &first) {
			t.Fatalf("after 71 hours: %+v", got)
		}
		if n := len(f.emails(t, "Action needed: re-validate acme.test")); n != 0 {
			t.Fatalf("%d emails after 71 hours", n)
		}

		f.clk.Advance(time.Hour)
		now := f.clk.Now()
		f.runDue(t)
		got := f.reload(t, d.ID)
		if got.Status != domains.Revalidating || !sameTime(got.RevalidationStartedAt, &now) || !sameTime(got.DeadlineAt, at(now.Add(grace))) ||
			!sameTime(got.NextCheckAt, at(now.Add(recheck))) {
			t.Fatalf("after 72 hours: %+v", got)
		}
		entries := f.audited(t, tm.org.ID, "domain.revalidation_required")
		wantStart := "Verified → Re-validation required until " + now.Add(grace).Format(time.RFC3339) +
			": no check could tell for 3 days; the last one: Could not look up the TXT record at _twilio.acme.test: "
		if len(entries) != 1 || !strings.HasPrefix(entries[0].Details, wantStart) || !strings.Contains(entries[0].Details, "SERVFAIL") {
			t.Fatalf("audit entries %+v, want one starting %q", entries, wantStart)
		}
		if got := f.recipients(t, "Action needed: re-validate acme.test"); len(got) != 2 {
			t.Fatalf("told %q", got)
		}
		m := f.emails(t, "Action needed: re-validate acme.test")[0]
		if !strings.Contains(m.Body, "no check could tell for 3 days") || !strings.Contains(m.Body, deadlineText(now.Add(grace))) {
			t.Fatalf("email:\n%s", m.Body)
		}

		// Still unreachable, it stays in re-validation, checked daily, and
		// its deadline does not move.
		f.tickUntil(t, time.Hour, now.Add(2*recheck), nil)
		if again := f.reload(t, d.ID); again.Status != domains.Revalidating || !sameTime(again.DeadlineAt, got.DeadlineAt) ||
			!sameTime(again.NextCheckAt, at(now.Add(3*recheck))) {
			t.Fatalf("two days later: %+v", again)
		}
	})
}

// A found or an absent result ends a run of checks that could not tell:
// after a found one, the 72 hours start again at the next fault; an
// absent one demotes at once, whatever came before.
func TestFoundOrAbsentEndsTheInconclusiveRun(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		tm := f.team(t)
		d := f.verified(t, tm.owner, "acme.test")
		servfail := faults[0]

		// 48 hours of faults, one day found, 48 hours of faults: more than
		// 72 hours of faults, but never 72 in a row.
		servfail.start(t, f)
		f.clk.Advance(recheck)
		f.runDue(t)
		f.tickUntil(t, time.Hour, f.clk.Now().Add(48*time.Hour), nil)
		servfail.stop(f)
		f.tickUntil(t, time.Hour, f.clk.Now().Add(time.Hour), nil)
		if got := f.reload(t, d.ID); got.Status != domains.Verified || got.InconclusiveSince != nil {
			t.Fatalf("after the proof was found again: %+v", got)
		}
		servfail.start(t, f)
		f.tickUntil(t, time.Hour, f.clk.Now().Add(recheck), nil)
		second := f.reload(t, d.ID).InconclusiveSince
		f.tickUntil(t, time.Hour, second.Add(48*time.Hour), nil)
		got := f.reload(t, d.ID)
		if got.Status != domains.Verified || !sameTime(got.InconclusiveSince, second) {
			t.Fatalf("48 hours into the second run: %+v", got)
		}

		// Now DNS answers again, and says the record is gone.
		servfail.stop(f)
		f.withdrawProof(d)
		f.clk.Advance(time.Hour)
		now := f.clk.Now()
		f.runDue(t)
		got = f.reload(t, d.ID)
		if got.Status != domains.Revalidating || got.InconclusiveSince != nil || !sameTime(got.DeadlineAt, at(now.Add(grace))) {
			t.Fatalf("after an absent result: %+v", got)
		}
		entries := f.audited(t, tm.org.ID, "domain.revalidation_required")
		if len(entries) != 1 || !strings.HasSuffix(entries[0].Details, ": No TXT record at _twilio.acme.test: the name does not exist (NXDOMAIN).") {
			t.Fatalf("audit entries %+v", entries)
		}
	})
}
