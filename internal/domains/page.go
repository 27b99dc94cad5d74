package domains

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
)

// pageRows is how many checks and audit entries a domain's page shows.
const pageRows = 50

// Page is what a domain's page shows, read in one go.
type Page struct {
	Domain   Domain
	AddedBy  string        // the email of who added it, "" if unknown
	Checks   []Check       // newest first
	Activity []audit.Entry // newest first
	AtRisk   int64         // in re-validation: the managed users its expiry would remove
	// Added again after an expiry: the users that expiry removed who are
	// not back yet, and when (they can be added back once it is verified).
	Expiry  Expiry
	Removed []Removal
}

// Page reads the organization's domain and everything its page shows.
func (s *Service) Page(ctx context.Context, orgID, id int64) (Page, error) {
	db := s.DB.WithContext(ctx)
	var p Page
	var row struct {
		Domain
		AddedBy *string
	}
	err := db.Model(&Domain{}).Select("domains.*, users.email AS added_by").
		Joins("LEFT JOIN users ON users.id = domains.created_by").
		Where("domains.id = ? AND domains.organization_id = ?", id, orgID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return p, apperr.New(apperr.NotFound, "No such domain in this organization.")
	}
	if err != nil {
		return p, fmt.Errorf("domains: unable to read domain %d: %w", id, err)
	}
	p.Domain = row.Domain
	if row.AddedBy != nil {
		p.AddedBy = *row.AddedBy
	}
	if err := db.Where("domain_id = ?", id).Order("id DESC").Limit(pageRows).Find(&p.Checks).Error; err != nil {
		return p, fmt.Errorf("domains: unable to list the checks of %d: %w", id, err)
	}
	if p.Activity, err = (&audit.Log{DB: s.DB}).ForTarget(ctx, orgID, "domain", fmt.Sprint(id), pageRows); err != nil {
		return p, err
	}
	switch p.Domain.Status {
	case Revalidating:
		p.AtRisk, err = usersAtRisk(db, p.Domain)
	case Verified, Pending, Failed:
		p.Expiry, p.Removed, err = s.Removed(ctx, p.Domain)
	}
	return p, err
}
