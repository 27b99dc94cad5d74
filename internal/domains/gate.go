package domains

import (
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"admincenter/internal/apperr"
	"admincenter/internal/text"
	"admincenter/internal/users"
)

// AllowsEmail says whether the organization may add users with this email
// address: only at a domain it has verified (not pending, not in
// re-validation) or a subdomain of one, and never at a common email
// provider. The refusal is an Invalid error on the field "email" that
// names the reason.
func AllowsEmail(db *gorm.DB, providers *Blocklist, orgID int64, email string) error {
	if provider := providers.MatchEmail(email); provider != "" {
		return apperr.Field("email", provider+" is a common email provider. Add people by their address at one of your organization's verified domains.")
	}
	typed, names := users.DomainOf(email), EmailDomains(email)
	var found []Domain
	err := db.Where("organization_id = ? AND name IN ?", orgID, names).Order("LENGTH(name) DESC").Find(&found).Error
	if err != nil {
		return fmt.Errorf("domains: unable to read %s: %w", names[0], err)
	}
	if len(found) == 0 {
		return apperr.Field("email", fmt.Sprintf("%s is not one of your organization's domains. Add and verify it in Domains before adding people with %s addresses.", typed, typed))
	}
	for _, d := range found {
		if d.Status == Verified {
			return nil
		}
	}
	for _, d := range found {
		if d.Status == Revalidating {
			msg := fmt.Sprintf("%s needs re-validation: until it is verified again, nobody with %s %s address can be added.", d.UnicodeName, text.Article(d.UnicodeName), d.UnicodeName)
			if d.DeadlineAt != nil {
				msg += " If it is not verified by " + text.Time(*d.DeadlineAt) + ", it will be deleted from the organization."
			}
			return apperr.Field("email", msg)
		}
	}
	d := found[0]
	return apperr.Field("email", fmt.Sprintf("%s is not verified yet (%s). Verify it in Domains before adding people with %s addresses.", d.UnicodeName, d.Status.Label(), d.UnicodeName))
}

// EmailDomains lists the domain names an email address is at, as domains
// are stored (A-labels; an address may use U-labels): its own domain and
// those it is under, most specific first.
func EmailDomains(email string) []string {
	name := users.DomainOf(email)
	if ascii, err := profile.ToASCII(name); err == nil {
		name = strings.ToLower(ascii)
	}
	return selfAndParents(name)
}

// EmailAt is the SQL form of EmailDomains: the condition "the address in
// the column email is at the domain, or under it", for a domain given by
// two SQL expressions, its A-label and its U-label (bound values "?", or
// columns): an address may spell an internationalized domain either way.
// Addresses and names are stored in lowercase, and names hold no LIKE
// wildcard (domain names are letters, digits, hyphens and dots).
func EmailAt(email, ascii, unicode string) string {
	return fmt.Sprintf("(%[1]s LIKE '%%@' || %[2]s OR %[1]s LIKE '%%.' || %[2]s OR %[1]s LIKE '%%@' || %[3]s OR %[1]s LIKE '%%.' || %[3]s)",
		email, ascii, unicode)
}

// AtDomain is EmailAt for a domain given by its stored name (an A-label),
// as a condition for Where.
func AtDomain(email, name string) clause.Expr {
	u := UnicodeOf(name)
	return clause.Expr{SQL: EmailAt(email, "?", "?"), Vars: []any{name, name, u, u}}
}

// UnicodeOf returns the U-label form of a stored domain name.
func UnicodeOf(ascii string) string {
	if u, err := profile.ToUnicode(ascii); err == nil {
		return u
	}
	return ascii
}

// selfAndParents lists a name and the names it is under, down to two
// labels: eu.mail.acme.com, mail.acme.com, acme.com.
func selfAndParents(name string) []string {
	out := []string{name}
	for strings.Count(name, ".") > 1 {
		name = name[strings.IndexByte(name, '.')+1:]
		out = append(out, name)
	}
	return out
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
