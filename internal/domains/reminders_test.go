package domains_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/domains"
	"admincenter/internal/mail"
	"admincenter/internal/testdb"
)

// With the ticker running every hour, the Owner and Administrators are
// reminded 7 days and 1 day before the deadline, each reminder exactly
// once and not a tick early.
func TestReminders(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		tm := f.team(t)
		d := f.demote(t, f.verified(t, tm.owner, "acme.test"))
		deadline := *d.DeadlineAt
		firstAt, lastAt := deadline.Add(-7*24*time.Hour), deadline.Add(-24*time.Hour)
		reminders := []struct {
			at      time.Time
			subject string
			left    string
		}{
			{firstAt, "7 days left to re-validate acme.test", "7 days"},
			{lastAt, "1 day left to re-validate acme.test", "1 day"},
		}

		// Daily ticks at first, then hourly from two days before the first
		// reminder.
		check := func(now time.Time) {
			got := f.reload(t, d.ID)
			for i, r := range reminders {
				warned, wantWarned, wantEmails := []*time.Time{got.WarnedFirstAt, got.WarnedLastAt}[i], (*time.Time)(nil), 0
				if !now.Before(r.at) {
					wantWarned, wantEmails = &r.at, len(teamAdmins)
				}
				if sent := len(f.emails(t, r.subject)); sent != wantEmails || !sameTime(warned, wantWarned) {
					t.Fatalf("at %s: %d emails %q, reminder written at %v; want %d, at %v", now, sent, r.subject, warned, wantEmails, wantWarned)
				}
			}
			if got.Status != domains.Revalidating || !sameTime(got.DeadlineAt, &deadline) {
				t.Fatalf("at %s: %+v", now, got)
			}
		}
		f.tickUntil(t, recheck, firstAt.Add(-2*recheck), check)
		f.tickUntil(t, time.Hour, deadline.Add(-time.Second), check)

		entries := f.audited(t, tm.org.ID, "domain.revalidation_reminder")
		if len(entries) != 2 {
			t.Fatalf("%d reminder entries", len(entries))
		}
		for i, r := range reminders {
			if e := entries[i]; e.Actor != "system" || e.Details != r.left+" left" || !e.CreatedAt.Equal(r.at) || e.TargetID != fmt.Sprint(d.ID) {
				t.Errorf("reminder entry %+v", e)
			}
			if got := f.recipients(t, r.subject); !slices.Equal(got, teamAdmins) {
				t.Errorf("%q sent to %q", r.subject, got)
			}
			for _, m := range f.emails(t, r.subject) {
				for _, want := range []string{
					"acme.test still needs re-validation: " + r.left + " left.",
					"If it is not verified again by 1 Apr 2026 09:00 UTC, the domain will be deleted from the organization, and the managed users with an address at it (4 users) will be removed.",
					"https://admin.example.test/admin/domains/" + fmt.Sprint(d.ID),
				} {
					if !strings.Contains(m.Body, want) {
						t.Errorf("reminder to %s lacks %q:\n%s", m.Recipient, want, m.Body)
					}
				}
			}
		}
		// The daily checks went on meanwhile, once a day.
		if n := f.count(t, &domains.Check{}, "domain_id = ? AND automatic = ? AND method = ?", d.ID, true, "dns"); n != 30 {
			t.Fatalf("%d daily checks in the 30 days", n)
		}
	})
}

// When the ticker was stopped past both reminder times, only the most
// urgent reminder goes out, once, and it counts for both.
func TestOnlyTheLastReminderWhenBothAreDue(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		tm := f.team(t)
		d := f.demote(t, f.verified(t, tm.owner, "acme.test"))
		f.advanceTo(t, d.DeadlineAt.Add(-12*time.Hour))
		now := f.clk.Now()
		f.runDue(t)
		got := f.reload(t, d.ID)
		if !sameTime(got.WarnedFirstAt, &now) || !sameTime(got.WarnedLastAt, &now) {
			t.Fatalf("after both reminders were due: %+v", got)
		}
		if got := f.recipients(t, "12 hours left to re-validate acme.test"); !slices.Equal(got, teamAdmins) {
			t.Fatalf("told %q", got)
		}
		f.tickUntil(t, time.Hour, d.DeadlineAt.Add(-time.Second), nil)
		var reminders int64
		f.db.Model(&mail.Message{}).Where("subject LIKE ?", "% left to re-validate acme.test").Count(&reminders)
		if reminders != 2 {
			t.Fatalf("%d reminder emails, want one to each of 2 people", reminders)
		}
		if n := len(f.audited(t, tm.org.ID, "domain.revalidation_reminder")); n != 1 {
			t.Fatalf("%d reminder entries", n)
		}
	})
}
