package domains

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/database"
	"admincenter/internal/mail"
	"admincenter/internal/orgs"
	"admincenter/internal/text"
	"admincenter/internal/users"
)

// Removed returns the latest expiry of this domain's name in its
// organization and the users it removed who are not back yet.
func (s *Service) Removed(ctx context.Context, d Domain) (Expiry, []Removal, error) {
	var exp Expiry
	db := s.DB.WithContext(ctx)
	err := db.Where("organization_id = ? AND domain_name = ? AND finished_at IS NOT NULL", d.OrganizationID, d.Name).
		Order("id DESC").Take(&exp).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return exp, nil, nil
	}
	if err != nil {
		return exp, nil, fmt.Errorf("domains: unable to read the expiries of %s: %w", d.Name, err)
	}
	var removed []Removal
	if err := db.Where("expiry_id = ? AND outcome = 'removed' AND readded_at IS NULL", exp.ID).Order("name, id").Find(&removed).Error; err != nil {
		return exp, nil, fmt.Errorf("domains: unable to read the removals of expiry %d: %w", exp.ID, err)
	}
	return exp, removed, nil
}

// AddBack makes the users removed by the domain's last expiry managed
// users again, with their roles and accounts, once the domain is verified
// again. Each is emailed. People who joined another organization since, or
// whose login was deactivated, are skipped and listed.
func (s *Service) AddBack(ctx context.Context, actorID, domainID int64) (added, skipped []string, err error) {
	var d Domain
	err = database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		_, org, err := orgs.Admin(tx, actorID)
		if err != nil {
			return err
		}
		d, err = get(tx, org.ID, domainID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if d.Status != Verified {
		return nil, nil, apperr.New(apperr.Conflict, d.UnicodeName+" must be verified before its users can be added back.")
	}
	_, removed, err := s.Removed(ctx, d)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range removed {
		ok, why, err := s.addBackOne(ctx, actorID, d, r.ID)
		if err != nil {
			return added, skipped, err
		}
		if ok {
			added = append(added, r.Email)
		} else if why != "" {
			skipped = append(skipped, r.Email+" ("+why+")")
		}
	}
	return added, skipped, nil
}

func (s *Service) addBackOne(ctx context.Context, actorID int64, d Domain, removalID int64) (bool, string, error) {
	var added bool
	var why string
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		added, why = false, ""
		var r Removal
		if err := tx.Take(&r, removalID).Error; err != nil {
			return fmt.Errorf("domains: unable to read removal %d: %w", removalID, err)
		}
		actor, org, err := orgs.Admin(tx, actorID, r.UserID)
		if err != nil {
			return err
		}
		if err := database.ForNoKeyUpdate(tx).Take(&r, removalID).Error; err != nil {
			return fmt.Errorf("domains: unable to read removal %d: %w", removalID, err)
		}
		if r.ReaddedAt != nil {
			return nil // added back meanwhile
		}
		var u users.User
		if err := tx.Take(&u, r.UserID).Error; err != nil { // locked by Admin
			return fmt.Errorf("domains: unable to read user %d: %w", r.UserID, err)
		}
		why = whyNotBack(u, org.ID)
		now := s.Now()
		r.ReaddedAt = &now
		if why != "" {
			r.Detail = "not added back: " + why
			return tx.Save(&r).Error
		}
		role := r.Role
		if role != users.Admin {
			role = users.Standard
		}
		if err := orgs.Join(tx, u.ID, org.ID, role, now); err != nil {
			return err
		}
		if r.Accounts != "" {
			if err := orgs.GiveAccounts(tx, org.ID, strings.Split(r.Accounts, ","), u.ID); err != nil {
				return err
			}
		}
		if err := tx.Save(&r).Error; err != nil {
			return fmt.Errorf("domains: unable to record adding %d back: %w", u.ID, err)
		}
		added = true
		if err := audit.Record(tx, now, org.ID, audit.Actor{ID: actor.ID, Email: actor.Email}, "member.added_back",
			audit.Target{Type: "user", ID: strconv.FormatInt(u.ID, 10), Label: u.Email},
			fmt.Sprintf("as %s, with %s, after %s was verified again", role.Label(), text.Count(accountsIn(r.Accounts), "account"), d.UnicodeName)); err != nil {
			return err
		}
		if err := mail.Enqueue(tx, now, mail.AddedBack(u.Email, u.Name, org.Name, role.Label())); err != nil {
			return err
		}
		back := u
		back.OrganizationID, back.Role, back.JoinedAt = &org.ID, role, &now
		return s.announce(tx, now, Event{Type: "domain.users_added_back", Domain: d, AddedBack: []users.User{back}})
	})
	return added, why, err
}

// whyNotBack says why a removed user cannot be added back to the
// organization, if so.
func whyNotBack(u users.User, orgID int64) string {
	switch {
	case u.OrgID() == orgID:
		return "already a member"
	case u.Managed():
		return "now managed by another organization"
	case !u.Active():
		return "login deactivated"
	}
	return ""
}

func accountsIn(list string) int {
	if list == "" {
		return 0
	}
	return strings.Count(list, ",") + 1
}
