package domains

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/database"
	"admincenter/internal/mail"
	"admincenter/internal/orgs"
	"admincenter/internal/paths"
	"admincenter/internal/text"
	"admincenter/internal/users"
)

// startRevalidation gives a verified domain whose proof went missing its
// grace period. The deadline is set once, here, and never moves later.
func (s *Service) startRevalidation(t *transition, why string) {
	d, now := t.d, t.now
	deadline := now.Add(s.GracePeriod)
	d.Status, d.RevalidationStartedAt, d.DeadlineAt = Revalidating, &now, &deadline
	d.WarnedFirstAt, d.WarnedLastAt = nil, nil
	atRisk, err := usersAtRisk(t.tx, *d)
	if err != nil {
		t.err = err
		return
	}
	t.event("domain.revalidation_required", fmt.Sprintf("Verified → Re-validation required until %s: %s", deadline.UTC().Format(time.RFC3339), why))
	s.announceIn(t, Event{Type: "domain.revalidation_required", AtRisk: atRisk, Reason: why})
	s.tellAdmins(t, func(to users.User, org string) mail.Email {
		return mail.RevalidationRequired(to.Email, to.Name, org, d.UnicodeName, why, deadline, atRisk, s.atRiskLink(*d), s.domainLink(*d))
	})
}

// Reminders are written 7 days and 1 day before the deadline with the
// default 30-day grace period; shorter periods (in tests and demos) scale
// them.
func (s *Service) firstWarning() time.Duration { return s.GracePeriod * 7 / 30 }
func (s *Service) lastWarning() time.Duration  { return s.GracePeriod / 30 }

// remind writes the reminder that is due for a domain in re-validation,
// if any. Only the most urgent one goes out when both are due.
func (s *Service) remind(t *transition) {
	d, now := t.d, t.now
	left := d.DeadlineAt.Sub(now)
	switch {
	case d.WarnedLastAt == nil && left <= s.lastWarning():
		d.WarnedFirstAt, d.WarnedLastAt = coalesce(d.WarnedFirstAt, now), &now
	case d.WarnedFirstAt == nil && left <= s.firstWarning():
		d.WarnedFirstAt = &now
	default:
		return
	}
	atRisk, err := usersAtRisk(t.tx, *d)
	if err != nil {
		t.err = err
		return
	}
	t.event("domain.revalidation_reminder", text.Left(left)+" left")
	s.announceIn(t, Event{Type: "domain.reminder", AtRisk: atRisk})
	s.tellAdmins(t, func(to users.User, org string) mail.Email {
		return mail.RevalidationReminder(to.Email, to.Name, org, d.UnicodeName, text.Left(left), *d.DeadlineAt, atRisk, s.atRiskLink(*d), s.domainLink(*d))
	})
}

func coalesce(t *time.Time, now time.Time) *time.Time {
	if t != nil {
		return t
	}
	return &now
}

// tellAdmins writes an email to the Owner and every Administrator of the
// domain's organization, in the transaction of the change it reports.
func (s *Service) tellAdmins(t *transition, email func(to users.User, org string) mail.Email) {
	if t.err != nil {
		return
	}
	org, err := orgs.Lookup(t.tx, t.d.OrganizationID)
	if err != nil {
		t.err = err
		return
	}
	admins, err := orgs.Admins(t.tx, org.ID)
	if err != nil {
		t.err = err
		return
	}
	for _, a := range admins {
		if err := mail.Enqueue(t.tx, t.now, email(a, org.Name)); err != nil {
			t.err = err
			return
		}
	}
}

func (s *Service) domainLink(d Domain) string {
	return paths.Absolute(s.BaseURL, paths.Domain(d.ID))
}

// Warning is a domain in re-validation, as the Admin Center's banner shows it.
type Warning struct {
	DomainID    int64
	Name        string
	Deadline    time.Time
	UsersAtRisk int64
}

// Warnings returns the organization's domains in re-validation, soonest
// deadline first.
func (s *Service) Warnings(ctx context.Context, orgID int64) ([]Warning, error) {
	var list []Domain
	db := s.DB.WithContext(ctx)
	if err := db.Where("organization_id = ? AND status = ?", orgID, Revalidating).Order("deadline_at").Find(&list).Error; err != nil {
		return nil, fmt.Errorf("domains: unable to list domains in re-validation: %w", err)
	}
	out := make([]Warning, len(list))
	for i, d := range list {
		n, err := usersAtRisk(db, d)
		if err != nil {
			return nil, err
		}
		out[i] = Warning{DomainID: d.ID, Name: d.UnicodeName, UsersAtRisk: n}
		if d.DeadlineAt != nil {
			out[i].Deadline = *d.DeadlineAt
		}
	}
	return out, nil
}

// lockAlive re-reads a domain for a change, or reports that it is gone. It
// is locked FOR UPDATE: at its deadline the change is its deletion.
func lockAlive(tx *gorm.DB, id int64) (Domain, bool, error) {
	var found []Domain
	if err := database.ForUpdate(tx).Where("id = ?", id).Limit(1).Find(&found).Error; err != nil {
		return Domain{}, false, fmt.Errorf("domains: unable to read domain %d: %w", id, err)
	}
	if len(found) == 0 {
		return Domain{}, false, nil
	}
	return found[0], true, nil
}
