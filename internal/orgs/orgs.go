// Package orgs holds organizations and their members: creating an
// organization, the roles Owner, Administrator and Standard User, changing
// roles, transferring ownership and removing members.
package orgs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

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

var orgName = users.NameRule{What: "An organization name", Empty: "Enter a name for your organization.", Max: 100}

// Create makes a new organization with the user as its Owner. The user's
// accounts join the organization with them.
func (s *Service) Create(ctx context.Context, userID int64, name string) (Organization, error) {
	if msg := orgName.Check(&name); msg != "" {
		return Organization{}, apperr.Field("name", msg)
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

// WithBulkImport selects the ids of the organizations with Bulk User
// Import on, as a subquery.
func WithBulkImport(db *gorm.DB) *gorm.DB {
	return db.Model(&Organization{}).Select("id").Where("bulk_import")
}

// SetFeature switches Bulk User Import on or off for the organization with
// this id or exact name; the operator's command calls it.
func (s *Service) SetFeature(ctx context.Context, idOrName string, on bool) (Organization, error) {
	var org Organization
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		var found []Organization
		q := database.ForNoKeyUpdate(tx)
		if n, perr := strconv.ParseInt(idOrName, 10, 64); perr == nil {
			q = q.Where("id = ? OR name = ?", n, idOrName)
		} else {
			q = q.Where("name = ?", idOrName)
		}
		if err := q.Find(&found).Error; err != nil {
			return fmt.Errorf("orgs: unable to find organization %q: %w", idOrName, err)
		}
		switch len(found) {
		case 0:
			return apperr.New(apperr.NotFound, fmt.Sprintf("No organization has the id or name %q.", idOrName))
		case 1:
		default:
			return apperr.New(apperr.Conflict, fmt.Sprintf("Several organizations are named %q: give the id instead.", idOrName))
		}
		org = found[0]
		org.BulkImport = on
		if err := tx.Model(&org).Update("bulk_import", on).Error; err != nil {
			return fmt.Errorf("orgs: unable to switch the feature of %q: %w", org.Name, err)
		}
		return audit.Record(tx, s.Now(), org.ID, audit.Actor{Email: "operator"}, "organization.feature_changed",
			audit.Target{Type: "organization", ID: fmt.Sprint(org.ID), Label: org.Name}, "bulk-import "+onOff(on))
	})
	return org, err
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
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
