package domains

import (
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/users"
)

// AllowsEmail says whether the organization may add users with this email
// address: only at a domain it has verified (not pending, not in
// re-validation), and never at a common email provider. The refusal is an
// Invalid error on the field "email" that names the reason.
func AllowsEmail(db *gorm.DB, providers *Blocklist, orgID int64, email string) error {
	if provider := providers.MatchEmail(email); provider != "" {
		return apperr.Field("email", provider+" is a common email provider. Add people by their address at one of your organization's verified domains.")
	}
	typed := users.DomainOf(email)
	name := typed // domains are stored as A-labels; an address may use U-labels
	if ascii, err := profile.ToASCII(typed); err == nil {
		name = strings.ToLower(ascii)
	}
	var d Domain
	err := db.Where("organization_id = ? AND name = ?", orgID, name).Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return apperr.Field("email", fmt.Sprintf("%s is not one of your organization's domains. Add and verify it in Domains before adding people with %s addresses.", typed, typed))
	}
	if err != nil {
		return fmt.Errorf("domains: unable to read %s: %w", name, err)
	}
	switch d.Status {
	case Verified:
		return nil
	case Revalidating:
		return apperr.Field("email", fmt.Sprintf("%s needs re-validation. Until it is verified again, you cannot add people with %s addresses.", d.UnicodeName, d.UnicodeName))
	}
	return apperr.Field("email", fmt.Sprintf("%s is not verified yet (%s). Verify it in Domains before adding people with %s addresses.", d.UnicodeName, d.Status.Label(), d.UnicodeName))
}

// VerifiedNames returns the names of the organization's verified domains.
func VerifiedNames(db *gorm.DB, orgID int64) ([]string, error) {
	var names []string
	err := db.Model(&Domain{}).Where("organization_id = ? AND status = ?", orgID, Verified).Order("name").Pluck("unicode_name", &names).Error
	if err != nil {
		return nil, fmt.Errorf("domains: unable to list verified domains of %d: %w", orgID, err)
	}
	return names, nil
}
