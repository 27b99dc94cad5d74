package imports

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/database"
	"admincenter/internal/domains"
	"admincenter/internal/mail"
	"admincenter/internal/orgs"
	"admincenter/internal/users"
)

// SignupPolicy is what a sign-up with an email at a verified domain does.
type SignupPolicy string

const (
	InviteOnly SignupPolicy = "invite" // nothing, until the person is invited
	AutoAdd    SignupPolicy = "auto"   // the person joins the organization as a Standard user
)

// Label is the policy as the domain settings show it.
func (p SignupPolicy) Label() string {
	if p == AutoAdd {
		return "Automatically add new users who sign up with this domain"
	}
	return "Invite only"
}

// SetPolicy changes the domain's sign-up policy. Adding sign-ups
// automatically needs the domain verified.
func (s *Service) SetPolicy(ctx context.Context, actorID, domainID int64, p SignupPolicy) error {
	if p != InviteOnly && p != AutoAdd {
		return apperr.Field("policy", "Choose Invite only or Automatically add new users.")
	}
	return database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		actor, d, err := domainFor(tx, actorID, domainID)
		if err != nil {
			return err
		}
		if p == AutoAdd {
			if err := mustBeVerified(d, "add new users automatically"); err != nil {
				return apperr.Field("policy", err.Error())
			}
		}
		if err := domains.SetSignupPolicy(tx, d.ID, string(p)); err != nil {
			return err
		}
		return audit.Record(tx, s.Now(), d.OrganizationID, actorOf(actor), "domain.signup_policy_changed",
			audit.Target{Type: "domain", ID: fmt.Sprint(d.ID), Label: d.UnicodeName}, p.Label())
	})
}

// AddOnSignup makes u, who just verified their email, a managed Standard
// user of the organization whose verified domain adds sign-ups at it
// automatically; the most specific domain wins. It runs in the transaction
// that verifies the email. A domain in re-validation adds nobody.
func (s *Service) AddOnSignup(tx *gorm.DB, u users.User) error {
	if u.Managed() || !u.Active() || !u.EmailVerified() {
		return nil
	}
	var found []domains.Domain
	err := tx.Where("status = ? AND signup_policy = ? AND name IN ?", domains.Verified, AutoAdd, domains.EmailDomains(u.Email)).
		Where("organization_id IN (?)", orgs.WithBulkImport(tx.Session(&gorm.Session{NewDB: true}))).
		Order("LENGTH(name) DESC").Limit(1).Find(&found).Error
	if err != nil || len(found) == 0 {
		return err
	}
	d := found[0]
	org, err := orgs.Lookup(tx, d.OrganizationID)
	if err != nil {
		return err
	}
	now := s.Now()
	if err := orgs.Join(tx, u.ID, org.ID, users.Standard, now); err != nil {
		return err
	}
	err = audit.Record(tx, now, org.ID, audit.System, "user.auto_added",
		audit.Target{Type: "user", ID: fmt.Sprint(u.ID), Label: u.Email},
		fmt.Sprintf("signed up with an address at %s, which adds new users automatically", d.UnicodeName))
	if err != nil {
		return err
	}
	added := u
	added.OrganizationID, added.Role, added.JoinedAt = &org.ID, users.Standard, &now
	if err := s.announce(tx, now, Event{Type: "user.added_at_signup", User: &added, Domain: &d}); err != nil {
		return err
	}
	return mail.Enqueue(tx, now, mail.AutoAdded(u.Email, u.Name, org.Name, d.UnicodeName))
}
