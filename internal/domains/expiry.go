package domains

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/audit"
	"admincenter/internal/database"
	"admincenter/internal/mail"
	"admincenter/internal/orgs"
	"admincenter/internal/paths"
	"admincenter/internal/text"
	"admincenter/internal/users"
)

// Expiry is a domain that was not re-validated before its deadline: it was
// deleted from its organization, and the managed users at it are removed.
// It is recorded before any user is removed, so that a restart finishes
// the work.
type Expiry struct {
	ID             int64
	OrganizationID int64
	DomainName     string
	UnicodeName    string
	DeadlineAt     time.Time
	StartedAt      time.Time
	FinishedAt     *time.Time
	LeaseUntil     *time.Time
	// Snapshot is the domain as it was deleted, JSON, for the event that
	// reports the expiry once its users are removed; empty in expiries
	// begun before it was kept.
	Snapshot string
}

func (Expiry) TableName() string { return "domain_expiries" }

// deleted is the domain as the expiry deleted it.
func (exp Expiry) deleted() Domain {
	d := Domain{OrganizationID: exp.OrganizationID, Name: exp.DomainName, UnicodeName: exp.UnicodeName,
		Status: Revalidating, DeadlineAt: &exp.DeadlineAt}
	if exp.Snapshot != "" {
		json.Unmarshal([]byte(exp.Snapshot), &d) // written by beginExpiry from a Domain: it decodes
	}
	return d
}

// Removal is one managed user an expiry removes (or skipped, and why).
type Removal struct {
	ID        int64
	ExpiryID  int64
	UserID    int64
	Email     string
	Name      string
	Role      users.Role
	Accounts  string // ids of the accounts handed to the Owner, comma-separated
	Outcome   string // pending, removed, skipped
	Detail    string
	DoneAt    *time.Time
	ReaddedAt *time.Time
}

func (Removal) TableName() string { return "expiry_removals" }

// beginExpiry deletes the domain and records who is to be removed, in the
// transaction of t. It returns the new expiry.
func (s *Service) beginExpiry(t *transition) Expiry {
	d, now := t.d, t.now
	var atRisk []users.User
	if err := atRiskQuery(t.tx, *d).Select("users.*").Order("users.id").Find(&atRisk).Error; err != nil {
		t.err = fmt.Errorf("domains: unable to list the users at %s: %w", d.Name, err)
		return Expiry{}
	}
	snapshot, _ := json.Marshal(d) // a Domain always encodes: numbers, strings and times
	exp := Expiry{OrganizationID: d.OrganizationID, DomainName: d.Name, UnicodeName: d.UnicodeName,
		DeadlineAt: *d.DeadlineAt, StartedAt: now, Snapshot: string(snapshot)}
	until := now.Add(s.lease())
	exp.LeaseUntil = &until
	if err := t.tx.Create(&exp).Error; err != nil {
		t.err = fmt.Errorf("domains: unable to record the expiry of %s: %w", d.Name, err)
		return exp
	}
	for _, u := range atRisk {
		r := Removal{ExpiryID: exp.ID, UserID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Outcome: "pending"}
		if err := t.tx.Create(&r).Error; err != nil {
			t.err = fmt.Errorf("domains: unable to record a removal: %w", err)
			return exp
		}
	}
	if err := t.tx.Delete(d).Error; err != nil {
		t.err = fmt.Errorf("domains: unable to delete %s: %w", d.Name, err)
		return exp
	}
	t.event("domain.expired", fmt.Sprintf("not re-validated before %s; deleted, %s to remove",
		d.DeadlineAt.UTC().Format(time.RFC3339), text.Count(len(atRisk), "managed user")))
	return exp
}

// finishExpiry removes the recorded users one transaction each, then
// closes the expiry and tells the Owner and Administrators. Run again after
// a crash, it carries on where it stopped: each removal is done once.
func (s *Service) finishExpiry(ctx context.Context, exp Expiry) error {
	org, err := orgs.Lookup(s.DB.WithContext(ctx), exp.OrganizationID)
	if err != nil {
		return err
	}
	for ctx.Err() == nil {
		var batch []Removal
		if err := s.DB.WithContext(ctx).Where("expiry_id = ? AND outcome = 'pending'", exp.ID).Order("id").Limit(50).Find(&batch).Error; err != nil {
			return fmt.Errorf("domains: unable to read the removals of expiry %d: %w", exp.ID, err)
		}
		if len(batch) == 0 {
			return s.closeExpiry(ctx, exp.ID)
		}
		for _, r := range batch {
			if err := s.removeOne(ctx, exp, org.Name, r.ID); err != nil {
				return err
			}
		}
		if err := s.DB.WithContext(ctx).Model(&Expiry{}).Where("id = ?", exp.ID).Update("lease_until", s.Now().Add(s.lease())).Error; err != nil {
			return fmt.Errorf("domains: unable to renew the lease of expiry %d: %w", exp.ID, err)
		}
	}
	return ctx.Err()
}

// removeOne removes one recorded user, unless they no longer qualify.
func (s *Service) removeOne(ctx context.Context, exp Expiry, orgName string, removalID int64) error {
	return database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		// The person first, then their removal: the lock order of package
		// database.
		var r Removal
		if err := tx.Take(&r, removalID).Error; err != nil {
			return fmt.Errorf("domains: unable to read removal %d: %w", removalID, err)
		}
		var u users.User
		if err := database.ForNoKeyUpdate(tx).Take(&u, r.UserID).Error; err != nil {
			return fmt.Errorf("domains: unable to read user %d: %w", r.UserID, err)
		}
		if err := database.ForNoKeyUpdate(tx).Take(&r, removalID).Error; err != nil {
			return fmt.Errorf("domains: unable to read removal %d: %w", removalID, err)
		}
		if r.Outcome != "pending" {
			return nil // done by another instance meanwhile
		}
		now := s.Now()
		r.DoneAt = &now
		verifiedToo, err := atVerifiedDomain(tx, exp.OrganizationID, u.Email)
		if err != nil {
			return fmt.Errorf("domains: unable to read the domains of %s: %w", u.Email, err)
		}
		switch {
		case u.OrgID() != exp.OrganizationID:
			r.Outcome, r.Detail = "skipped", "no longer a member of the organization"
		case u.Role == users.Owner:
			r.Outcome, r.Detail = "skipped", "the Owner is never removed"
		case verifiedToo:
			r.Outcome, r.Detail = "skipped", "their address is also at a domain the organization has verified"
		default:
			removed, err := orgs.RemoveMembers(tx, exp.OrganizationID, []int64{u.ID})
			if err != nil {
				return err
			}
			r.Outcome, r.Accounts, r.Role = "removed", strings.Join(removed.Accounts, ","), u.Role
			if err := audit.Record(tx, now, exp.OrganizationID, audit.System, "member.removed",
				audit.Target{Type: "user", ID: strconv.FormatInt(u.ID, 10), Label: u.Email},
				exp.UnicodeName+" expired; "+removed.Details()); err != nil {
				return err
			}
			if err := mail.Enqueue(tx, now, mail.RemovedByExpiry(u.Email, u.Name, orgName, exp.UnicodeName)); err != nil {
				return err
			}
		}
		return tx.Save(&r).Error
	})
}

// atVerifiedDomain reports whether an email address is at a domain the
// organization has verified, or under one.
func atVerifiedDomain(tx *gorm.DB, orgID int64, email string) (bool, error) {
	var n int64
	err := tx.Model(&Domain{}).Where("organization_id = ? AND status = ? AND name IN ?", orgID, Verified, EmailDomains(email)).Count(&n).Error
	return n > 0, err
}

// closeExpiry marks an expiry finished and emails its summary, once.
func (s *Service) closeExpiry(ctx context.Context, id int64) error {
	var exp Expiry
	var removed []Removal
	var closed bool
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		exp, removed, closed = Expiry{}, nil, false
		if err := database.ForNoKeyUpdate(tx).Take(&exp, id).Error; err != nil {
			return fmt.Errorf("domains: unable to read expiry %d: %w", id, err)
		}
		if exp.FinishedAt != nil {
			return nil
		}
		if err := tx.Where("expiry_id = ? AND outcome = 'removed'", id).Order("email").Find(&removed).Error; err != nil {
			return fmt.Errorf("domains: unable to read the removals of expiry %d: %w", id, err)
		}
		now := s.Now()
		if err := tx.Model(&exp).Updates(map[string]any{"finished_at": now, "lease_until": nil}).Error; err != nil {
			return fmt.Errorf("domains: unable to finish expiry %d: %w", id, err)
		}
		list := make([]string, len(removed))
		ids := make([]int64, len(removed))
		for i, r := range removed {
			list[i] = r.Name + " <" + r.Email + ">"
			ids[i] = r.UserID
		}
		slices.Sort(ids)
		gone := exp.deleted()
		t := transition{tx: tx, d: &gone, now: now, who: audit.System}
		s.announceIn(&t, Event{Type: "domain.expired", AtRisk: int64(len(removed)), Removed: ids})
		link := paths.Absolute(s.BaseURL, paths.Domains)
		s.tellAdmins(&t, func(to users.User, org string) mail.Email {
			return mail.DomainExpired(to.Email, to.Name, org, exp.UnicodeName, list, link)
		})
		closed = true
		return t.err
	})
	if err == nil && closed {
		slog.Info("domains: expiry finished", "domain", exp.DomainName, "organization", exp.OrganizationID, "removed", len(removed))
	}
	return err
}

// resumeExpiries finishes the expiries that a stopped instance left open.
func (s *Service) resumeExpiries(ctx context.Context) error {
	for ctx.Err() == nil {
		var exp Expiry
		var found bool
		err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
			now := s.Now()
			found = false
			var open []Expiry
			err := database.SkipLocked(tx).Where("finished_at IS NULL AND (lease_until IS NULL OR lease_until < ?)", now).
				Order("id").Limit(1).Find(&open).Error
			if err != nil || len(open) == 0 {
				return err
			}
			exp, found = open[0], true
			return tx.Model(&exp).Update("lease_until", now.Add(s.lease())).Error
		})
		if err != nil {
			return fmt.Errorf("domains: unable to claim an open expiry: %w", err)
		}
		if !found {
			return nil
		}
		if err := s.finishExpiry(ctx, exp); err != nil {
			return err
		}
	}
	return nil
}

// expiryNoticeFor is how long the Domains list tells of a domain deleted
// at the end of its grace period.
const expiryNoticeFor = 14 * 24 * time.Hour

// Notices says whether an organization has something its Admin Center
// pages tell of: a domain in re-validation (the banner on every page) or
// a domain deleted lately at the end of its grace period (the Domains
// list). Read with the signed-in person (NoticesSQL), it spares the pages
// of an organization with neither a statement for each.
type Notices struct {
	Revalidating bool // Warnings has something to say
	Expired      bool // RecentExpiries may have something to say
}

// NoticesSQL is Notices as two SQL expressions over the organization id
// column org, to read into Notices.Fields; NoticesArgs are their
// arguments.
func NoticesSQL(org string) string {
	return `EXISTS (SELECT 1 FROM domains WHERE domains.organization_id = ` + org + ` AND domains.status = ?),
		EXISTS (SELECT 1 FROM domain_expiries WHERE domain_expiries.organization_id = ` + org + ` AND domain_expiries.started_at > ?)`
}

// NoticesArgs are the arguments of NoticesSQL now.
func (s *Service) NoticesArgs() []any {
	return []any{string(Revalidating), s.Now().Add(-expiryNoticeFor)}
}

// Fields are where the expressions of NoticesSQL are read into.
func (n *Notices) Fields() []any { return []any{&n.Revalidating, &n.Expired} }

// ExpiryNotice is a domain deleted at the end of its grace period, as the
// Domains list tells it for a while: when, how many of the users it
// removed are not back yet, and the domain of that name the organization
// has again, if it added it back (AgainID 0 if not).
type ExpiryNotice struct {
	DomainName, UnicodeName string
	At                      time.Time
	Removed, NotBack        int
	AgainID                 int64
	AgainStatus             Status
}

// RecentExpiries returns the organization's domains deleted at the end of
// their grace period lately, newest first, leaving out those whose users
// are all back.
func (s *Service) RecentExpiries(ctx context.Context, orgID int64) ([]ExpiryNotice, error) {
	var out []ExpiryNotice
	err := s.DB.WithContext(ctx).Model(&Expiry{}).
		Select(`domain_expiries.domain_name, domain_expiries.unicode_name, domain_expiries.started_at AS at,
			COUNT(expiry_removals.id) AS removed, COUNT(expiry_removals.id) - COUNT(expiry_removals.readded_at) AS not_back,
			COALESCE(domains.id, 0) AS again_id, COALESCE(domains.status, '') AS again_status`).
		Joins("LEFT JOIN expiry_removals ON expiry_removals.expiry_id = domain_expiries.id AND expiry_removals.outcome = 'removed'").
		Joins("LEFT JOIN domains ON domains.organization_id = domain_expiries.organization_id AND domains.name = domain_expiries.domain_name").
		Where("domain_expiries.organization_id = ? AND domain_expiries.started_at > ?", orgID, s.Now().Add(-expiryNoticeFor)).
		Group("domain_expiries.id, domain_expiries.domain_name, domain_expiries.unicode_name, domain_expiries.started_at, domains.id, domains.status").
		Having("COUNT(expiry_removals.id) = 0 OR COUNT(expiry_removals.id) > COUNT(expiry_removals.readded_at)").
		Order("domain_expiries.started_at DESC").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("domains: unable to list the recent expiries of %d: %w", orgID, err)
	}
	return out, nil
}
