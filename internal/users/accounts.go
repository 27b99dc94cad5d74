package users

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

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
	if msg := AccountName.Check(&name); msg != "" {
		return Account{}, apperr.Field("name", msg)
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

// AccountsOf returns the accounts each of these users owns in the
// organization, oldest first: those a removal from it hands to its Owner.
func AccountsOf(db *gorm.DB, orgID int64, ownerIDs []int64) (map[int64][]Account, error) {
	var accounts []Account
	if err := db.Where("owner_id IN ? AND organization_id = ?", ownerIDs, orgID).Order("created_at, id").Find(&accounts).Error; err != nil {
		return nil, fmt.Errorf("users: unable to read the accounts of members of %d: %w", orgID, err)
	}
	out := make(map[int64][]Account, len(ownerIDs))
	for _, a := range accounts {
		out[a.OwnerID] = append(out[a.OwnerID], a)
	}
	return out, nil
}

// CountAccounts counts the accounts of the users that owners, a subquery
// of user ids, selects.
func CountAccounts(db *gorm.DB, owners *gorm.DB) (int64, error) {
	var n int64
	if err := db.Model(&Account{}).Where("owner_id IN (?)", owners).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("users: unable to count accounts: %w", err)
	}
	return n, nil
}
