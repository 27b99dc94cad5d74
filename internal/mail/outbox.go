// Package mail keeps every email in an outbox table, written in the same
// transaction as the change that causes it, and delivers it later through
// SMTP with retries. Without SMTP the outbox is readable in development.
package mail

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/database"
)

// Email is a plain-text message to one person.
type Email struct {
	To, Subject, Body string
}

// Message is an email in the outbox with its delivery state.
type Message struct {
	ID            int64
	Recipient     string
	Subject       string
	Body          string
	CreatedAt     time.Time
	Attempts      int
	NextAttemptAt time.Time
	SentAt        *time.Time
	FailedAt      *time.Time
	LastError     string
	ClaimToken    string     // the claim of the sender delivering it; empty: none
	RetriedAt     *time.Time // last brought back by an operator
}

func (Message) TableName() string { return "outbox" }

// queuedAt is when the message's retries began: its maximum age counts
// from here.
func (m Message) queuedAt() time.Time {
	if m.RetriedAt != nil {
		return *m.RetriedAt
	}
	return m.CreatedAt
}

// Enqueue writes e to the outbox using tx.
func Enqueue(tx *gorm.DB, now time.Time, e Email) error {
	m := Message{Recipient: e.To, Subject: e.Subject, Body: e.Body, CreatedAt: now, NextAttemptAt: now}
	if err := tx.Create(&m).Error; err != nil {
		return fmt.Errorf("mail: unable to enqueue %q to %s: %w", e.Subject, e.To, err)
	}
	return nil
}

// EnqueueAll writes many emails to the outbox using tx, in one plain
// multi-row insert per 500 emails: a batch's messages are only written,
// never read back.
func EnqueueAll(tx *gorm.DB, now time.Time, emails []Email) error {
	for chunk := range slices.Chunk(emails, 500) {
		args := make([]any, 0, 5*len(chunk))
		for _, e := range chunk {
			args = append(args, e.To, e.Subject, e.Body, now, now)
		}
		err := tx.Exec("INSERT INTO outbox (recipient, subject, body, created_at, next_attempt_at) VALUES "+
			strings.Repeat("(?, ?, ?, ?, ?), ", len(chunk)-1)+"(?, ?, ?, ?, ?)", args...).Error
		if err != nil {
			return fmt.Errorf("mail: unable to enqueue %d emails: %w", len(emails), err)
		}
	}
	return nil
}

// Outbox reads the outbox, for the development mailbox, and re-queues it
// for the operator.
type Outbox struct {
	DB *gorm.DB
}

// Recent returns the newest messages.
func (o *Outbox) Recent(ctx context.Context, limit int) ([]Message, error) {
	var out []Message
	if err := o.DB.WithContext(ctx).Order("id DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("mail: unable to list the outbox: %w", err)
	}
	return out, nil
}

// ByID returns one message of the outbox.
func (o *Outbox) ByID(ctx context.Context, id int64) (Message, error) {
	var m Message
	err := o.DB.WithContext(ctx).Take(&m, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return m, apperr.New(apperr.NotFound, "No such message.")
	}
	if err != nil {
		return m, fmt.Errorf("mail: unable to read message %d: %w", id, err)
	}
	return m, nil
}

// Requeued counts what Requeue did.
type Requeued struct {
	Waiting     int64 // unsent messages that were waiting for their next attempt
	Failed      int64 // failed messages brought back
	StillFailed int64 // failed messages left failed (Requeue without failed)
}

// Requeue makes every unsent message that waits for its next attempt due
// now. With failed it also brings back the messages given up, which start
// over: retried for a maximum age from now, with the first backoff. A
// message claimed by a running sender is left to it.
func (o *Outbox) Requeue(ctx context.Context, now time.Time, failed bool) (Requeued, error) {
	var r Requeued
	err := database.Transaction(ctx, o.DB, func(tx *gorm.DB) error {
		r = Requeued{}
		res := tx.Model(&Message{}).
			Where("sent_at IS NULL AND failed_at IS NULL AND claim_token = '' AND next_attempt_at > ?", now).
			Update("next_attempt_at", now)
		if res.Error != nil {
			return res.Error
		}
		r.Waiting = res.RowsAffected
		failedOnes := tx.Model(&Message{}).Where("failed_at IS NOT NULL")
		if !failed {
			return failedOnes.Count(&r.StillFailed).Error
		}
		res = failedOnes.Updates(map[string]any{
			"failed_at": nil, "retried_at": now, "next_attempt_at": now, "attempts": 0, "claim_token": "",
		})
		r.Failed = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return Requeued{}, fmt.Errorf("mail: unable to re-queue the outbox: %w", err)
	}
	return r, nil
}
