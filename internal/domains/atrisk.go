package domains

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"admincenter/internal/csvsafe"
	"admincenter/internal/paging"
	"admincenter/internal/paths"
	"admincenter/internal/users"
)

// atRiskQuery selects the managed users an expiry would remove: those at
// the domain, but not the Owner and not those whose email is also at
// another domain the organization has verified. The expiry, the count in
// the emails and banners, and the list of who is at risk all use it, so
// that what is announced is what happens.
func atRiskQuery(db *gorm.DB, d Domain) *gorm.DB {
	return db.Model(&users.User{}).
		Where("users.organization_id = ? AND users.role <> ?", d.OrganizationID, users.Owner).
		Where(AtDomain("users.email", d.Name)).
		Where(`NOT EXISTS (SELECT 1 FROM domains other WHERE other.organization_id = users.organization_id
			AND other.status = ? AND other.id <> ? AND `+EmailAt("users.email", "other.name", "other.unicode_name")+`)`,
			Verified, d.ID)
}

func usersAtRisk(db *gorm.DB, d Domain) (int64, error) {
	var n int64
	if err := atRiskQuery(db, d).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("domains: unable to count the users at %s: %w", d.Name, err)
	}
	return n, nil
}

// UsersAtRisk counts the managed users whom the domain's expiry would
// remove if it ran now: 0 unless it is in re-validation.
func (s *Service) UsersAtRisk(ctx context.Context, d Domain) (int64, error) {
	if d.Status != Revalidating {
		return 0, nil
	}
	return usersAtRisk(s.DB.WithContext(ctx), d)
}

func (s *Service) atRiskLink(d Domain) string {
	return paths.Absolute(s.BaseURL, paths.AtRisk(d.ID))
}

// AtRiskUser is a managed user whom the expiry of a domain would remove,
// with the accounts they own in the organization: the removal hands those
// to its Owner.
type AtRiskUser struct {
	users.User
	Accounts []users.Account
}

// AtRisk returns one page of the managed users whom the domain's expiry
// would remove if it ran now, by email, with their accounts; the total is
// counted by the expiry's own query. A domain that is not in re-validation
// has no expiry ahead: nobody is at risk.
func (s *Service) AtRisk(ctx context.Context, d Domain, page int) (paging.Page[AtRiskUser], error) {
	p := paging.Page[AtRiskUser]{Number: max(page, 1)}
	if d.Status != Revalidating {
		return p, nil
	}
	db := s.DB.WithContext(ctx)
	var err error
	if p.Total, err = usersAtRisk(db, d); err != nil {
		return p, err
	}
	p.Items, err = atRiskUsers(db, d, atRiskQuery(db, d).Offset(paging.Offset(page)).Limit(paging.Size))
	return p, err
}

// atRiskUsers reads the users q selects, by email, with their accounts.
func atRiskUsers(db *gorm.DB, d Domain, q *gorm.DB) ([]AtRiskUser, error) {
	var found []users.User
	if err := q.Select("users.*").Order("users.email").Find(&found).Error; err != nil {
		return nil, fmt.Errorf("domains: unable to list the users at %s: %w", d.Name, err)
	}
	if len(found) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(found))
	for i, u := range found {
		ids[i] = u.ID
	}
	accounts, err := users.AccountsOf(db, d.OrganizationID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]AtRiskUser, len(found))
	for i, u := range found {
		out[i] = AtRiskUser{User: u, Accounts: accounts[u.ID]}
	}
	return out, nil
}

// AtRiskHeader is the first line of the CSV of the users at risk.
var AtRiskHeader = []string{"user_id", "email", "name", "role", "status", "accounts", "account_ids", "account_names"}

// atRiskBatch is how many users the CSV reads from the database at a
// time: it is streamed, so memory stays flat whatever the number.
var atRiskBatch = 1000

// WriteAtRiskCSV writes the users AtRisk lists, all of them, to w: one
// row per user, by email, every cell defused (csvsafe). account_ids are
// separated by spaces, as in a report's CSV, and account_names, which may
// hold spaces and commas, one a line, in the same order.
func (s *Service) WriteAtRiskCSV(ctx context.Context, w io.Writer, d Domain) error {
	cw := csvsafe.NewWriter(w)
	if err := cw.Write(AtRiskHeader); err != nil {
		return err
	}
	db := s.DB.WithContext(ctx)
	for after := ""; d.Status == Revalidating; {
		batch, err := atRiskUsers(db, d, atRiskQuery(db, d).Where("users.email > ?", after).Limit(atRiskBatch))
		if err != nil {
			return err
		}
		for _, u := range batch {
			if err := cw.Write(atRiskRecord(u)); err != nil {
				return err
			}
		}
		if err := cw.Flush(); err != nil || len(batch) < atRiskBatch {
			return err
		}
		after = batch[len(batch)-1].Email
	}
	return cw.Flush()
}

// atRiskRecord is a user at risk as the CSV writes them, before csvsafe
// defuses the cells.
func atRiskRecord(u AtRiskUser) []string {
	ids, names := make([]string, len(u.Accounts)), make([]string, len(u.Accounts))
	for i, a := range u.Accounts {
		ids[i], names[i] = a.ID, a.Name
	}
	return []string{
		strconv.FormatInt(u.ID, 10), u.Email, u.Name, u.Role.Label(), u.Status(),
		strconv.Itoa(len(u.Accounts)), strings.Join(ids, " "), strings.Join(names, "\n"),
	}
}
