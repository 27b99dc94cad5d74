// Package demo fills an empty database with two organizations and the
// people of acme.test, so that every page has something to show.
package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/audit"
	"admincenter/internal/domains"
	"admincenter/internal/orgs"
	"admincenter/internal/users"
	"admincenter/internal/verify"
)

// Password is every demo user's password.
const Password = "demo-password"

// Logins are the demo credentials worth printing.
var Logins = []struct{ Role, Email string }{
	{"Owner of Acme Corp", "owner@acme.test"},
	{"Administrator of Acme Corp", "admin@acme.test"},
	{"Standard user of Acme Corp", "sam@acme.test"},
	{"Owner of Globex", "owner@globex.test"},
}

var firstNames = []string{"Ava", "Ben", "Chloe", "Daniel", "Emma", "Felix", "Grace", "Hugo", "Isla", "Jack",
	"Kara", "Liam", "Maya", "Noah", "Olive", "Paul", "Quinn", "Ruby", "Sara", "Theo"}
var lastNames = []string{"Adams", "Brooks", "Carter", "Diaz", "Evans", "Fischer", "Garcia"}

// SelfSignedUp is the number of acme.test users who signed up on their own.
const SelfSignedUp = 60

// The notable ones among them, by index.
const (
	globexIndex      = 12 // managed by Globex although their email is at acme.test
	deactivatedIndex = 25
)

func unverified(i int) bool { return i == 5 || i == 17 || i == 33 || i == 48 }

// accountsOf gives most people one account and every seventh two or three.
func accountsOf(i int) int {
	if i%7 == 3 {
		return 2 + i%2
	}
	return 1
}

// Seed adds the demo data unless it is there already. It reports whether
// it added anything. It runs in one transaction: all or nothing.
func Seed(ctx context.Context, db *gorm.DB, now time.Time, passwordCost int) (bool, error) {
	hash, err := users.HashPassword(Password, passwordCost)
	if err != nil {
		return false, err
	}
	added := false
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&users.User{}).Where("email = ?", "owner@acme.test").Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		added = true
		s := seeder{tx: tx, now: now, hash: hash}
		acme := s.org("Acme Corp", now.AddDate(0, -6, 0))
		globex := s.org("Globex", now.AddDate(0, -5, 0))
		owner := s.member(acme, users.Owner, "Olivia Owner", "owner@acme.test", now.AddDate(0, -6, 0), "Acme Production", "Acme Staging")
		s.member(acme, users.Admin, "Adam Admin", "admin@acme.test", now.AddDate(0, -5, -20), "Acme Support Line")
		s.member(acme, users.Standard, "Sam Standard", "sam@acme.test", now.AddDate(0, -5, -10), "Sam's Sandbox")
		s.member(globex, users.Owner, "Gloria Globex", "owner@globex.test", now.AddDate(0, -5, 0), "Globex Main")
		for i := range SelfSignedUp {
			first, last := firstNames[i%len(firstNames)], lastNames[i/len(firstNames)%len(lastNames)]
			if i >= len(firstNames)*len(lastNames) {
				last += fmt.Sprint(i)
			}
			email := fmt.Sprintf("%s.%s@acme.test", strings.ToLower(first), strings.ToLower(last))
			signedUp := now.AddDate(0, 0, -3*(SelfSignedUp-i)-7)
			u := s.user(first+" "+last, email, signedUp, !unverified(i))
			for a := range accountsOf(i) {
				s.account(u, fmt.Sprintf("%s's project %d", first, a+1), signedUp.Add(time.Duration(a)*time.Hour))
			}
			switch i {
			case globexIndex:
				s.join(u, globex, users.Standard, signedUp.AddDate(0, 0, 2))
			case deactivatedIndex:
				s.exec("UPDATE users SET deactivated_at = ? WHERE id = ?", signedUp.AddDate(0, 1, 0), u.ID)
			}
		}
		s.audit(acme, owner, "organization.created", "Acme Corp")
		return s.err
	})
	if err != nil {
		return false, fmt.Errorf("demo: unable to seed: %w", err)
	}
	return added, nil
}

// seeder keeps the first error so that Seed reads like a list.
type seeder struct {
	tx   *gorm.DB
	now  time.Time
	hash string
	err  error
}

func (s *seeder) create(v any) {
	if s.err == nil {
		s.err = s.tx.Create(v).Error
	}
}

func (s *seeder) exec(sql string, args ...any) {
	if s.err == nil {
		s.err = s.tx.Exec(sql, args...).Error
	}
}

func (s *seeder) org(name string, at time.Time) *orgs.Organization {
	o := &orgs.Organization{Name: name, CreatedAt: at}
	s.create(o)
	return o
}

func (s *seeder) user(name, email string, at time.Time, verified bool) *users.User {
	u := &users.User{Name: name, Email: email, PasswordHash: s.hash, SessionsValidAfter: at, CreatedAt: at}
	if verified {
		v := at.Add(10 * time.Minute)
		u.EmailVerifiedAt = &v
	}
	s.create(u)
	return u
}

func (s *seeder) account(owner *users.User, name string, at time.Time) {
	s.create(&users.Account{ID: users.NewAccountID(), Name: name, OwnerID: owner.ID, CreatedAt: at})
}

func (s *seeder) join(u *users.User, org *orgs.Organization, role users.Role, at time.Time) {
	s.exec("UPDATE users SET organization_id = ?, role = ?, joined_at = ? WHERE id = ?", org.ID, string(role), at, u.ID)
	s.exec("UPDATE accounts SET organization_id = ? WHERE owner_id = ?", org.ID, u.ID)
}

func (s *seeder) member(org *orgs.Organization, role users.Role, name, email string, at time.Time, accounts ...string) *users.User {
	u := s.user(name, email, at, true)
	for i, a := range accounts {
		s.account(u, a, at.Add(time.Duration(i+1)*time.Hour))
	}
	s.join(u, org, role, at)
	return u
}

func (s *seeder) audit(org *orgs.Organization, actor *users.User, action, label string) {
	if s.err == nil {
		s.err = audit.Record(s.tx, org.CreatedAt, org.ID, audit.Actor{ID: actor.ID, Email: actor.Email}, action,
			audit.Target{Type: "organization", ID: fmt.Sprint(org.ID), Label: label}, "demo data")
	}
}

// SeedDomain gives Acme Corp acme.test, verified, and switches Bulk User
// Import on for it, unless acme.test is there already, so that the demo
// shows the whole product. No DNS record backs it: its first daily
// re-check, recheck from now, puts it into re-validation.
func SeedDomain(ctx context.Context, db *gorm.DB, now time.Time, recheck time.Duration) (bool, error) {
	added := false
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var acme orgs.Organization
		if err := tx.Where("name = ?", "Acme Corp").Take(&acme).Error; err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&domains.Domain{}).Where("name = ?", "acme.test").Count(&n).Error; err != nil || n > 0 {
			return err
		}
		added = true
		var owner users.User
		if err := tx.Where("email = ?", "owner@acme.test").Take(&owner).Error; err != nil {
			return err
		}
		verifiedAt, next := now.AddDate(0, -1, 0), now.Add(recheck)
		d := domains.Domain{
			OrganizationID: acme.ID, Name: "acme.test", UnicodeName: "acme.test",
			Token: domains.NewToken(), FileName: domains.NewFileName(), Method: verify.DNS, Status: domains.Verified,
			VerifiedAt: &verifiedAt, VerifiedMethod: verify.DNS, LastCheckedAt: &now, NextCheckAt: &next,
			CreatedBy: &owner.ID, CreatedAt: verifiedAt,
		}
		if err := tx.Create(&d).Error; err != nil {
			return err
		}
		// Its history, as the demo tells it: no DNS server was asked.
		for _, at := range []time.Time{verifiedAt, now} {
			c := domains.Check{DomainID: d.ID, CheckedAt: at, Method: verify.DNS, Outcome: verify.Found, Automatic: at.Equal(now),
				Summary: "Found the expected TXT record at _twilio.acme.test (demo data: no DNS server was asked)."}
			if err := tx.Create(&c).Error; err != nil {
				return err
			}
		}
		if err := tx.Model(&acme).Update("bulk_import", true).Error; err != nil {
			return err
		}
		return audit.Record(tx, now, acme.ID, audit.Actor{Email: "demo"}, "domain.verified",
			audit.Target{Type: "domain", ID: fmt.Sprint(d.ID), Label: d.UnicodeName}, "seeded by the demo, with Bulk User Import on")
	})
	if err != nil {
		return false, fmt.Errorf("demo: unable to seed acme.test: %w", err)
	}
	return added, nil
}
