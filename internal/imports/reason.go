package imports

import "admincenter/internal/users"

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

// reasonOf decides whether u can be imported into the organization now.
func reasonOf(u users.User, orgID int64) Reason {
	switch {
	case u.OrgID() == orgID:
		return AlreadyMember
	case u.Managed() && u.Role == users.Owner:
		return OwnerElsewhere
	case u.Managed():
		return ManagedElsewhere
	case !u.Active():
		return Deactivated
	case !u.EmailVerified():
		return EmailNotVerified
	}
	return Eligible
}
