package orgs

import (
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/text"
	"admincenter/internal/users"
)

// Membership is this package's: which organization manages a user, with
// which role since when, and which organization an account belongs to and
// who owns it there. Other packages change it only through these
// functions, in their own transaction.

// Join makes the user a managed member with role, in tx; their accounts
// join the organization with them.
func Join(tx *gorm.DB, userID, orgID int64, role users.Role, now time.Time) error {
	_, err := JoinAll(tx, []int64{userID}, orgID, role, now)
	return err
}

// JoinAll makes the users managed members with role, in tx, in a few
// statements whatever their number; their accounts join with them. It
// returns the ids of the accounts that joined, by owner, in order.
func JoinAll(tx *gorm.DB, userIDs []int64, orgID int64, role users.Role, now time.Time) (map[int64][]string, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	err := tx.Model(&users.User{}).Where("id IN ?", userIDs).
		Updates(map[string]any{"organization_id": orgID, "role": role, "joined_at": now}).Error
	if err != nil {
		return nil, fmt.Errorf("orgs: unable to add %s to organization %d: %w", text.Count(len(userIDs), "user"), orgID, err)
	}
	rows, err := tx.Raw("UPDATE accounts SET organization_id = ? WHERE owner_id IN ? RETURNING owner_id, id", orgID, userIDs).Rows()
	if err != nil {
		return nil, fmt.Errorf("orgs: unable to move the accounts of %s: %w", text.Count(len(userIDs), "user"), err)
	}
	defer rows.Close()
	moved := make(map[int64][]string, len(userIDs))
	for rows.Next() {
		var owner int64
		var id string
		if err := rows.Scan(&owner, &id); err != nil {
			return nil, fmt.Errorf("orgs: unable to read the accounts moved: %w", err)
		}
		moved[owner] = append(moved[owner], id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("orgs: unable to move the accounts of %s: %w", text.Count(len(userIDs), "user"), err)
	}
	for _, ids := range moved {
		slices.Sort(ids)
	}
	return moved, nil
}

// Removed is what RemoveMembers did.
type Removed struct {
	Accounts []string // the ids of the accounts handed to the Owner
	Owner    string   // the Owner's email
}

// Details is a note for the audit log.
func (r Removed) Details() string {
	return fmt.Sprintf("%s now owned by %s", text.Count(len(r.Accounts), "account"), r.Owner)
}

// RemoveMembers takes the given users out of the organization in tx and
// gives the accounts they own in it to the Owner.
func RemoveMembers(tx *gorm.DB, orgID int64, userIDs []int64) (Removed, error) {
	var owner users.User
	if err := tx.Where("organization_id = ? AND role = ?", orgID, users.Owner).Take(&owner).Error; err != nil {
		return Removed{}, fmt.Errorf("orgs: unable to find the Owner of %d: %w", orgID, err)
	}
	r := Removed{Owner: owner.Email}
	owned := tx.Model(&users.Account{}).Where("owner_id IN ? AND organization_id = ?", userIDs, orgID)
	if err := owned.Order("id").Pluck("id", &r.Accounts).Error; err != nil {
		return r, fmt.Errorf("orgs: unable to list the accounts of members of %d: %w", orgID, err)
	}
	if err := GiveAccounts(tx, orgID, r.Accounts, owner.ID); err != nil {
		return r, err
	}
	err := tx.Model(&users.User{}).Where("id IN ? AND organization_id = ? AND role <> ?", userIDs, orgID, users.Owner).
		Updates(map[string]any{"organization_id": nil, "role": nil, "joined_at": nil}).Error
	if err != nil {
		return r, fmt.Errorf("orgs: unable to remove members of %d: %w", orgID, err)
	}
	return r, nil
}

// GiveAccounts makes a member the owner of these accounts of the
// organization, in tx.
func GiveAccounts(tx *gorm.DB, orgID int64, accountIDs []string, to int64) error {
	if len(accountIDs) == 0 {
		return nil
	}
	err := tx.Model(&users.Account{}).Where("id IN ? AND organization_id = ?", accountIDs, orgID).Update("owner_id", to).Error
	if err != nil {
		return fmt.Errorf("orgs: unable to give %s to user %d: %w", text.Count(len(accountIDs), "account"), to, err)
	}
	return nil
}

// Admins returns the organization's Owner and its active Administrators:
// the people its notices go to.
func Admins(tx *gorm.DB, orgID int64) ([]users.User, error) {
	var admins []users.User
	err := tx.Where("organization_id = ? AND role IN ? AND deactivated_at IS NULL", orgID, []users.Role{users.Owner, users.Admin}).
		Order("id").Find(&admins).Error
	if err != nil {
		return nil, fmt.Errorf("orgs: unable to list the admins of %d: %w", orgID, err)
	}
	return admins, nil
}
