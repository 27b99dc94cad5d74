// Package testpeople puts people, their accounts and their organizations
// in a test's database, in one way for every package's tests: the real
// services where one exists (an organization is created by orgs), plain
// rows where a test needs a state that only time or an operator makes.
package testpeople

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/orgs"
	"admincenter/internal/users"
)

// Maker makes people in DB, at the time Now gives.
type Maker struct {
	DB  *gorm.DB
	Now func() time.Time
}

// Person inserts a user named after their address, with n accounts, their
// email verified or not.
func (m Maker) Person(t testing.TB, email string, verified bool, accounts int) users.User {
	t.Helper()
	now := m.Now()
	u := users.User{Email: email, Name: strings.Split(email, "@")[0], PasswordHash: "x", SessionsValidAfter: now, CreatedAt: now}
	if verified {
		u.EmailVerifiedAt = &now
	}
	if err := m.DB.Create(&u).Error; err != nil {
		t.Fatal(err)
	}
	for i := range accounts {
		a := users.Account{ID: users.NewAccountID(), Name: fmt.Sprint("project ", i), OwnerID: u.ID, CreatedAt: now}
		if err := m.DB.Create(&a).Error; err != nil {
			t.Fatal(err)
		}
	}
	return u
}

// Org creates an organization whose Owner is a new person at ownerEmail.
func (m Maker) Org(t testing.TB, name, ownerEmail string) (orgs.Organization, users.User) {
	t.Helper()
	owner := m.Person(t, ownerEmail, true, 0)
	org, err := (&orgs.Service{DB: m.DB, Now: m.Now}).Create(context.Background(), owner.ID, name)
	if err != nil {
		t.Fatal(err)
	}
	return org, m.Reload(t, owner)
}

// Member puts an existing person and their accounts into an organization.
func (m Maker) Member(t testing.TB, u users.User, orgID int64, role users.Role) users.User {
	t.Helper()
	if err := orgs.Join(m.DB, u.ID, orgID, role, m.Now()); err != nil {
		t.Fatal(err)
	}
	return m.Reload(t, u)
}

// Reload reads a person again.
func (m Maker) Reload(t testing.TB, u users.User) users.User {
	t.Helper()
	var got users.User
	if err := m.DB.Take(&got, u.ID).Error; err != nil {
		t.Fatal(err)
	}
	return got
}
