package domains_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/domains"
	"admincenter/internal/mail"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
	"admincenter/internal/verify"
)

// Two instances running their RunDue loops at the same moments on one
// database share the work: through three daily intervals, re-validations,
// restores, both reminders and the expiries, every domain is checked
// exactly once per interval, and every email and audit entry is written
// exactly once.
func TestSeveralInstancesShareTheWork(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		const shortGrace = 48 * time.Hour // the deadline falls on the third interval
		instances := []*domains.Service{f.svc, f.service()}
		for _, s := range instances {
			s.GracePeriod = shortGrace
		}
		org, owner := f.Org(t, "Corp", "olivia@hq.test")
		f.Member(t, f.Person(t, "adam@hq.test", true, 0), org.ID, users.Admin)
		told := []string{"adam@hq.test", "olivia@hq.test"}

		const count = 30
		all := make([]domains.Domain, count)
		for i := range count {
			name := fmt.Sprintf("d%02d.test", i)
			f.Member(t, f.Person(t, fmt.Sprintf("u%02d@%s", i, name), true, 0), org.ID, users.Standard)
			all[i] = f.verified(t, owner, name)
		}
		// The first ten keep their proof; the next ten lose it for good; the
		// last ten lose it and put it back after the first interval.
		lost, back := all[10:20], all[20:]
		isLost := map[int64]bool{}
		for _, d := range lost {
			isLost[d.ID] = true
		}
		for _, d := range all[10:] {
			f.dns.Remove(d.TXTName())
		}
		t0 := f.clk.Now()
		deadline := t0.Add(recheck + shortGrace)

		rounds := []struct {
			name   string
			at     time.Time
			due    int  // domains with work due
			checks bool // whether it is a check interval
			after  func()
		}{
			{"first interval", t0.Add(recheck), count, true, func() {
				for _, d := range back {
					f.publishTXT(t, d)
				}
			}},
			{"second interval", t0.Add(2 * recheck), count, true, nil},
			{"first reminder", deadline.Add(-shortGrace * 7 / 30), len(lost), false, nil},
			{"last reminder", deadline.Add(-shortGrace / 30), len(lost), false, nil},
			{"third interval, at the deadline", deadline, count, true, nil},
		}
		for _, r := range rounds {
			f.advanceTo(t, r.at)
			done := make([]int, len(instances))
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i, s := range instances {
				wg.Go(func() {
					<-start
					n, err := s.RunDue(f.ctx, 4)
					if err != nil {
						t.Error(err)
					}
					done[i] = n
				})
			}
			close(start)
			wg.Wait()
			if done[0]+done[1] != r.due {
				t.Fatalf("%s: the instances did %v, want %d in all", r.name, done, r.due)
			}

			var checks []domains.Check
			db.Where("automatic = ? AND method = ?", true, verify.DNS).Find(&checks)
			now := map[int64]int{}
			for _, c := range checks {
				if c.CheckedAt.Equal(r.at) {
					now[c.DomainID]++
				}
			}
			for _, d := range all {
				want := 0
				if r.checks {
					want = 1
				}
				if r.at.Equal(deadline) && isLost[d.ID] {
					want = 0 // expired: deleted with its checks
				}
				if now[d.ID] != want {
					t.Fatalf("%s: %s checked %d times, want %d", r.name, d.Name, now[d.ID], want)
				}
			}
			if r.after != nil {
				r.after()
			}
		}

		// Each domain went through its states once.
		for _, d := range all {
			if n := f.count(t, &domains.Domain{}, "id = ?", d.ID); (n == 0) != isLost[d.ID] {
				t.Errorf("%s: %d rows left", d.Name, n)
			}
		}
		perDomain := []struct {
			action string
			of     []domains.Domain
			times  int
		}{
			{"domain.revalidation_required", all[10:], 1},
			{"domain.restored", back, 1},
			{"domain.revalidation_reminder", lost, 2},
			{"domain.expired", lost, 1},
		}
		for _, p := range perDomain {
			entries := f.audited(t, org.ID, p.action)
			if len(entries) != p.times*len(p.of) {
				t.Errorf("%d %s entries, want %d", len(entries), p.action, p.times*len(p.of))
			}
			for _, d := range p.of {
				n := 0
				for _, e := range entries {
					if e.TargetID == fmt.Sprint(d.ID) {
						n++
					}
				}
				if n != p.times {
					t.Errorf("%s: %d %s entries, want %d", d.Name, n, p.action, p.times)
				}
			}
		}
		if n := f.count(t, &domains.Removal{}, "outcome = 'removed'"); n != int64(len(lost)) {
			t.Errorf("%d removals", n)
		}

		// Every email once, to each person it is for.
		want := 0
		for i, d := range all[10:] {
			wantOnce(t, f, "Action needed: re-validate "+d.Name, told)
			want += 2
			if i >= len(lost) {
				wantOnce(t, f, d.Name+" is verified again", told)
				want += 2
				continue
			}
			var reminders []mail.Message
			db.Where("subject LIKE ?", "% left to re-validate "+d.Name).Order("recipient, id").Find(&reminders)
			var to []string
			for _, m := range reminders {
				to = append(to, m.Recipient)
			}
			if !slices.Equal(to, []string{"adam@hq.test", "adam@hq.test", "olivia@hq.test", "olivia@hq.test"}) {
				t.Errorf("reminders for %s sent to %q", d.Name, to)
			}
			wantOnce(t, f, d.Name+" was deleted from Corp", told)
			want += 4 + 2 + 1
		}
		wantOnce(t, f, "You are no longer managed by Corp", []string{
			"u10@d10.test", "u11@d11.test", "u12@d12.test", "u13@d13.test", "u14@d14.test",
			"u15@d15.test", "u16@d16.test", "u17@d17.test", "u18@d18.test", "u19@d19.test",
		})
		if n := f.count(t, &mail.Message{}, "1 = 1"); n != int64(want) {
			t.Errorf("%d emails in all, want %d", n, want)
		}
	})
}

func wantOnce(t *testing.T, f *fixture, subject string, to []string) {
	t.Helper()
	if got := f.recipients(t, subject); !slices.Equal(got, to) {
		t.Errorf("%q sent to %q, want once to each of %q", subject, got, to)
	}
}
