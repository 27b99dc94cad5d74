package mail_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/clock"
	"admincenter/internal/mail"
	"admincenter/internal/mail/mailtest"
	"admincenter/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

func newClock() *clock.Fake { return clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)) }

// enqueue writes e to the outbox and returns its message.
func enqueue(t *testing.T, db *gorm.DB, now time.Time, e mail.Email) mail.Message {
	t.Helper()
	if err := mail.Enqueue(db, now, e); err != nil {
		t.Fatal(err)
	}
	msgs, err := (&mail.Outbox{DB: db}).Recent(context.Background(), 1)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Recent: %v %v", msgs, err)
	}
	return msgs[0]
}

func TestEnqueue(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		now := newClock().Now().Add(250 * time.Microsecond)
		e := mail.Email{To: "ada@example.com", Subject: "Grüße", Body: "Hello Ada,\n\nSee you.\n"}
		m := enqueue(t, db, now, e)
		got, err := (&mail.Outbox{DB: db}).ByID(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Recipient != e.To || got.Subject != e.Subject || got.Body != e.Body {
			t.Errorf("stored %q %q %q, want %q %q %q", got.Recipient, got.Subject, got.Body, e.To, e.Subject, e.Body)
		}
		if !got.CreatedAt.Equal(now) || !got.NextAttemptAt.Equal(now) {
			t.Errorf("CreatedAt %v, NextAttemptAt %v; want both %v (due at once)", got.CreatedAt, got.NextAttemptAt, now)
		}
		if got.Attempts != 0 || got.SentAt != nil || got.FailedAt != nil || got.LastError != "" {
			t.Errorf("new message has delivery state %+v", got)
		}
	})
}

// Enqueue writes with the caller's transaction: an email about a change
// that rolls back is never sent.
func TestEnqueueRollsBackWithItsChange(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		errAbort := errors.New("abort")
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := mail.Enqueue(tx, newClock().Now(), mail.Email{To: "ada@example.com", Subject: "s", Body: "b"}); err != nil {
				return err
			}
			return errAbort
		})
		if !errors.Is(err, errAbort) {
			t.Fatalf("transaction: %v", err)
		}
		msgs, err := (&mail.Outbox{DB: db}).Recent(context.Background(), 10)
		if err != nil || len(msgs) != 0 {
			t.Fatalf("outbox after rollback: %v %v", msgs, err)
		}
	})
}

func TestRecent(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		clk := newClock()
		for i := 1; i <= 5; i++ {
			enqueue(t, db, clk.Now(), mail.Email{To: fmt.Sprintf("u%d@example.com", i), Subject: fmt.Sprint("message ", i), Body: "b"})
			clk.Advance(time.Minute)
		}
		cases := []struct {
			limit int
			want  []string
		}{
			{1, []string{"message 5"}},
			{3, []string{"message 5", "message 4", "message 3"}},
			{5, []string{"message 5", "message 4", "message 3", "message 2", "message 1"}},
			{100, []string{"message 5", "message 4", "message 3", "message 2", "message 1"}},
		}
		for _, c := range cases {
			t.Run(fmt.Sprint("limit ", c.limit), func(t *testing.T) {
				msgs, err := (&mail.Outbox{DB: db}).Recent(ctx, c.limit)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, m := range msgs {
					got = append(got, m.Subject)
				}
				if strings.Join(got, ",") != strings.Join(c.want, ",") {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			})
		}
	})
}

func TestByID(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		now := newClock().Now()
		first := enqueue(t, db, now, mail.Email{To: "ada@example.com", Subject: "first", Body: "1"})
		second := enqueue(t, db, now, mail.Email{To: "bob@example.com", Subject: "second", Body: "2"})
		cases := []struct {
			name     string
			id       int64
			wantCode apperr.Code
			subject  string
		}{
			{"first", first.ID, "", "first"},
			{"second", second.ID, "", "second"},
			{"missing", second.ID + 1, apperr.NotFound, ""},
			{"zero", 0, apperr.NotFound, ""},
			{"negative", -1, apperr.NotFound, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				m, err := (&mail.Outbox{DB: db}).ByID(ctx, c.id)
				if c.wantCode != "" {
					if apperr.CodeOf(err) != c.wantCode {
						t.Fatalf("err = %v, want %s", err, c.wantCode)
					}
					if msg := apperr.MessageOf(err); msg != "No such message." {
						t.Fatalf("message %q", msg)
					}
					return
				}
				if err != nil || m.ID != c.id || m.Subject != c.subject {
					t.Fatalf("ByID(%d) = %+v, %v", c.id, m, err)
				}
			})
		}
	})
}

func TestMessages(t *testing.T) {
	const link = "https://admin.example.com/verify?token=abc%2Bdef"
	cases := []struct {
		name    string
		email   mail.Email
		subject string
		bodyHas []string
	}{
		{
			"verify email", mail.VerifyEmail("ada@example.com", "Ada", link, 48*time.Hour),
			"Verify your email address",
			[]string{"Hello Ada,", "confirm that ada@example.com is your email", "\n" + link + "\n", "48 hours"},
		},
		{
			"password reset", mail.PasswordReset("ada@example.com", "Ada", link, time.Hour),
			"Reset your password",
			[]string{"Hello Ada,", "password of ada@example.com", "\n" + link + "\n", "1 hour", "used once"},
		},
		{
			"removed", mail.RemovedFromOrganization("ada@example.com", "Ada", "Acme Ltd", "Bob"),
			"You are no longer managed by Acme Ltd",
			[]string{"Hello Ada,", "Bob removed you from the organization Acme Ltd.", "used in Acme Ltd stay"},
		},
		{
			"role changed", mail.RoleChanged("ada@example.com", "Ada", "Acme Ltd", "Administrator", "Bob"),
			"Your role in Acme Ltd changed",
			[]string{"Hello Ada,", "Bob changed your role in the organization Acme Ltd to Administrator."},
		},
		{
			"ownership", mail.OwnershipTransferred("ada@example.com", "Ada", "Acme Ltd", "Bob"),
			"You are now the Owner of Acme Ltd",
			[]string{"Hello Ada,", "Bob transferred the ownership of the organization Acme Ltd to you", "Bob is an Administrator"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.email.To != "ada@example.com" || c.email.Subject != c.subject {
				t.Fatalf("to %q, subject %q; want ada@example.com, %q", c.email.To, c.email.Subject, c.subject)
			}
			for _, s := range c.bodyHas {
				if !strings.Contains(c.email.Body, s) {
					t.Errorf("body lacks %q:\n%s", s, c.email.Body)
				}
			}
			if strings.Contains(c.email.Body, "%!") {
				t.Errorf("formatting mistake in the body:\n%s", c.email.Body)
			}
		})
	}
}

// outboxStates puts one message in each state the outbox knows and returns
// them by name, as stored.
func outboxStates(t *testing.T, db *gorm.DB, now time.Time) map[string]mail.Message {
	t.Helper()
	setups := []struct {
		name   string
		update map[string]any
	}{
		{"waiting", map[string]any{"attempts": 3, "next_attempt_at": now.Add(4 * time.Minute), "last_error": "RCPT TO: 451 busy"}},
		{"due", map[string]any{"attempts": 1, "next_attempt_at": now.Add(-time.Second)}},
		{"failed", map[string]any{"attempts": 80, "failed_at": now.Add(-28 * time.Hour), "last_error": "connect: refused"}},
		{"sent", map[string]any{"attempts": 1, "sent_at": now.Add(-time.Hour)}},
		{"claimed", map[string]any{"attempts": 2, "next_attempt_at": now.Add(time.Minute), "claim_token": "held-by-a-running-sender"}},
	}
	out := map[string]mail.Message{}
	for _, s := range setups {
		m := enqueue(t, db, now.Add(-100*time.Hour), mail.Email{To: s.name + "@example.com", Subject: s.name, Body: "b"})
		if err := db.Model(&mail.Message{}).Where("id = ?", m.ID).Updates(s.update).Error; err != nil {
			t.Fatal(err)
		}
		out[s.name] = reread(t, db, m.ID)
	}
	return out
}

// Requeue makes waiting messages due now; with failed it also brings back
// the failed ones, which start over. Sent mail and messages a running
// sender holds are left alone.
func TestRequeue(t *testing.T) {
	cases := []struct {
		failed  bool
		want    mail.Requeued
		changed map[string]func(m *mail.Message, now time.Time)
	}{
		{false, mail.Requeued{Waiting: 1, StillFailed: 1}, map[string]func(*mail.Message, time.Time){
			"waiting": func(m *mail.Message, now time.Time) { m.NextAttemptAt = now },
		}},
		{true, mail.Requeued{Waiting: 1, Failed: 1}, map[string]func(*mail.Message, time.Time){
			"waiting": func(m *mail.Message, now time.Time) { m.NextAttemptAt = now },
			"failed": func(m *mail.Message, now time.Time) {
				m.FailedAt, m.RetriedAt, m.NextAttemptAt, m.Attempts = nil, &now, now, 0
			},
		}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint("failed ", c.failed), func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, db *gorm.DB) {
				now := newClock().Now()
				before := outboxStates(t, db, now)
				got, err := (&mail.Outbox{DB: db}).Requeue(context.Background(), now, c.failed)
				if err != nil || got != c.want {
					t.Fatalf("Requeue = %+v, %v; want %+v", got, err, c.want)
				}
				for name, m := range before {
					want := m
					if change := c.changed[name]; change != nil {
						change(&want, now)
					}
					if after := reread(t, db, m.ID); fmt.Sprint(after) != fmt.Sprint(want) {
						t.Errorf("%s:\n got %+v\nwant %+v", name, after, want)
					}
				}
			})
		})
	}
}

// A failed message brought back is retried for a whole maximum age from
// then, with the first backoff, not given up again at its first failure
// for having been queued long ago; once the server accepts, it goes out.
func TestRequeuedFailedMessageStartsOver(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ms := mailtest.Start(t)
		clk := newClock()
		s := newSender(db, clk, ms)
		failed := enqueue(t, db, clk.Now().Add(-100*time.Hour), mail.Email{To: "ada@example.com", Subject: "s", Body: "b"})
		db.Model(&mail.Message{}).Where("id = ?", failed.ID).Updates(map[string]any{"attempts": 80, "failed_at": clk.Now().Add(-28 * time.Hour)})
		ms.Refuse("RCPT", mailtest.TryLater)
		if _, err := (&mail.Outbox{DB: db}).Requeue(context.Background(), clk.Now(), true); err != nil {
			t.Fatal(err)
		}

		sendDue(t, s, 0)
		got := reread(t, db, failed.ID)
		if got.FailedAt != nil || got.Attempts != 1 || !got.NextAttemptAt.Equal(clk.Now().Add(30*time.Second)) {
			t.Fatalf("brought back, then refused for now: %+v; want a retry 30 s later", got)
		}
		ms.Refuse("RCPT", nil)
		clk.Advance(30 * time.Second)
		sendDue(t, s, 1)
		if got := reread(t, db, failed.ID); got.SentAt == nil {
			t.Fatalf("not sent: %+v", got)
		}
	})
}
