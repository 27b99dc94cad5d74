// Package orgs holds organizations and their members: creating an
// organization, the roles Owner, Administrator and Standard User, changing
// roles, transferring ownership and removing members.
package orgs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/database"
	"admincenter/internal/users"
)

// Organization is a company that manages users and their accounts.
type Organization struct {
	ID         int64
	Name       string
	CreatedAt  time.Time
	BulkImport bool // the operator switched Bulk User Import on
}

// Service changes organizations and their membership.
type Service struct {
	DB  *gorm.DB
	Now func() time.Time
}

// Create makes a new organization with the user as its Owner. The user's
// accounts join the organization with them.
func (s *Service) Create(ctx context.Context, userID int64, name string) (Organization, error) {
	name = strings.TrimSpace(name)
	if msg := users.CheckText("An organization name", name); msg != "" {
		return Organization{}, apperr.Field("name", msg)
	}
	switch {
	case name == "":
		return Organization{}, apperr.Field("name", "Enter a name for your organization.")
	case utf8.RuneCountInString(name) > 100:
		return Organization{}, apperr.Field("name", "An organization name can be at most 100 characters.")
	}
	var org Organization
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		u, err := lockUser(tx, userID)
		if err != nil {
			return err
		}
		if err := CanCreate(u); err != nil {
			return err
		}
		now := s.Now()
		org = Organization{Name: name, CreatedAt: now}
		if err := tx.Create(&org).Error; err != nil {
			return fmt.Errorf("orgs: unable to create %q: %w", name, err)
		}
		if err := Join(tx, u.ID, org.ID, users.Owner, now); err != nil {
			return err
		}
		return audit.Record(tx, now, org.ID, actorOf(u), "organization.created",
			audit.Target{Type: "organization", ID: fmt.Sprint(org.ID), Label: org.Name}, "Owner: "+u.Email)
	})
	return org, err
}

// CanCreate says why the user may not create an organization, if so.
func CanCreate(u users.User) error {
	switch {
	case u.Managed():
		return apperr.New(apperr.Conflict, "You already belong to an organization. A person can be managed by only one organization.")
	case !u.EmailVerified():
		return apperr.New(apperr.Forbidden, "Verify your email address before you create an organization.")
	}
	return nil
}

// ByID returns one organization.
func (s *Service) ByID(ctx context.Context, id int64) (Organization, error) {
	return Lookup(s.DB.WithContext(ctx), id)
}

// Lookup returns one organization, using db.
func Lookup(db *gorm.DB, id int64) (Organization, error) {
	var org Organization
	err := db.Take(&org, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return org, apperr.New(apperr.NotFound, "No such organization.")
	}
	if err != nil {
		return org, fmt.Errorf("orgs: unable to read organization %d: %w", id, err)
	}
	return org, nil
}

// Join makes the user a managed member with role, in tx; their accounts
// join the organization with them.
func Join(tx *gorm.DB, userID, orgID int64, role users.Role, now time.Time) error {
	err := tx.Model(&users.User{}).Where("id = ?", userID).
		Updates(map[string]any{"organization_id": orgID, "role": role, "joined_at": now}).Error
	if err != nil {
		return fmt.Errorf("orgs: unable to add user %d to organization %d: %w", userID, orgID, err)
	}
	err = tx.Model(&users.Account{}).Where("owner_id = ?", userID).Update("organization_id", orgID).Error
	if err != nil {
		return fmt.Errorf("orgs: unable to move the accounts of user %d: %w", userID, err)
	}
	return nil
}

func lockUser(tx *gorm.DB, id int64) (users.User, error) {
	var u users.User
	err := database.ForNoKeyUpdate(tx).Take(&u, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return u, apperr.New(apperr.NotFound, "No such user.")
	}
	if err != nil {
		return u, fmt.Errorf("orgs: unable to read user %d: %w", id, err)
	}
	return u, nil
}

func actorOf(u users.User) audit.Actor { return audit.Actor{ID: u.ID, Email: u.Email} }

func targetOf(u users.User) audit.Target {
	return audit.Target{Type: "user", ID: fmt.Sprint(u.ID), Label: u.Email}
}
