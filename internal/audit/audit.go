// Package audit keeps the append-only record of every state-changing
// action: who did what to which target, when, and with what details.
package audit

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/paging"
)

// Entry is one line of the audit log. Actor and Target are copied as text
// so the entry stays readable after names change.
type Entry struct {
	ID             int64
	OrganizationID *int64
	ActorID        *int64
	Actor          string
	Action         string
	TargetType     string
	TargetID       string
	Target         string
	Details        string
	CreatedAt      time.Time
}

func (Entry) TableName() string { return "audit_log" }

// Actor is who performs an action: a signed-in person, or the system.
type Actor struct {
	ID    int64
	Email string
}

// System is the actor of automatic work (re-checks, expiry, imports).
var System = Actor{Email: "system"}

// Target is what an action changed.
type Target struct {
	Type  string // "user", "organization", "domain", ...
	ID    string
	Label string // a name or an email, for reading
}

// Record appends one entry using tx, so that it commits or rolls back with
// the change it describes.
func Record(tx *gorm.DB, now time.Time, orgID int64, actor Actor, action string, target Target, details string) error {
	e := NewEntry(now, orgID, viaKey(tx, actor), action, target, details)
	if err := tx.Create(&e).Error; err != nil {
		return fmt.Errorf("audit: unable to record %s: %w", action, err)
	}
	return nil
}

type keyContext struct{}

// ByKey marks ctx as the context of a request authenticated by an API key
// (its label): what the request changes is recorded with the key as the
// actor, on behalf of the person who created it.
func ByKey(ctx context.Context, label string) context.Context {
	return context.WithValue(ctx, keyContext{}, label)
}

// viaKey names the API key of tx's request, if any, in the actor.
func viaKey(tx *gorm.DB, actor Actor) Actor {
	if label, ok := tx.Statement.Context.Value(keyContext{}).(string); ok && actor != System {
		actor.Email = label + " of " + actor.Email
	}
	return actor
}

// NewEntry builds an entry for RecordAll.
func NewEntry(now time.Time, orgID int64, actor Actor, action string, target Target, details string) Entry {
	e := Entry{
		Actor: actor.Email, Action: action,
		TargetType: target.Type, TargetID: target.ID, Target: target.Label,
		Details: details, CreatedAt: now,
	}
	if orgID != 0 {
		e.OrganizationID = &orgID
	}
	if actor.ID != 0 {
		e.ActorID = &actor.ID
	}
	return e
}

// RecordAll appends many entries using tx, in one plain multi-row insert
// per 500 entries: a batch's entries are only written, never read back.
func RecordAll(tx *gorm.DB, entries []Entry) error {
	for chunk := range slices.Chunk(entries, 500) {
		args := make([]any, 0, 9*len(chunk))
		for _, e := range chunk {
			args = append(args, e.OrganizationID, e.ActorID, e.Actor, e.Action, e.TargetType, e.TargetID, e.Target, e.Details, e.CreatedAt)
		}
		err := tx.Exec("INSERT INTO audit_log (organization_id, actor_id, actor, action, target_type, target_id, target, details, created_at) VALUES "+
			strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?), ", len(chunk)-1)+"(?, ?, ?, ?, ?, ?, ?, ?, ?)", args...).Error
		if err != nil {
			return fmt.Errorf("audit: unable to record %d entries: %w", len(entries), err)
		}
	}
	return nil
}

// Log reads the audit log.
type Log struct {
	DB *gorm.DB
}

// List returns one page of an organization's entries, newest first.
func (l *Log) List(ctx context.Context, orgID int64, page int) (paging.Page[Entry], error) {
	return l.Page(ctx, orgID, Filter{}, page)
}

// Page returns one page of the organization's entries that f keeps,
// newest first.
func (l *Log) Page(ctx context.Context, orgID int64, f Filter, page int) (paging.Page[Entry], error) {
	p := paging.Page[Entry]{Number: max(page, 1)}
	q := l.of(ctx, orgID, f)
	if err := q.Count(&p.Total).Error; err != nil {
		return p, fmt.Errorf("audit: unable to count entries: %w", err)
	}
	err := q.Order("id DESC").Offset(paging.Offset(page)).Limit(paging.Size).Find(&p.Items).Error
	if err != nil {
		return p, fmt.Errorf("audit: unable to list entries: %w", err)
	}
	return p, nil
}

// of is the query of the organization's entries that f keeps.
func (l *Log) of(ctx context.Context, orgID int64, f Filter) *gorm.DB {
	q := l.DB.WithContext(ctx).Model(&Entry{}).Where("organization_id = ?", orgID)
	return f.apply(q, l.DB.Session(&gorm.Session{NewDB: true}))
}

// ForTarget returns an organization's entries about one target, newest
// first, at most limit of them.
func (l *Log) ForTarget(ctx context.Context, orgID int64, targetType, targetID string, limit int) ([]Entry, error) {
	var out []Entry
	err := l.DB.WithContext(ctx).
		Where("organization_id = ? AND target_type = ? AND target_id = ?", orgID, targetType, targetID).
		Order("id DESC").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("audit: unable to list entries of %s %s: %w", targetType, targetID, err)
	}
	return out, nil
}
