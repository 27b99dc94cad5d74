package invites

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/database"
	"admincenter/internal/domains"
	"admincenter/internal/orgs"
	"admincenter/internal/text"
	"admincenter/internal/token"
	"admincenter/internal/users"
)

// Offer is an invitation as its recipient sees it.
type Offer struct {
	Invitation
	OrganizationName string
	InviterName      string
	HasLogin         bool // a user with the invited email exists
}

// Lookup returns the invitation of a link that can still be accepted.
func (s *Service) Lookup(ctx context.Context, raw string) (Offer, error) {
	return s.lookup(s.DB.WithContext(ctx), raw)
}

func (s *Service) lookup(db *gorm.DB, raw string) (Offer, error) {
	var o Offer
	err := database.ForNoKeyUpdate(db).Where("token_hash = ?", token.Hash(raw)).Take(&o.Invitation).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return o, apperr.New(apperr.NotFound, "This invitation link is not valid. It may have been replaced by a newer one: look for the latest invitation email, or ask the person who invited you.")
	}
	if err != nil {
		return o, fmt.Errorf("invites: unable to read an invitation: %w", err)
	}
	switch {
	case o.AcceptedAt != nil:
		return o, apperr.New(apperr.NotFound, "This invitation was already accepted. Sign in to continue.")
	case o.CancelledAt != nil:
		return o, apperr.New(apperr.NotFound, "This invitation was cancelled. Ask the person who invited you for a new one.")
	case o.Expired(s.Now()):
		return o, apperr.New(apperr.NotFound, "This invitation has expired: invitations are valid for "+text.Duration(TTL)+". Ask the person who invited you to resend it.")
	}
	var org orgs.Organization
	var inviter users.User
	var existing int64
	err = errors.Join(
		db.Take(&org, o.OrganizationID).Error,
		db.Take(&inviter, o.InvitedBy).Error,
		db.Model(&users.User{}).Where("email = ?", o.Email).Count(&existing).Error,
	)
	if err != nil {
		return o, fmt.Errorf("invites: unable to read invitation %d: %w", o.ID, err)
	}
	o.OrganizationName, o.InviterName, o.HasLogin = org.Name, inviter.Name, existing > 0
	return o, nil
}

// Accept makes the signed-in user a managed member with the invited role.
// The user must be the invited address, free of any other organization,
// and the address's domain must still be verified by the organization.
func (s *Service) Accept(ctx context.Context, raw string, userID int64) (Offer, error) {
	var o Offer
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		// The person first, then the invitation: the lock order of package
		// database.
		var u users.User
		if err := database.ForNoKeyUpdate(tx).Take(&u, userID).Error; err != nil {
			return fmt.Errorf("invites: unable to read user %d: %w", userID, err)
		}
		var err error
		if o, err = s.lookup(tx, raw); err != nil {
			return err
		}
		if u.Email != o.Email {
			return apperr.New(apperr.Forbidden, fmt.Sprintf("This invitation is for %s, but you are signed in as %s. Sign out, then open the link again and sign in as %s.", o.Email, u.Email, o.Email))
		}
		return s.join(tx, o, u)
	})
	return o, err
}

// SignUpAndAccept creates the login of an invited person who has none and
// makes them a managed member. The link proves their email address.
func (s *Service) SignUpAndAccept(ctx context.Context, raw string, f users.SignUpForm) (users.User, Offer, error) {
	var u users.User
	var o Offer
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		var err error
		if o, err = s.lookup(tx, raw); err != nil {
			return err
		}
		f.Email = o.Email
		if u, err = s.Users.SignUpVerified(tx, f); err != nil {
			return err
		}
		return s.join(tx, o, u)
	})
	return u, o, err
}

func (s *Service) join(tx *gorm.DB, o Offer, u users.User) error {
	switch {
	case u.OrgID() == o.OrganizationID:
		return apperr.New(apperr.Conflict, "You are already a member of "+o.OrganizationName+".")
	case u.Managed():
		return apperr.New(apperr.Conflict, "You are managed by another organization. A person can belong to one organization only: ask your current organization's Owner to remove you, then accept this invitation.")
	case !u.Active():
		return apperr.New(apperr.Forbidden, "Your login is deactivated.")
	}
	if err := domains.AllowsEmail(tx, s.Providers, o.OrganizationID, o.Email); err != nil {
		return apperr.New(apperr.Conflict, "This invitation cannot be accepted right now: "+o.OrganizationName+" does not currently have "+users.DomainOf(o.Email)+" verified. Ask the person who invited you.")
	}
	now := s.Now()
	if err := orgs.Join(tx, u.ID, o.OrganizationID, o.Role, now); err != nil {
		return err
	}
	if err := users.ConfirmEmail(tx, &u, now); err != nil {
		return err
	}
	err := tx.Model(&Invitation{}).Where("id = ?", o.ID).Updates(map[string]any{"accepted_at": now, "accepted_by": u.ID}).Error
	if err != nil {
		return fmt.Errorf("invites: unable to accept invitation %d: %w", o.ID, err)
	}
	return audit.Record(tx, now, o.OrganizationID, audit.Actor{ID: u.ID, Email: u.Email}, "invitation.accepted",
		audit.Target{Type: "user", ID: fmt.Sprint(u.ID), Label: u.Email}, "joined as "+o.Role.Label())
}
