// Package invites lets the Owner and Administrators invite people by email
// to their organization, only at its verified domains. An invitation is a
// link valid for 7 days; accepting it makes the person a managed user.
package invites

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/database"
	"admincenter/internal/domains"
	"admincenter/internal/mail"
	"admincenter/internal/orgs"
	"admincenter/internal/paths"
	"admincenter/internal/token"
	"admincenter/internal/users"
)

// TTL is how long an invitation link stays valid.
const TTL = 7 * 24 * time.Hour

// Invitation is an invitation to join an organization with a role.
type Invitation struct {
	ID             int64
	OrganizationID int64
	Email          string
	Role           users.Role
	TokenHash      string
	InvitedBy      int64
	CreatedAt      time.Time
	SentAt         time.Time
	ExpiresAt      time.Time
	AcceptedAt     *time.Time
	AcceptedBy     *int64
	CancelledAt    *time.Time
}

// Expired reports whether the link can no longer be used.
func (i Invitation) Expired(now time.Time) bool { return !now.Before(i.ExpiresAt) }

// Service sends, resends, cancels and accepts invitations.
type Service struct {
	DB        *gorm.DB
	Now       func() time.Time
	BaseURL   *url.URL
	Providers *domains.Blocklist
	Users     *users.Service
}

// Invite sends an invitation to email with role, after checking that the
// address is at one of the organization's verified domains and that its
// person can join.
func (s *Service) Invite(ctx context.Context, actorID int64, email string, role users.Role) (Invitation, error) {
	email, msg := users.NormalizeEmail(email)
	bad := apperr.Fields{}
	if msg != "" {
		bad.Add("email", msg)
	}
	if role != users.Admin && role != users.Standard {
		bad.Add("role", "Choose Administrator or Standard User.")
	}
	if err := bad.Err(); err != nil {
		return Invitation{}, err
	}
	var inv Invitation
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		actor, org, err := orgs.Admin(tx, actorID)
		if err != nil {
			return err
		}
		if err := domains.AllowsEmail(tx, s.Providers, org.ID, email); err != nil {
			return err
		}
		if err := canJoin(tx, email, org.ID); err != nil {
			return err
		}
		var open int64
		err = tx.Model(&Invitation{}).Where("organization_id = ? AND email = ? AND accepted_at IS NULL AND cancelled_at IS NULL", org.ID, email).Count(&open).Error
		if err != nil {
			return fmt.Errorf("invites: unable to look for invitations of %s: %w", email, err)
		}
		if open > 0 {
			return apperr.Field("email", "An invitation to "+email+" is already pending. Resend or cancel it in the list of invitations.")
		}
		now := s.Now()
		inv = Invitation{OrganizationID: org.ID, Email: email, Role: role, InvitedBy: actor.ID, CreatedAt: now}
		raw := s.renew(&inv, now)
		if err := tx.Create(&inv).Error; err != nil {
			return fmt.Errorf("invites: unable to invite %s: %w", email, err)
		}
		return s.notify(tx, inv, org, actor, raw, "invitation.sent")
	})
	return inv, err
}

// canJoin refuses addresses whose person cannot become a member.
func canJoin(tx *gorm.DB, email string, orgID int64) error {
	var u users.User
	err := tx.Where("email = ?", email).Take(&u).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("invites: unable to look up %s: %w", email, err)
	case u.OrgID() == orgID:
		return apperr.Field("email", email+" is already a member of your organization.")
	case u.Managed():
		return apperr.Field("email", email+" is managed by another organization and cannot join yours until that organization removes them.")
	case !u.Active():
		return apperr.Field("email", "The login of "+email+" is deactivated.")
	}
	return nil
}

// renew gives the invitation a fresh link and validity, and returns the link's token.
func (s *Service) renew(inv *Invitation, now time.Time) string {
	raw, hash := token.New()
	inv.TokenHash, inv.SentAt, inv.ExpiresAt = hash, now, now.Add(TTL)
	return raw
}

func (s *Service) notify(tx *gorm.DB, inv Invitation, org orgs.Organization, actor users.User, raw, event string) error {
	link := paths.Absolute(s.BaseURL, paths.WithToken(paths.Invitation, raw))
	now := s.Now()
	if err := mail.Enqueue(tx, now, mail.Invitation(inv.Email, org.Name, actor.Name, inv.Role.Label(), link, inv.ExpiresAt)); err != nil {
		return err
	}
	return audit.Record(tx, now, org.ID, audit.Actor{ID: actor.ID, Email: actor.Email}, event,
		audit.Target{Type: "invitation", ID: fmt.Sprint(inv.ID), Label: inv.Email}, "role: "+inv.Role.Label())
}

// Open returns the organization's invitations not yet accepted or
// cancelled, newest first (expired ones included, to be resent).
func (s *Service) Open(ctx context.Context, orgID int64) ([]Invitation, error) {
	var out []Invitation
	err := s.DB.WithContext(ctx).Where("organization_id = ? AND accepted_at IS NULL AND cancelled_at IS NULL", orgID).
		Order("id DESC").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("invites: unable to list invitations of %d: %w", orgID, err)
	}
	return out, nil
}

// change runs f on an open invitation of the actor's organization.
func (s *Service) change(ctx context.Context, actorID, id int64, f func(tx *gorm.DB, inv *Invitation, org orgs.Organization, actor users.User) error) error {
	return database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		actor, org, err := orgs.Admin(tx, actorID)
		if err != nil {
			return err
		}
		var inv Invitation
		err = database.ForNoKeyUpdate(tx).Where("id = ? AND organization_id = ?", id, org.ID).Take(&inv).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return apperr.New(apperr.NotFound, "No such invitation in this organization.")
		}
		if err != nil {
			return fmt.Errorf("invites: unable to read invitation %d: %w", id, err)
		}
		if inv.AcceptedAt != nil || inv.CancelledAt != nil {
			return apperr.New(apperr.Conflict, "This invitation was already accepted or cancelled.")
		}
		return f(tx, &inv, org, actor)
	})
}

// Resend emails a new link, valid for 7 days from now; the old link stops
// working. The address must still be allowed.
func (s *Service) Resend(ctx context.Context, actorID, id int64) (Invitation, error) {
	var out Invitation
	err := s.change(ctx, actorID, id, func(tx *gorm.DB, inv *Invitation, org orgs.Organization, actor users.User) error {
		if err := domains.AllowsEmail(tx, s.Providers, org.ID, inv.Email); err != nil {
			return apperr.New(apperr.Conflict, apperr.MessageOf(err))
		}
		if err := canJoin(tx, inv.Email, org.ID); err != nil {
			return apperr.New(apperr.Conflict, apperr.MessageOf(err))
		}
		raw := s.renew(inv, s.Now())
		if err := tx.Save(inv).Error; err != nil {
			return fmt.Errorf("invites: unable to renew invitation %d: %w", inv.ID, err)
		}
		out = *inv
		return s.notify(tx, *inv, org, actor, raw, "invitation.resent")
	})
	return out, err
}

// Cancel withdraws an invitation; its link stops working.
func (s *Service) Cancel(ctx context.Context, actorID, id int64) (Invitation, error) {
	var out Invitation
	err := s.change(ctx, actorID, id, func(tx *gorm.DB, inv *Invitation, org orgs.Organization, actor users.User) error {
		now := s.Now()
		inv.CancelledAt = &now
		if err := tx.Save(inv).Error; err != nil {
			return fmt.Errorf("invites: unable to cancel invitation %d: %w", inv.ID, err)
		}
		out = *inv
		return audit.Record(tx, now, org.ID, audit.Actor{ID: actor.ID, Email: actor.Email}, "invitation.cancelled",
			audit.Target{Type: "invitation", ID: fmt.Sprint(inv.ID), Label: inv.Email}, "")
	})
	return out, err
}
