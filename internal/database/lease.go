package database

import (
	"context"
	"crypto/rand"
	"time"

	"gorm.io/gorm"
)

// A Lease marks the rows of an outbox (emails, webhook deliveries) that
// one sender claimed: their claim_token is its token, and their
// next_attempt_at the time until which it holds them. Once that time has
// passed another sender may claim them.
type Lease struct {
	Token string
	Until time.Time
}

// NewLease is a lease with a fresh token, held until until.
func NewLease(until time.Time) Lease { return Lease{Token: rand.Text(), Until: until} }

// Renew extends the lease of model's rows to now+length once less than
// below is left. It reports the ids of the rows still held when fewer
// than held are: this sender stood still past its lease and another one
// claimed the rest, which are that one's to send now.
func (l *Lease) Renew(ctx context.Context, db *gorm.DB, model any, held int, now time.Time, below, length time.Duration) (kept []int64, lost bool, err error) {
	if l.Until.Sub(now) >= below {
		return nil, false, nil
	}
	until := now.Add(length)
	q := db.WithContext(ctx).Model(model).Where("claim_token = ?", l.Token)
	res := q.Update("next_attempt_at", until)
	if res.Error != nil {
		return nil, false, res.Error
	}
	l.Until = until
	if int(res.RowsAffected) == held {
		return nil, false, nil
	}
	err = db.WithContext(ctx).Model(model).Where("claim_token = ?", l.Token).Pluck("id", &kept).Error
	return kept, true, err
}

// Release gives model's rows held by the lease back, due at now, without
// counting the attempt that did not happen, and says how many there were.
func (l *Lease) Release(ctx context.Context, db *gorm.DB, model any, now time.Time) (int64, error) {
	res := db.WithContext(ctx).Model(model).Where("claim_token = ?", l.Token).Updates(map[string]any{
		"attempts":        gorm.Expr("attempts - 1"),
		"next_attempt_at": now,
		"claim_token":     "",
	})
	return res.RowsAffected, res.Error
}
