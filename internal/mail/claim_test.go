package mail_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"gorm.io/gorm"

	"admincenter/internal/mail"
	"admincenter/internal/mail/mailtest"
	"admincenter/internal/testdb"
)

// lease is how long a claimed message is left to its sender.
const lease = 2 * time.Minute

// enqueueN queues n messages to u0@example.com, u1@… and returns their ids.
func enqueueN(t *testing.T, db *gorm.DB, now time.Time, n int) []int64 {
	t.Helper()
	var ids []int64
	for i := range n {
		m := enqueue(t, db, now, mail.Email{To: fmt.Sprintf("u%d@example.com", i), Subject: "s", Body: "b"})
		ids = append(ids, m.ID)
	}
	return ids
}

// wantOneEach checks that the server received one message for each of the
// first n recipients of enqueueN, and no other.
func wantOneEach(t *testing.T, ms *mailtest.Server, n int) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range ms.Received() {
		seen[strings.Join(r.To, ",")]++
	}
	want := map[string]int{}
	for i := range n {
		want[fmt.Sprintf("u%d@example.com", i)] = 1
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("deliveries per recipient: %v, want %v", seen, want)
	}
}

// A sender that dies holding a claim (it never delivers nor gives it back)
// delays its messages by the lease: another sender sends them after it.
func TestCrashedSendersClaimIsTakenOverAfterTheLease(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ms := mailtest.Start(t)
		clk := newClock()
		ids := enqueueN(t, db, clk.Now(), 3)
		c, err := newSender(db, clk, ms).Claim(context.Background())
		if err != nil || c.Len() != 3 {
			t.Fatalf("claim: %v, %v", c, err)
		}

		other := newSender(db, clk, ms)
		sendDue(t, other, 0)
		clk.Advance(lease - time.Second)
		sendDue(t, other, 0)
		clk.Advance(time.Second)
		sendDue(t, other, 3)
		wantOneEach(t, ms, 3)
		for _, id := range ids {
			// The dead sender's attempt counts: it may have reached the server.
			if m := reread(t, db, id); m.SentAt == nil || m.Attempts != 2 || m.ClaimToken != "" {
				t.Fatalf("message %d after the takeover: %+v", id, m)
			}
		}
	})
}

// A batch may take longer than the lease (each delivery may take a 10 s
// dial and a 60 s session): the sender renews the lease of the rest of its
// batch as it goes, so no other sender takes it over meanwhile.
func TestLiveSenderKeepsItsClaim(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ms := mailtest.Start(t)
		clk := newClock()
		enqueueN(t, db, clk.Now(), 5)
		s, other := newSender(db, clk, ms), newSender(db, clk, ms)
		var taken []int
		ms.OnData(func() {
			clk.Advance(70 * time.Second) // the slowest delivery
			c, err := other.Claim(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			taken = append(taken, c.Len())
		})

		sendDue(t, s, 5)
		if fmt.Sprint(taken) != "[0 0 0 0 0]" {
			t.Fatalf("another sender claimed %v messages while the first was sending", taken)
		}
		wantOneEach(t, ms, 5)
	})
}

// A sender told to stop finishes the message it is sending and gives the
// rest of its claim back at once: due now, the attempt not counted.
func TestStoppedSenderGivesItsClaimBack(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ms := mailtest.Start(t)
		clk := newClock()
		ids := enqueueN(t, db, clk.Now(), 3)
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		ms.OnData(stop) // the process is told to stop while sending the first

		n, err := newSender(db, clk, ms).SendDue(ctx)
		if err != nil || n != 1 {
			t.Fatalf("SendDue = %d, %v; want 1 sent and no error", n, err)
		}
		if first := reread(t, db, ids[0]); first.SentAt == nil {
			t.Fatalf("delivered message not recorded: %+v", first)
		}
		for _, id := range ids[1:] {
			got := reread(t, db, id)
			if got.SentAt != nil || got.FailedAt != nil || got.Attempts != 0 || got.ClaimToken != "" || !got.NextAttemptAt.Equal(clk.Now()) {
				t.Fatalf("undelivered message %+v, want it given back, due now, never attempted", got)
			}
		}

		ms.OnData(nil)
		sendDue(t, newSender(db, clk, ms), 2) // the next instance, at once
		wantOneEach(t, ms, 3)
	})
}

// A sender that stood still past its lease (a paused process) finds its
// messages claimed by another: whether it goes on or stops, it leaves them
// to that one.
func TestSenderPastItsLeaseLeavesTheNewClaimAlone(t *testing.T) {
	cases := []struct {
		name    string
		stopped bool
	}{
		{"goes on", false},
		{"stops", true},
	}
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ms := mailtest.Start(t)
				clk := newClock()
				ids := enqueueN(t, db, clk.Now(), 2)
				paused := newSender(db, clk, ms)
				old, err := paused.Claim(context.Background())
				if err != nil || old.Len() != 2 {
					t.Fatalf("claim: %v", err)
				}
				clk.Advance(lease)
				current, err := newSender(db, clk, ms).Claim(context.Background())
				if err != nil || current.Len() != 2 {
					t.Fatalf("takeover: %v", err)
				}
				before := map[int64]mail.Message{}
				for _, id := range ids {
					before[id] = reread(t, db, id)
				}

				clk.Advance(time.Second)
				ctx, stop := context.WithCancel(context.Background())
				if c.stopped {
					stop()
				}
				n, err := paused.SendClaimed(ctx, old)
				stop()
				if err != nil || n != 0 {
					t.Fatalf("SendClaimed = %d, %v; want nothing sent", n, err)
				}
				if got := ms.Received(); len(got) != 0 {
					t.Fatalf("the paused sender delivered %d messages", len(got))
				}
				for _, id := range ids {
					if got := reread(t, db, id); fmt.Sprint(got) != fmt.Sprint(before[id]) {
						t.Fatalf("the new claim changed:\n%+v\nwant\n%+v", got, before[id])
					}
				}
			})
		}
	})
}

// A delivery that outlasts its lease (the process stood still in the middle
// of it) may find the message claimed by another sender when it ends: a
// failure leaves that claim alone, a success is recorded so that nobody
// sends the message a third time.
func TestLeaseLostDuringDelivery(t *testing.T) {
	cases := []struct {
		name     string
		refusal  *smtp.SMTPError
		wantSent bool
	}{
		{"refused for now", mailtest.TryLater, false},
		{"accepted", nil, true},
	}
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ms := mailtest.Start(t)
				clk := newClock()
				id := enqueueN(t, db, clk.Now(), 1)[0]
				ms.Refuse("RCPT", c.refusal)
				var taken mail.Message
				ms.OnRcpt(func() {
					ms.OnRcpt(nil)
					clk.Advance(lease)
					if cl, err := newSender(db, clk, ms).Claim(context.Background()); err != nil || cl.Len() != 1 {
						t.Errorf("takeover: %v", err)
					}
					taken = reread(t, db, id)
				})

				sendDue(t, newSender(db, clk, ms), map[bool]int{true: 1, false: 0}[c.wantSent])
				got := reread(t, db, id)
				if c.wantSent {
					if got.SentAt == nil || got.ClaimToken != "" {
						t.Fatalf("delivered message recorded as %+v", got)
					}
					return
				}
				if fmt.Sprint(got) != fmt.Sprint(taken) {
					t.Fatalf("the new claim changed:\n%+v\nwant\n%+v", got, taken)
				}
			})
		}
	})
}

// Several senders working the same outbox deliver every message exactly
// once: each claims its own batch.
func TestConcurrentSendersDeliverOnce(t *testing.T) {
	cases := []struct{ senders, messages int }{
		{2, 50},
		{4, 120},
	}
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%d senders", c.senders), func(t *testing.T) {
				ms := mailtest.Start(t)
				clk := newClock()
				var ids []int64
				for i := range c.messages {
					m := enqueue(t, db, clk.Now(), mail.Email{To: fmt.Sprintf("user%03d@example.com", i), Subject: "s", Body: "b"})
					ids = append(ids, m.ID)
				}

				start := make(chan struct{})
				sent := make([]int, c.senders)
				errs := make([]error, c.senders)
				var wg sync.WaitGroup
				for i := range c.senders {
					s := newSender(db, clk, ms)
					wg.Go(func() {
						<-start
						sent[i], errs[i] = s.SendDue(context.Background())
					})
				}
				close(start)
				wg.Wait()

				total := 0
				for i := range c.senders {
					if errs[i] != nil {
						t.Fatalf("sender %d: %v", i, errs[i])
					}
					total += sent[i]
				}
				if total != c.messages {
					t.Errorf("senders report %d sent (%v), want %d", total, sent, c.messages)
				}
				perRecipient := map[string]int{}
				for _, r := range ms.Received() {
					perRecipient[strings.Join(r.To, ",")]++
				}
				if len(perRecipient) != c.messages {
					t.Errorf("%d recipients got mail, want %d", len(perRecipient), c.messages)
				}
				for to, n := range perRecipient {
					if n != 1 {
						t.Errorf("%s got %d copies", to, n)
					}
				}
				for _, id := range ids {
					if m := reread(t, db, id); m.SentAt == nil || m.Attempts != 1 {
						t.Fatalf("message %d: sent %v after %d attempts; want sent, claimed once", id, m.SentAt, m.Attempts)
					}
				}
			})
		}
	})
}
