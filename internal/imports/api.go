package imports

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/domains"
	"admincenter/internal/paging"
	"admincenter/internal/text"
	"admincenter/internal/users"
)

// ByID returns the organization's report id, whichever its domain: the API
// names reports by id alone.
func (s *Service) ByID(ctx context.Context, orgID, id int64) (Import, error) {
	var imp Import
	err := s.DB.WithContext(ctx).Where("id = ? AND organization_id = ?", id, orgID).Take(&imp).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return imp, apperr.New(apperr.NotFound, "No such report in this organization.")
	}
	if err != nil {
		return imp, fmt.Errorf("imports: unable to read report %d: %w", id, err)
	}
	return imp, nil
}

// Rows returns one page of a report's users, by user id, with their
// reasons and, once imported, their results.
func (s *Service) Rows(ctx context.Context, imp Import, page, size int) (paging.Page[Row], error) {
	p := paging.Page[Row]{Number: max(page, 1)}
	q := s.DB.WithContext(ctx).Model(&Row{}).Where("import_id = ?", imp.ID)
	if err := q.Count(&p.Total).Error; err != nil {
		return p, fmt.Errorf("imports: unable to count the users of report %d: %w", imp.ID, err)
	}
	if err := q.Order("user_id").Offset((p.Number - 1) * size).Limit(size).Find(&p.Items).Error; err != nil {
		return p, fmt.Errorf("imports: unable to list the users of report %d: %w", imp.ID, err)
	}
	return p, nil
}

// StartExcluding starts the import of a ready report but for the users
// excluded, as an edited file would: in one transaction, so that a refusal
// changes nothing. An id that is not a user of the report is refused by
// name, so that a script's mistake is not silently ignored.
func (s *Service) StartExcluding(ctx context.Context, actorID, domainID, id int64, exclude []int64) (Import, error) {
	if len(exclude) == 0 {
		return s.Start(ctx, actorID, domainID, id)
	}
	exclude = slices.Compact(slices.Sorted(slices.Values(exclude)))
	return s.change(ctx, actorID, domainID, id, func(tx *gorm.DB, actor users.User, d domains.Domain, imp *Import) error {
		if imp.Status != Ready {
			return apperr.New(apperr.Conflict, fmt.Sprintf("This report is %s: only a ready report can be imported.", imp.Status.Label()))
		}
		if err := mustBeVerified(d, "import users"); err != nil {
			return err
		}
		var known []int64
		for chunk := range slices.Chunk(exclude, 1000) {
			var ids []int64
			if err := tx.Model(&Row{}).Where("import_id = ? AND user_id IN ?", imp.ID, chunk).Pluck("user_id", &ids).Error; err != nil {
				return fmt.Errorf("imports: unable to read the users of report %d: %w", imp.ID, err)
			}
			known = append(known, ids...)
		}
		for _, uid := range exclude {
			if !slices.Contains(known, uid) {
				return apperr.Field("exclude_user_ids", fmt.Sprintf("User %d is not in this report: nothing changed.", uid))
			}
		}
		for chunk := range slices.Chunk(exclude, 1000) {
			if err := tx.Model(&Row{}).Where("import_id = ? AND user_id IN ?", imp.ID, chunk).Update("included", false).Error; err != nil {
				return fmt.Errorf("imports: unable to exclude users of report %d: %w", imp.ID, err)
			}
		}
		var selected int64
		if err := tx.Model(&Row{}).Where("import_id = ? AND included AND reason = ?", imp.ID, Eligible).Count(&selected).Error; err != nil {
			return fmt.Errorf("imports: unable to count the users of report %d: %w", imp.ID, err)
		}
		if selected == 0 {
			return apperr.Field("exclude_user_ids", "Excluding these users leaves no eligible user to import: nothing changed.")
		}
		imp.Selected = int(selected)
		if err := s.begin(tx, imp, actor.ID, actor.Email); err != nil {
			return err
		}
		return audit.Record(tx, imp.StartedAt.UTC(), d.OrganizationID, actorOf(actor), "import.started", targetOf(*imp),
			fmt.Sprintf("%s selected, %s excluded", text.Count(imp.Selected, "user"), text.Count(len(exclude), "user")))
	})
}
