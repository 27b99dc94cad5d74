package imports

import (
	"fmt"

	"gorm.io/gorm/clause"

	"admincenter/internal/domains"
	"admincenter/internal/users"
)

// Reason says whether a user can be imported, or why not.
type Reason string

const (
	Eligible         Reason = "eligible"
	AlreadyMember    Reason = "member"
	OwnerElsewhere   Reason = "owner_elsewhere"
	ManagedElsewhere Reason = "managed_elsewhere"
	Deactivated      Reason = "deactivated"
	EmailNotVerified Reason = "email_not_verified"
	AddressChanged   Reason = "address_changed" // the email is no longer at the domain
	RemovedFromFile  Reason = "removed_from_file"
	Stopped          Reason = "stopped"        // the import stopped before the user's turn
	NeverImported    Reason = "never_imported" // in a report whose import was never started
)

// Reasons lists the reasons in the order the product shows them.
var Reasons = []Reason{Eligible, AlreadyMember, OwnerElsewhere, ManagedElsewhere, Deactivated, EmailNotVerified,
	AddressChanged, RemovedFromFile, Stopped, NeverImported}

// Text is the reason as a phrase, as the CSV files write it.
func (r Reason) Text() string {
	switch r {
	case Eligible:
		return "eligible"
	case AlreadyMember:
		return "already a member of this organization"
	case OwnerElsewhere:
		return "owner of another organization"
	case ManagedElsewhere:
		return "managed by another organization"
	case Deactivated:
		return "account deactivated"
	case EmailNotVerified:
		return "email address not verified"
	case AddressChanged:
		return "email address no longer at this domain"
	case RemovedFromFile:
		return "removed from the uploaded file"
	case Stopped:
		return "the import stopped before this user"
	case NeverImported:
		return "the import of the report was never started"
	}
	return string(r)
}

// Label is the reason as a sentence start, as the pages show it.
func (r Reason) Label() string {
	t := r.Text()
	if t == "" {
		return t
	}
	return string(t[0]-'a'+'A') + t[1:]
}

// reasonNow is the SQL that decides whether the user of the row of users
// can be imported into the organization now, or why not: a Reason. The
// report and each batch of the import decide it in the database, in the
// statement that reads the user.
func reasonNow(orgID int64, domain string) clause.Expr {
	at := domains.AtDomain("users.email", domain)
	return clause.Expr{
		SQL: fmt.Sprintf(`CASE WHEN users.organization_id = ? THEN '%s'
			WHEN users.organization_id IS NOT NULL AND users.role = '%s' THEN '%s'
			WHEN users.organization_id IS NOT NULL THEN '%s'
			WHEN users.deactivated_at IS NOT NULL THEN '%s'
			WHEN users.email_verified_at IS NULL THEN '%s'
			WHEN NOT %s THEN '%s'
			ELSE '%s' END`,
			AlreadyMember, users.Owner, OwnerElsewhere, ManagedElsewhere, Deactivated, EmailNotVerified, at.SQL, AddressChanged, Eligible),
		Vars: append([]any{orgID}, at.Vars...),
	}
}
