package mail

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/database"
)

const (
	batchSize = 20
	// lease is how long a claimed message is left to its sender: the
	// messages of a sender that died come back this soon.
	lease = 2 * time.Minute
	// renewBelow: before each delivery the sender renews the lease of its
	// batch's remaining messages when less than this is left, so that one
	// delivery (a dial and a session) and its recording never outlast it.
	// A fast batch renews nothing.
	renewBelow = dialTimeout + sessionTimeout + 15*time.Second
)

// Sender delivers the outbox through an SMTP server. Several instances may
// run at once: each message is claimed before it is sent.
type Sender struct {
	DB       *gorm.DB
	Server   *url.URL // smtp://user:pass@host:port or smtps://…; ?from= sets the sender address
	From     string   // used when Server has no from parameter
	Now      func() time.Time
	Interval time.Duration
	// MaxAge is how long a message that cannot be delivered is retried,
	// counted from when it was queued or last brought back by an operator.
	MaxAge  time.Duration
	Metrics *Metrics // optional
	// OnAttempt, if set, is told of every attempt, with the message as
	// recorded after it (sent, failed, or when it is tried next).
	OnAttempt func(m Message, err error)
}

// Run delivers due messages until ctx ends.
func (s *Sender) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		if _, err := s.SendDue(ctx); err != nil {
			slog.Error("mail: delivery pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SendDue claims and delivers the messages that are due now and returns
// how many were sent. When ctx ends it finishes the message it is sending
// and gives the rest of its claim back, due at once.
func (s *Sender) SendDue(ctx context.Context) (int, error) {
	sent := 0
	for ctx.Err() == nil {
		c, err := s.claim(ctx)
		if err != nil && ctx.Err() != nil {
			return sent, nil // stopped while claiming: nothing was claimed
		}
		if err != nil || len(c.messages) == 0 {
			return sent, err
		}
		n, err := s.sendBatch(ctx, c)
		sent += n
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// claim is a batch of messages held by one sender under a lease: once it
// has run out another sender may claim them with a lease of its own.
type claim struct {
	database.Lease
	messages []Message // not yet delivered
}

func (s *Sender) claim(ctx context.Context) (*claim, error) {
	c := &claim{}
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		now := s.Now()
		c.Lease, c.messages = database.NewLease(now.Add(lease)), nil
		err := database.SkipLocked(tx).
			Where("sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?", now).
			Order("next_attempt_at, id").Limit(batchSize).Find(&c.messages).Error
		if err != nil || len(c.messages) == 0 {
			return err
		}
		ids := make([]int64, len(c.messages))
		for i := range c.messages {
			ids[i] = c.messages[i].ID
			c.messages[i].Attempts++
		}
		return tx.Model(&Message{}).Where("id IN ?", ids).Updates(map[string]any{
			"attempts":        gorm.Expr("attempts + 1"),
			"next_attempt_at": c.Until,
			"claim_token":     c.Token,
		}).Error
	})
	if err != nil {
		return nil, fmt.Errorf("mail: unable to claim messages: %w", err)
	}
	return c, nil
}

func (s *Sender) sendBatch(ctx context.Context, c *claim) (int, error) {
	// The batch's rows are written even once ctx has ended: a delivered
	// message left unmarked would go out again, and a claim not given back
	// would wait for its lease.
	write := context.WithoutCancel(ctx)
	sent := 0
	for len(c.messages) > 0 {
		if ctx.Err() != nil {
			return sent, s.release(write, c)
		}
		if err := s.renew(write, c); err != nil {
			return sent, err
		}
		if len(c.messages) == 0 {
			break
		}
		m := c.messages[0]
		c.messages = c.messages[1:]
		sendErr := s.deliver(m)
		if err := s.finish(write, c, m, sendErr); err != nil {
			return sent, err
		}
		if sendErr == nil {
			sent++
		}
	}
	return sent, nil
}

// renew extends the lease of the claim's remaining messages when it is
// about to run out.
func (s *Sender) renew(ctx context.Context, c *claim) error {
	held, lost, err := c.Renew(ctx, s.DB, &Message{}, len(c.messages), s.Now(), renewBelow, lease)
	if err != nil {
		return fmt.Errorf("mail: unable to renew the claim of %d messages: %w", len(c.messages), err)
	}
	if !lost {
		return nil
	}
	kept := slices.DeleteFunc(slices.Clone(c.messages), func(m Message) bool { return !slices.Contains(held, m.ID) })
	slog.Warn("mail: claim taken over by another sender", "messages", len(c.messages)-len(kept))
	c.messages = kept
	return nil
}

// release gives the claim's undelivered messages back, due now, without
// counting the attempt that did not happen.
func (s *Sender) release(ctx context.Context, c *claim) error {
	n, err := c.Release(ctx, s.DB, &Message{}, s.Now())
	if err != nil {
		return fmt.Errorf("mail: unable to give back %d claimed messages: %w", len(c.messages), err)
	}
	slog.Info("mail: gave back claimed messages", "messages", n)
	c.messages = nil
	return nil
}

// finish records the outcome of an attempt to deliver m.
func (s *Sender) finish(ctx context.Context, c *claim, m Message, sendErr error) error {
	now := s.Now()
	outcome, next := s.outcome(m, sendErr, now)
	m.ClaimToken, m.LastError = "", ""
	if sendErr != nil {
		m.LastError = sendErr.Error()
	}
	update := map[string]any{"claim_token": "", "last_error": m.LastError}
	// A failure is recorded only by the claim's holder; a delivery whoever
	// holds the claim now, so that nobody sends the message again.
	q := s.DB.WithContext(ctx).Model(&Message{}).Where("id = ?", m.ID)
	if outcome == "sent" {
		q = q.Where("sent_at IS NULL")
	} else {
		q = q.Where("claim_token = ?", c.Token)
	}
	switch outcome {
	case "sent":
		m.SentAt, update["sent_at"] = &now, now
	case "failed":
		m.FailedAt, update["failed_at"] = &now, now
	case "retry":
		m.NextAttemptAt, update["next_attempt_at"] = next, next
	}
	res := q.Updates(update)
	if res.Error != nil {
		return fmt.Errorf("mail: unable to record delivery of %d: %w", m.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		slog.Warn("mail: message taken over by another sender", "id", m.ID, "err", sendErr)
		return nil
	}
	switch outcome {
	case "failed":
		slog.Error("mail: giving up; `admincenter mail retry --failed` sends it again", "id", m.ID, "to", m.Recipient,
			"attempts", m.Attempts, "queued_at", m.queuedAt(), "refused", permanent(sendErr), "err", sendErr)
	case "retry":
		slog.Warn("mail: delivery failed, will retry", "id", m.ID, "to", m.Recipient, "attempts", m.Attempts,
			"next_attempt_at", m.NextAttemptAt, "err", sendErr)
	}
	s.Metrics.observe(outcome)
	if s.OnAttempt != nil {
		s.OnAttempt(m, sendErr)
	}
	return nil
}

// outcome decides what becomes of m after an attempt that ended with
// sendErr: "sent", "failed" (given up), or "retry" at next.
func (s *Sender) outcome(m Message, sendErr error, now time.Time) (string, time.Time) {
	if sendErr == nil {
		return "sent", time.Time{}
	}
	deadline := m.queuedAt().Add(s.MaxAge)
	if permanent(sendErr) || !now.Before(deadline) {
		return "failed", time.Time{}
	}
	next := now.Add(Backoff(m.Attempts))
	if deadline.Before(next) {
		next = deadline // the last attempt falls on the deadline, not up to a backoff after it
	}
	return "retry", next
}

// Backoff is the wait before the next attempt after n failed ones:
// 30 s doubling each time, at most an hour.
func Backoff(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}
