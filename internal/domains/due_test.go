package domains_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/domains"
	"admincenter/internal/testdb"
	"admincenter/internal/verify"
)

// delay is the wait before the automatic check that follows check n of a
// propagation window (n = 0 is the Verify click).
func delay(n int) time.Duration {
	switch n {
	case 0:
		return time.Minute
	case 1:
		return 5 * time.Minute
	case 2:
		return 15 * time.Minute
	}
	return time.Hour
}

// runDue runs the due checks at the current fake time.
func (f *fixture) runDue(t *testing.T) int {
	t.Helper()
	n, err := f.svc.RunDue(f.ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Without proof a Verify click starts 72 hours of automatic checks, about
// 1, 5 and 15 minutes apart, then hourly, ending exactly at the window's
// end; then the domain fails, and a new Verify click starts over.
func TestPropagationWindow(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		org, owner := f.Org(t, "Acme Corp", "olivia@acme.test")
		d := f.add(t, owner, "acme.test")
		f.clk.Advance(time.Hour)
		start := f.clk.Now()
		end := start.Add(window)

		got, report, err := f.svc.Verify(f.ctx, owner.ID, d.ID, verify.DNS)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != domains.Pending || !sameTime(got.WindowEndsAt, at(end)) || !sameTime(got.NextCheckAt, at(start.Add(time.Minute))) ||
			got.WindowStep != 0 || report.Outcome() != verify.Absent {
			t.Fatalf("after Verify without proof: %+v, outcome %s", got, report.Outcome())
		}
		checks := f.checks(t, d.ID)
		if len(checks) != 2 || checks[0].Automatic || checks[0].Method != verify.DNS || checks[1].Method != verify.HTTPS ||
			checks[0].Outcome != verify.Absent || checks[1].Outcome != verify.Absent ||
			checks[0].Summary != "No TXT record at _twilio.acme.test: the name does not exist (NXDOMAIN)." ||
			checks[1].Summary != fmt.Sprintf("https://acme.test:%d/%s answered 404 Not Found.", f.site.Port, d.FileName) {
			t.Fatalf("checks %+v", checks)
		}
		if got := actions(f.history(t, org.ID, d.ID)); len(got) != 1 {
			t.Fatalf("a pending Verify without proof wrote %v", got)
		}

		if n := f.runDue(t); n != 0 {
			t.Fatalf("RunDue checked %d domains before they were due", n)
		}
		f.clk.Advance(time.Minute - time.Second)
		if n := f.runDue(t); n != 0 {
			t.Fatalf("RunDue checked %d domains a second early", n)
		}
		f.clk.Advance(time.Second)

		rounds := 0
		for ; ; rounds++ {
			if rounds > 100 {
				t.Fatal("the window never ends")
			}
			if n := f.runDue(t); n != 1 {
				t.Fatalf("round %d: RunDue checked %d domains", rounds, n)
			}
			now := f.clk.Now()
			got = f.reload(t, d.ID)
			if got.Status == domains.Failed {
				break
			}
			want := now.Add(delay(rounds + 1))
			if want.After(end) {
				want = end
			}
			if got.Status != domains.Pending || !sameTime(got.NextCheckAt, &want) || got.WindowStep != rounds+1 ||
				!sameTime(got.LastCheckedAt, &now) || got.LeaseUntil != nil {
				t.Fatalf("round %d at %s: %+v, want the next check at %s", rounds, now.Sub(start), got, want.Sub(start))
			}
			f.clk.Advance(got.NextCheckAt.Sub(now))
		}
		if !f.clk.Now().Equal(end) {
			t.Fatalf("failed at %s, want at the window's end", f.clk.Now().Sub(start))
		}
		// At 1m, 6m and 21m, then hourly from 1h21m to 71h21m; the next one,
		// at 72h, fails.
		if rounds != 3+71 {
			t.Fatalf("%d automatic checks before failing", rounds)
		}
		if got.NextCheckAt != nil || got.WindowEndsAt != nil {
			t.Fatalf("failed domain still scheduled: %+v", got)
		}
		checks = f.checks(t, d.ID)
		if len(checks) != 2+2*(rounds+1) {
			t.Fatalf("%d checks recorded, want %d", len(checks), 2+2*(rounds+1))
		}
		for _, c := range checks[2:] {
			if !c.Automatic {
				t.Fatalf("check %+v not marked automatic", c)
			}
		}
		entries := f.history(t, org.ID, d.ID)
		last := entries[len(entries)-1]
		if last.Action != "domain.verification_failed" || last.Actor != "system" || last.ActorID != nil ||
			last.Details != "no proof within the propagation window: No TXT record at _twilio.acme.test: the name does not exist (NXDOMAIN)." {
			t.Fatalf("audit entry %+v", last)
		}
		f.clk.Advance(10 * 24 * time.Hour)
		if n := f.runDue(t); n != 0 {
			t.Fatalf("a failed domain was checked again (%d)", n)
		}

		// Verify on a failed domain opens a new window.
		restart := f.clk.Now()
		got, _, err = f.svc.Verify(f.ctx, owner.ID, d.ID, verify.HTTPS)
		if err != nil || got.Status != domains.Pending || !sameTime(got.WindowEndsAt, at(restart.Add(window))) ||
			!sameTime(got.NextCheckAt, at(restart.Add(time.Minute))) || got.WindowStep != 0 || got.Method != verify.HTTPS {
			t.Fatalf("Verify after failing: %+v, %v", got, err)
		}
		entries = f.history(t, org.ID, d.ID)
		last = entries[len(entries)-1]
		if last.Action != "domain.verification_restarted" || last.Actor != "olivia@acme.test" ||
			last.Details != "automatic checks until "+restart.Add(window).Format(time.RFC3339) {
			t.Fatalf("audit entry %+v", last)
		}
	})
}

// A proof published during the window is found by the next automatic
// check, by either method.
func TestProofFoundByAutomaticCheck(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		org, owner := f.Org(t, "Acme Corp", "olivia@acme.test")
		d := f.add(t, owner, "acme.test")
		if _, _, err := f.svc.Verify(f.ctx, owner.ID, d.ID, verify.DNS); err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(time.Minute)
		f.runDue(t)
		f.clk.Advance(5 * time.Minute)
		f.runDue(t)
		if got := f.reload(t, d.ID); got.Status != domains.Pending || got.WindowStep != 2 {
			t.Fatalf("%+v", got)
		}

		f.publishFile(d)
		f.clk.Advance(15 * time.Minute)
		now := f.clk.Now()
		if n := f.runDue(t); n != 1 {
			t.Fatalf("RunDue checked %d", n)
		}
		got := f.reload(t, d.ID)
		if got.Status != domains.Verified || got.VerifiedMethod != verify.HTTPS || !sameTime(got.VerifiedAt, &now) ||
			!sameTime(got.NextCheckAt, at(now.Add(recheck))) || got.WindowEndsAt != nil || got.WindowStep != 0 || got.LeaseUntil != nil {
			t.Fatalf("after the proof appeared: %+v", got)
		}
		entries := f.history(t, org.ID, d.ID)
		last := entries[len(entries)-1]
		if last.Action != "domain.verified" || last.Actor != "system" || !strings.Contains(last.Details, "Pending verification → Verified by HTML file") {
			t.Fatalf("audit entry %+v", last)
		}

		// A verified domain is checked again after a day, by the method
		// that proved it first, and not before.
		f.clk.Advance(recheck - time.Second)
		if n := f.runDue(t); n != 0 {
			t.Fatalf("re-checked %d early", n)
		}
		f.clk.Advance(time.Second)
		if n := f.runDue(t); n != 1 {
			t.Fatalf("RunDue checked %d", n)
		}
		// A proof still in place needs no second method.
		checks := f.checks(t, d.ID)
		lastCheck, before := checks[len(checks)-1], checks[len(checks)-2]
		if lastCheck.Method != verify.HTTPS || lastCheck.Outcome != verify.Found || !lastCheck.Automatic || before.CheckedAt.Equal(lastCheck.CheckedAt) {
			t.Fatalf("daily re-check %+v, before it %+v", lastCheck, before)
		}
		if got := f.reload(t, d.ID); got.Status != domains.Verified || !sameTime(got.NextCheckAt, at(f.clk.Now().Add(recheck))) {
			t.Fatalf("after the daily re-check: %+v", got)
		}
		if n := len(f.history(t, org.ID, d.ID)); n != len(entries) {
			t.Fatal("a passing re-check wrote to the audit log")
		}
	})
}

// Several RunDue at once, as several instances run them, check each due
// domain once: round after round, every domain gets exactly one round of
// checks.
func TestRunDueClaimsEachDomainOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		_, owner := f.Org(t, "Acme Corp", "olivia@acme.test")
		const count, instances = 50, 6
		ids := make([]int64, count)
		for i := range count {
			d := f.add(t, owner, fmt.Sprintf("d%02d.example.test", i))
			if _, _, err := f.svc.Verify(f.ctx, owner.ID, d.ID, verify.DNS); err != nil {
				t.Fatal(err)
			}
			ids[i] = d.ID
		}
		for round := 1; round <= 3; round++ {
			f.clk.Advance(delay(round - 1))
			done := make([]int, instances)
			errs := make([]error, instances)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range instances {
				wg.Go(func() {
					<-start
					done[i], errs[i] = f.svc.RunDue(f.ctx, 8)
				})
			}
			close(start)
			wg.Wait()
			total := 0
			for i := range instances {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				total += done[i]
			}
			if total != count {
				t.Fatalf("round %d: %v domains checked by each RunDue, want %d in all", round, done, count)
			}
			for _, id := range ids {
				if n := f.count(t, &domains.Check{}, "domain_id = ? AND automatic = ?", id, true); n != int64(2*round) {
					t.Fatalf("round %d: domain %d has %d automatic checks, want %d", round, id, n, 2*round)
				}
				if got := f.reload(t, id); got.WindowStep != round || got.LeaseUntil != nil {
					t.Fatalf("round %d: domain %d: %+v", round, id, got)
				}
			}
		}
	})
}
