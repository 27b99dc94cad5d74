package users

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/database"
)

// Account is a project a user owns. While its owner is managed, the
// account belongs to the organization too.
type Account struct {
	ID             string
	Name           string
	OwnerID        int64
	OrganizationID *int64
	CreatedAt      time.Time
}

// NewAccountID returns a fresh public account id: AC and 32 hex digits.
func NewAccountID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "AC" + hex.EncodeToString(b)
}

// CreateAccount creates an account owned by the user.
func (s *Service) CreateAccount(ctx context.Context, userID int64, name string) (Account, error) {
	name = strings.TrimSpace(name)
	if msg := CheckText("An account name", name); msg != "" {
		return Account{}, apperr.Field("name", msg)
	}
	switch {
	case name == "":
		return Account{}, apperr.Field("name", "Enter a name for the account.")
	case utf8.RuneCountInString(name) > 64:
		return Account{}, apperr.Field("name", "An account name can be at most 64 characters.")
	}
	var a Account
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		// Locked, so that the account joins the organization the user is in
		// when it commits, even while a removal or a join runs.
		var u User
		if err := database.ForNoKeyUpdate(tx).Take(&u, userID).Error; err != nil {
			return fmt.Errorf("users: unable to read user %d: %w", userID, err)
		}
		now := s.Now()
		a = Account{ID: NewAccountID(), Name: name, OwnerID: u.ID, OrganizationID: u.OrganizationID, CreatedAt: now}
		if err := tx.Create(&a).Error; err != nil {
			return fmt.Errorf("users: unable to create account %q: %w", name, err)
		}
		return audit.Record(tx, now, u.OrgID(), audit.Actor{ID: u.ID, Email: u.Email}, "account.created",
			audit.Target{Type: "account", ID: a.ID, Label: a.Name}, "")
	})
	return a, err
}

// Accounts returns the accounts a user owns, oldest first.
func (s *Service) Accounts(ctx context.Context, userID int64) ([]Account, error) {
	var out []Account
	if err := s.DB.WithContext(ctx).Where("owner_id = ?", userID).Order("created_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("users: unable to list accounts of %d: %w", userID, err)
	}
	return out, nil
}
