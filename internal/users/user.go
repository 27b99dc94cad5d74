// Package users holds the people of the platform: sign-up, email
// verification, sign-in with throttling, password reset, and the accounts
// (projects) each person owns.
package users

import (
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// Role is a person's role in the organization that manages them.
type Role string

const (
	Owner    Role = "owner"
	Admin    Role = "admin"
	Standard Role = "standard"
)

// Roles lists the roles in order of power.
var Roles = []Role{Owner, Admin, Standard}

// Label is the role's name as the product shows it.
func (r Role) Label() string {
	switch r {
	case Owner:
		return "Owner"
	case Admin:
		return "Administrator"
	case Standard:
		return "Standard User"
	}
	return "None"
}

// Value stores the empty role as NULL: an unmanaged user has none.
func (r Role) Value() (driver.Value, error) {
	if r == "" {
		return nil, nil
	}
	return string(r), nil
}

// Scan reads NULL as the empty role.
func (r *Role) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*r = ""
	case string:
		*r = Role(v)
	case []byte:
		*r = Role(v)
	default:
		return fmt.Errorf("users: cannot read role from %T", v)
	}
	return nil
}

// User is a person who signed up. OrganizationID and Role are set while an
// organization manages them.
type User struct {
	ID                 int64
	Email              string
	Name               string
	PasswordHash       string
	EmailVerifiedAt    *time.Time
	DeactivatedAt      *time.Time
	SessionsValidAfter time.Time // sessions started before this are refused
	OrganizationID     *int64
	Role               Role
	JoinedAt           *time.Time
	CreatedAt          time.Time
}

// Managed reports whether an organization manages the user.
func (u User) Managed() bool { return u.OrganizationID != nil }

// OrgID returns the managing organization's id, or 0.
func (u User) OrgID() int64 {
	if u.OrganizationID == nil {
		return 0
	}
	return *u.OrganizationID
}

// CanAdminister reports whether the user may use the Admin Center.
func (u User) CanAdminister() bool {
	return u.Managed() && (u.Role == Owner || u.Role == Admin) && u.Active()
}

// Active reports whether the user may sign in.
func (u User) Active() bool { return u.DeactivatedAt == nil }

// EmailVerified reports whether the user proved they read their email.
func (u User) EmailVerified() bool { return u.EmailVerifiedAt != nil }

// Status is the user's state as the product shows it.
func (u User) Status() string {
	switch {
	case !u.Active():
		return "Deactivated"
	case !u.EmailVerified():
		return "Email not verified"
	}
	return "Active"
}

// EmailDomain returns the part of the email after the @.
func (u User) EmailDomain() string { return DomainOf(u.Email) }

// DomainOf returns the part of an email address after the last @.
func DomainOf(email string) string { return email[strings.LastIndexByte(email, '@')+1:] }

// NormalizeEmail trims and lowercases an email address and checks that it
// is a plain address (no display name) with a dotted domain. The text is
// checked before it is lowercased, which would hide bytes that are not
// UTF-8 behind U+FFFD.
func NormalizeEmail(s string) (string, string) {
	s = strings.TrimSpace(s)
	if msg := CheckText("An email address", s); msg != "" {
		return "", msg
	}
	s = strings.ToLower(s)
	switch {
	case s == "":
		return "", "Enter an email address."
	case len(s) > 254:
		return "", "An email address can be at most 254 characters."
	}
	a, err := mail.ParseAddress(s)
	at := strings.LastIndexByte(s, '@')
	if err != nil || a.Address != s || at < 1 || !strings.Contains(s[at+1:], ".") ||
		strings.HasPrefix(s[at+1:], ".") || strings.HasSuffix(s, ".") {
		return "", "Enter a valid email address, like name@example.com."
	}
	return s, ""
}

// Columns and Fields name a user's columns and where each is read into, in
// the same order, for statements that scan by hand: the signed-in person
// is read on every page. A destination reads NULL as its zero value, so
// that a LEFT JOIN that finds no user reads as the zero User.
const Columns = `users.id, users.email, users.name, users.password_hash, users.email_verified_at, users.deactivated_at,
	users.sessions_valid_after, users.organization_id, users.role, users.joined_at, users.created_at`

func (u *User) Fields() []any {
	return []any{orZero(&u.ID), orZero(&u.Email), orZero(&u.Name), orZero(&u.PasswordHash), &u.EmailVerifiedAt,
		&u.DeactivatedAt, orZero(&u.SessionsValidAfter), &u.OrganizationID, &u.Role, &u.JoinedAt, orZero(&u.CreatedAt)}
}

// orZero scans a column into dst, NULL as T's zero value.
func orZero[T any](dst *T) sql.Scanner { return nullable[T]{dst} }

type nullable[T any] struct{ dst *T }

func (n nullable[T]) Scan(src any) error {
	var v sql.Null[T]
	if err := v.Scan(src); err != nil {
		return err
	}
	*n.dst = v.V
	return nil
}
