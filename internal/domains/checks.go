package domains

import (
	"context"
	"fmt"

	"admincenter/internal/paging"
)

// Checks returns one page of the checks of the organization's domain id,
// newest first.
func (s *Service) Checks(ctx context.Context, orgID, id int64, page, size int) (paging.Page[Check], error) {
	p := paging.Page[Check]{Number: max(page, 1)}
	if _, err := s.Get(ctx, orgID, id); err != nil {
		return p, err
	}
	q := s.DB.WithContext(ctx).Model(&Check{}).Where("domain_id = ?", id)
	if err := q.Count(&p.Total).Error; err != nil {
		return p, fmt.Errorf("domains: unable to count the checks of %d: %w", id, err)
	}
	if err := q.Order("id DESC").Offset((p.Number - 1) * size).Limit(size).Find(&p.Items).Error; err != nil {
		return p, fmt.Errorf("domains: unable to list the checks of %d: %w", id, err)
	}
	return p, nil
}
