package imports

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"admincenter/internal/paging"
	"admincenter/internal/users"
)

// whyNot is the reason a row of a report is not, or will not be, imported.
const whyNot = `CASE WHEN outcome_reason <> '' THEN outcome_reason
	WHEN reason = 'eligible' AND NOT included THEN 'removed_from_file' ELSE reason END`

// notImported selects the rows of a report that its import did not take,
// or will not take as things stand.
func (s *Service) notImported(ctx context.Context, imp Import) *gorm.DB {
	return s.DB.WithContext(ctx).Model(&Row{}).
		Where("import_id = ? AND outcome <> ? AND NOT (outcome = '' AND reason = ? AND included)", imp.ID, Done, Eligible)
}

// NotImported returns one page of the report's users who were not
// imported, or are not going to be, each with the reason.
func (s *Service) NotImported(ctx context.Context, imp Import, page int) (paging.Page[Row], error) {
	p := paging.Page[Row]{Number: max(page, 1)}
	q := s.notImported(ctx, imp)
	if err := q.Count(&p.Total).Error; err != nil {
		return p, fmt.Errorf("imports: unable to count the users left out of %d: %w", imp.ID, err)
	}
	err := q.Select("*, " + whyNot + " AS outcome_reason").Order("user_id").
		Offset(paging.Offset(page)).Limit(paging.Size).Find(&p.Items).Error
	if err != nil {
		return p, fmt.Errorf("imports: unable to list the users left out of %d: %w", imp.ID, err)
	}
	return p, nil
}

// ReasonCount is how many users of a report one reason left out.
type ReasonCount struct {
	Reason Reason
	Count  int
}

// ReasonCounts counts the report's users left out, by reason.
func (s *Service) ReasonCounts(ctx context.Context, imp Import) ([]ReasonCount, error) {
	var out []ReasonCount
	err := s.notImported(ctx, imp).Select(whyNot + " AS reason, COUNT(*) AS count").
		Group(whyNot).Order("count DESC").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("imports: unable to count reasons of %d: %w", imp.ID, err)
	}
	return out, nil
}

// LeftOutUser is a user of earlier reports whom no import took, with why
// they are not in the organization.
type LeftOutUser struct {
	users.User
	Reason Reason
}

// LeftOut returns one page of the users at the domain who were in one of
// its reports, were never imported, and are not in the organization. Each
// comes with what stands in the way of importing them today or, when
// nothing does, why the last report that held them left them out.
func (s *Service) LeftOut(ctx context.Context, orgID, domainID int64, domainName string, page int) (paging.Page[LeftOutUser], error) {
	p := paging.Page[LeftOutUser]{Number: max(page, 1)}
	q := usersInScope(s.DB.WithContext(ctx).Model(&users.User{}),
		Import{OrganizationID: orgID, DomainID: domainID, DomainName: domainName, Scope: LeftOut})
	if err := q.Count(&p.Total).Error; err != nil {
		return p, fmt.Errorf("imports: unable to count the users left out at %s: %w", domainName, err)
	}
	var found []LeftOutUser
	err := q.Select("users.*, ? AS reason", reasonNow(orgID, domainName)).
		Order("email").Offset(paging.Offset(page)).Limit(paging.Size).Find(&found).Error
	if err != nil {
		return p, fmt.Errorf("imports: unable to list the users left out at %s: %w", domainName, err)
	}
	ids := make([]int64, len(found))
	for i, u := range found {
		ids[i] = u.ID
	}
	var last []struct {
		UserID int64
		Reason Reason
	}
	err = s.DB.WithContext(ctx).Model(&Row{}).Select("import_users.user_id, "+whyNot+" AS reason").
		Joins("JOIN imports ON imports.id = import_users.import_id").
		Where("imports.domain_id = ? AND import_users.user_id IN ? AND import_users.outcome <> ?", domainID, ids, Done).
		Order("import_users.import_id").Scan(&last).Error
	if err != nil {
		return p, fmt.Errorf("imports: unable to read why users were left out at %s: %w", domainName, err)
	}
	why := make(map[int64]Reason, len(last))
	for _, r := range last {
		why[r.UserID] = r.Reason // the newest report last
	}
	for i, u := range found {
		if u.Reason == Eligible {
			if found[i].Reason = why[u.ID]; found[i].Reason == Eligible {
				found[i].Reason = NeverImported
			}
		}
	}
	p.Items = found
	return p, nil
}

// SelectedAccounts counts the accounts that the import of the report would
// move with its users.
func (s *Service) SelectedAccounts(ctx context.Context, imp Import) (int, error) {
	db := s.DB.WithContext(ctx)
	n, err := users.CountAccounts(db, db.Model(&Row{}).Select("user_id").Where("import_id = ? AND reason = ? AND included", imp.ID, Eligible))
	return int(n), err
}
