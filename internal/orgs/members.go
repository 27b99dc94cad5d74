package orgs

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/database"
	"admincenter/internal/mail"
	"admincenter/internal/paging"
	"admincenter/internal/text"
	"admincenter/internal/users"
)

// Member is a managed user with the number of accounts they own.
type Member struct {
	users.User
	Accounts int64
}

const memberColumns = "users.*, (SELECT COUNT(*) FROM accounts WHERE accounts.owner_id = users.id) AS accounts"

// MemberFilter narrows the list of members.
type MemberFilter struct {
	Search string   // in names and emails
	Among  *gorm.DB // if set, a subquery of the user ids to keep, such as those an import brought in
}

// Members returns one page of an organization's managed users: the Owner
// first, then Administrators, then Standard Users, each by name. A search
// text keeps those whose name or email contains it; a text that no name
// or email may contain is refused, as a problem with the field "search".
func (s *Service) Members(ctx context.Context, orgID int64, filter MemberFilter, page int) (paging.Page[Member], error) {
	p := paging.Page[Member]{Number: max(page, 1)}
	search := strings.TrimSpace(filter.Search)
	if msg := users.CheckText("A search", search); msg != "" {
		return p, apperr.Field("search", msg)
	}
	q := s.DB.WithContext(ctx).Model(&users.User{}).Where("organization_id = ?", orgID)
	if filter.Among != nil {
		q = q.Where("id IN (?)", filter.Among)
	}
	if search != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(search)) + "%"
		q = q.Where(`(LOWER(name) LIKE ? ESCAPE '\' OR email LIKE ? ESCAPE '\')`, like, like)
	}
	if err := q.Count(&p.Total).Error; err != nil {
		return p, fmt.Errorf("orgs: unable to count members of %d: %w", orgID, err)
	}
	err := q.Select(memberColumns).
		Order("CASE role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, LOWER(name), id").
		Offset(paging.Offset(page)).Limit(paging.Size).Scan(&p.Items).Error
	if err != nil {
		return p, fmt.Errorf("orgs: unable to list members of %d: %w", orgID, err)
	}
	return p, nil
}

// Member returns one managed user of the organization. Users of other
// organizations are reported as not found.
func (s *Service) Member(ctx context.Context, orgID, userID int64) (Member, error) {
	var m []Member
	err := s.DB.WithContext(ctx).Model(&users.User{}).Select(memberColumns).
		Where("id = ? AND organization_id = ?", userID, orgID).Scan(&m).Error
	if err != nil {
		return Member{}, fmt.Errorf("orgs: unable to read member %d: %w", userID, err)
	}
	if len(m) == 0 {
		return Member{}, apperr.New(apperr.NotFound, "No such user in this organization.")
	}
	return m[0], nil
}

// Admin re-reads the actor and their organization in tx, locking both, and
// checks that the actor may administer it. The people a change is also
// about are locked with the actor, all in id order, before the
// organization: the lock order of package database. Holding the
// organization's lock serialises changes that must see a stable picture of
// it, such as the count of its domains.
func Admin(tx *gorm.DB, actorID int64, others ...int64) (users.User, Organization, error) {
	var org Organization
	people := slices.Sorted(slices.Values(append([]int64{actorID}, others...)))
	var actor users.User
	for _, id := range slices.Compact(people) {
		u, err := lockUser(tx, id)
		if id == actorID {
			actor = u
		} else if apperr.CodeOf(err) == apperr.NotFound {
			continue // the caller tells the absence of someone else
		}
		if err != nil {
			return actor, org, err
		}
	}
	if !actor.CanAdminister() {
		return actor, org, apperr.New(apperr.Forbidden, "Only the Owner and Administrators can do this.")
	}
	if err := database.ForNoKeyUpdate(tx).Take(&org, actor.OrgID()).Error; err != nil {
		return actor, org, fmt.Errorf("orgs: unable to read organization %d: %w", actor.OrgID(), err)
	}
	return actor, org, nil
}

// change runs f with the actor and the target member, both re-read and
// locked, after checking that the actor may administer the target's
// organization. Users outside the actor's organization are not found.
func (s *Service) change(ctx context.Context, actorID, targetID int64, f func(tx *gorm.DB, actor, target users.User, org Organization) error) error {
	return database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		actor, org, err := Admin(tx, actorID, targetID)
		if apperr.CodeOf(err) == apperr.Forbidden {
			return apperr.New(apperr.Forbidden, "Only the Owner and Administrators can manage users.")
		}
		if err != nil {
			return err
		}
		target, err := lockUser(tx, targetID) // locked already: this only reads it
		if apperr.CodeOf(err) == apperr.NotFound || (err == nil && target.OrgID() != org.ID) {
			return apperr.New(apperr.NotFound, "No such user in this organization.")
		}
		if err != nil {
			return err
		}
		return f(tx, actor, target, org)
	})
}

// ChangeRole makes a member an Administrator or a Standard User.
func (s *Service) ChangeRole(ctx context.Context, actorID, targetID int64, role users.Role) error {
	if role != users.Admin && role != users.Standard {
		return apperr.Field("role", "Choose Administrator or Standard User. To make someone the Owner, transfer ownership.")
	}
	return s.change(ctx, actorID, targetID, func(tx *gorm.DB, actor, target users.User, org Organization) error {
		switch {
		case target.ID == actor.ID:
			return apperr.Field("role", "You cannot change your own role.")
		case target.Role == users.Owner:
			return apperr.Field("role", "The Owner's role cannot be changed. The Owner can transfer ownership instead.")
		case target.Role == role:
			return apperr.Field("role", fmt.Sprintf("%s is already %s.", target.Name, text.Article(role.Label())+" "+role.Label()))
		}
		from := target.Role
		if err := tx.Model(&target).Update("role", role).Error; err != nil {
			return fmt.Errorf("orgs: unable to change the role of %d: %w", target.ID, err)
		}
		now := s.Now()
		if err := audit.Record(tx, now, org.ID, actorOf(actor), "member.role_changed", targetOf(target),
			fmt.Sprintf("%s → %s", from.Label(), role.Label())); err != nil {
			return err
		}
		return mail.Enqueue(tx, now, mail.RoleChanged(target.Email, target.Name, org.Name, role.Label(), actor.Name))
	})
}

// Remove takes a member out of the organization. Their login survives as
// an unmanaged user; the accounts they owned stay with the organization,
// now owned by the Owner.
func (s *Service) Remove(ctx context.Context, actorID, targetID int64) error {
	return s.change(ctx, actorID, targetID, func(tx *gorm.DB, actor, target users.User, org Organization) error {
		switch {
		case target.ID == actor.ID:
			return apperr.New(apperr.Conflict, "You cannot remove yourself from the organization.")
		case target.Role == users.Owner:
			return apperr.New(apperr.Conflict, "The Owner cannot be removed. Transfer ownership to someone else first.")
		}
		now := s.Now()
		removed, err := RemoveMembers(tx, org.ID, []int64{target.ID})
		if err != nil {
			return err
		}
		if err := audit.Record(tx, now, org.ID, actorOf(actor), "member.removed", targetOf(target), removed.Details()); err != nil {
			return err
		}
		return mail.Enqueue(tx, now, mail.RemovedFromOrganization(target.Email, target.Name, org.Name, actor.Name))
	})
}

// TransferOwnership makes a member the Owner; the old Owner becomes an
// Administrator. Only the Owner may do this.
func (s *Service) TransferOwnership(ctx context.Context, actorID, targetID int64) error {
	return s.change(ctx, actorID, targetID, func(tx *gorm.DB, actor, target users.User, org Organization) error {
		switch {
		case actor.Role != users.Owner:
			return apperr.New(apperr.Forbidden, "Only the Owner can transfer ownership.")
		case target.ID == actor.ID:
			return apperr.New(apperr.Conflict, "You are already the Owner.")
		case !target.Active():
			return apperr.New(apperr.Conflict, target.Name+" is deactivated and cannot become the Owner.")
		case !target.EmailVerified():
			return apperr.New(apperr.Conflict, target.Name+" must verify their email address before they can become the Owner.")
		}
		// The old Owner steps down first: one Owner per organization is a
		// unique index.
		if err := tx.Model(&actor).Update("role", users.Admin).Error; err != nil {
			return fmt.Errorf("orgs: unable to step down %d: %w", actor.ID, err)
		}
		if err := tx.Model(&target).Update("role", users.Owner).Error; err != nil {
			return fmt.Errorf("orgs: unable to make %d the Owner: %w", target.ID, err)
		}
		now := s.Now()
		if err := audit.Record(tx, now, org.ID, actorOf(actor), "ownership.transferred", targetOf(target),
			fmt.Sprintf("from %s to %s; %s is now an Administrator", actor.Email, target.Email, actor.Email)); err != nil {
			return err
		}
		return mail.Enqueue(tx, now, mail.OwnershipTransferred(target.Email, target.Name, org.Name, actor.Name))
	})
}
