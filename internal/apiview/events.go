package apiview

import (
	"time"

	"admincenter/internal/users"
)

// The data of each webhook event (Event.Data): the resource as the API
// shows it, under its name, and what the event adds to it. A field is
// never removed or renamed; new ones may come.

// DomainEvent is the data of domain.added, domain.verified,
// domain.verification_failed, domain.revalidation_required,
// domain.reminder, domain.restored and domain.deleted.
type DomainEvent struct {
	Domain Domain `json:"domain"` // as the change left it; as it was, once deleted
	// Deadline is when a domain in re-validation is deleted unless it is
	// verified again (domain.revalidation_required, domain.reminder).
	Deadline *time.Time `json:"deadline,omitempty"`
	// Reason is what the last check found (domain.revalidation_required,
	// domain.verification_failed).
	Reason string `json:"reason,omitempty"`
}

// ExpiryEvent is the data of domain.expired: a domain deleted at the end
// of its re-validation deadline, and the managed users it removed.
type ExpiryEvent struct {
	Domain         Domain  `json:"domain"` // as it was deleted
	UsersRemoved   int     `json:"users_removed"`
	RemovedUserIDs []int64 `json:"removed_user_ids"` // never null
}

// AddedBackEvent is the data of domain.users_added_back: users that a
// domain's expiry removed, added back once it is verified again.
type AddedBackEvent struct {
	Domain Domain      `json:"domain"`
	Users  []EventUser `json:"users"`
}

// ImportEvent is the data of import.report_ready, import.completed and
// import.failed (whose reason is Import.Error).
type ImportEvent struct {
	Import Import `json:"import"`
	// NotImported is the number of users of the report the import left
	// out, each with a reason (import.completed).
	NotImported *int `json:"not_imported,omitempty"`
}

// SignupEvent is the data of user.added_at_signup: a person who signed up
// with an address at a verified domain that adds new sign-ups, and that
// domain.
type SignupEvent struct {
	User   EventUser `json:"user"`
	Domain Domain    `json:"domain"`
}

// TestEvent is the data of webhook.test, sent on request to one endpoint.
type TestEvent struct {
	EndpointID int64  `json:"endpoint_id"`
	Message    string `json:"message"`
}

// EventUser is a managed user, with the fields of the API's User.
type EventUser struct {
	ID     int64  `json:"id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
	Role   string `json:"role"` // owner, administrator, standard
	Status string `json:"status"`
}

// EventUserOf shows u.
func EventUserOf(u users.User) EventUser {
	role := string(u.Role)
	if u.Role == users.Admin {
		role = "administrator"
	}
	return EventUser{ID: u.ID, Email: u.Email, Name: u.Name, Role: role, Status: u.Status()}
}
