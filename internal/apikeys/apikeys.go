// Package apikeys holds the organization API keys that authenticate the
// JSON API: created by an Owner or Administrator with a name, a scope and an
// optional expiry, shown once, kept as a hash, revocable at once.
//
// A key acts with the rights of its creator and is refused as soon as the
// creator is no longer an Owner or Administrator of the key's organization
// (removed, demoted, or moved elsewhere): a key must not outlive the trust
// its creator had. The check is made on every request, so it needs no
// hook in the places that remove or demote people.
package apikeys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/database"
	"admincenter/internal/orgs"
	"admincenter/internal/text"
	"admincenter/internal/users"
)

// Scope is what a key may do.
type Scope string

const (
	Read  Scope = "read"  // read only
	Write Scope = "write" // read and write
)

// Label is the scope as the pages name it.
func (s Scope) Label() string {
	if s == Write {
		return "Read and write"
	}
	return "Read"
}

// SecretPrefix starts every key, so that people and secret scanners can
// recognise one.
const SecretPrefix = "ack_"

// secretLength is the length of a secret: the prefix, then 256 random bits
// in base32 (52 characters).
const secretLength = len(SecretPrefix) + 52

// Key is one API key of an organization.
type Key struct {
	ID             int64
	OrganizationID int64
	Name           string
	Scope          Scope
	Prefix         string // the start of the secret, to tell keys apart
	SecretHash     string
	CreatedBy      *int64
	CreatedByEmail string
	CreatedAt      time.Time
	ExpiresAt      *time.Time
	LastUsedAt     *time.Time
	LastUsedIP     string `gorm:"column:last_used_ip"`
	RevokedAt      *time.Time
	RevokedByEmail string
}

func (Key) TableName() string { return "api_keys" }

// Label names the key in the audit log: "API key “deploy” (ack_ab12…)".
func (k Key) Label() string { return fmt.Sprintf("API key “%s” (%s…)", k.Name, k.Prefix) }

// Active reports whether the key may still be used at now.
func (k Key) Active(now time.Time) bool {
	return k.RevokedAt == nil && (k.ExpiresAt == nil || now.Before(*k.ExpiresAt))
}

// Service creates, lists, revokes and checks keys.
type Service struct {
	DB  *gorm.DB
	Now func() time.Time
}

// Expiries are the lifetimes a key can be given; 0 is no expiry.
var Expiries = []time.Duration{0, 30 * 24 * time.Hour, 90 * 24 * time.Hour, 365 * 24 * time.Hour}

// maxName bounds a key's name.
const maxName = 100

// Create makes a key for the actor's organization and returns it with its
// secret, which is never shown again.
func (s *Service) Create(ctx context.Context, actorID int64, name string, scope Scope, lifetime time.Duration) (Key, string, error) {
	name = strings.TrimSpace(name)
	refused := apperr.Fields{}
	switch {
	case name == "":
		refused.Add("name", "Enter a name, so that you can tell this key from others (for example “deploy script”).")
	case utf8.RuneCountInString(name) > maxName:
		refused.Add("name", fmt.Sprintf("A name can have at most %d characters.", maxName))
	default:
		if msg := users.CheckText("A name", name); msg != "" {
			refused.Add("name", msg)
		}
	}
	if scope != Read && scope != Write {
		refused.Add("scope", "Choose what the key may do: read, or read and write.")
	}
	if !validLifetime(lifetime) {
		refused.Add("expiry", "Choose when the key expires from the list.")
	}
	if err := refused.Err(); err != nil {
		return Key{}, "", err
	}
	secret := SecretPrefix + strings.ToLower(rand.Text()+rand.Text())
	now := s.Now().UTC()
	k := Key{Name: name, Scope: scope, Prefix: secret[:len(SecretPrefix)+6], SecretHash: hash(secret), CreatedAt: now}
	if lifetime > 0 {
		at := now.Add(lifetime)
		k.ExpiresAt = &at
	}
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		actor, org, err := orgs.Admin(tx, actorID)
		if err != nil {
			return err
		}
		k.OrganizationID, k.CreatedBy, k.CreatedByEmail = org.ID, &actor.ID, actor.Email
		if err := tx.Create(&k).Error; err != nil {
			return fmt.Errorf("apikeys: unable to create a key: %w", err)
		}
		details := k.Scope.Label() + ", " + expiry(k)
		return audit.Record(tx, now, org.ID, audit.Actor{ID: actor.ID, Email: actor.Email}, "apikey.created", target(k), details)
	})
	return k, secret, err
}

func validLifetime(d time.Duration) bool {
	for _, e := range Expiries {
		if d == e {
			return true
		}
	}
	return false
}

func expiry(k Key) string {
	if k.ExpiresAt == nil {
		return "no expiry"
	}
	return "expires " + text.Time(*k.ExpiresAt)
}

func target(k Key) audit.Target {
	return audit.Target{Type: "api_key", ID: fmt.Sprint(k.ID), Label: k.Label()}
}

// Listed is a key as the list shows it.
type Listed struct {
	Key
	// CreatorAdmin is whether the creator is still an Owner or
	// Administrator of the organization: the key works only then.
	CreatorAdmin bool
}

// List returns the organization's keys, newest first, revoked ones too.
func (s *Service) List(ctx context.Context, orgID int64) ([]Listed, error) {
	var keys []Listed
	err := s.DB.WithContext(ctx).Model(&Key{}).
		Select(`api_keys.*, (users.id IS NOT NULL AND users.organization_id = api_keys.organization_id
			AND users.role IN ? AND users.deactivated_at IS NULL) AS creator_admin`, []users.Role{users.Owner, users.Admin}).
		Joins("LEFT JOIN users ON users.id = api_keys.created_by").
		Where("api_keys.organization_id = ?", orgID).Order("api_keys.id DESC").Find(&keys).Error
	if err != nil {
		return nil, fmt.Errorf("apikeys: unable to list the keys of %d: %w", orgID, err)
	}
	return keys, nil
}

// Revoke stops a key at once.
func (s *Service) Revoke(ctx context.Context, actorID, id int64) (Key, error) {
	var k Key
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		actor, org, err := orgs.Admin(tx, actorID)
		if err != nil {
			return err
		}
		err = database.ForNoKeyUpdate(tx).Where("id = ? AND organization_id = ?", id, org.ID).Take(&k).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return apperr.New(apperr.NotFound, "No such API key in this organization.")
		}
		if err != nil {
			return fmt.Errorf("apikeys: unable to read key %d: %w", id, err)
		}
		if k.RevokedAt != nil {
			return nil // revoked already: nothing changes
		}
		now := s.Now().UTC()
		k.RevokedAt, k.RevokedByEmail = &now, actor.Email
		if err := tx.Model(&k).Select("revoked_at", "revoked_by_email").Updates(&k).Error; err != nil {
			return fmt.Errorf("apikeys: unable to revoke key %d: %w", id, err)
		}
		return audit.Record(tx, now, org.ID, audit.Actor{ID: actor.ID, Email: actor.Email}, "apikey.revoked", target(k), "")
	})
	return k, err
}

// lastUsedEvery is how often a key's last use is written: once a minute is
// enough to read, and spares a write on every request.
const lastUsedEvery = time.Minute

// Authenticate returns the active key whose secret this is, and its
// creator, whose rights the request has. ip is recorded as the last use.
func (s *Service) Authenticate(ctx context.Context, secret, ip string) (Key, users.User, error) {
	var k Key
	var creator users.User
	if !strings.HasPrefix(secret, SecretPrefix) || len(secret) != secretLength {
		return k, creator, apperr.New(apperr.Unauthorized, "This is not an API key of the Admin Center: it starts with "+SecretPrefix+" and has 56 characters.")
	}
	db := s.DB.WithContext(ctx)
	err := db.Where("secret_hash = ?", hash(secret)).Take(&k).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return k, creator, apperr.New(apperr.Unauthorized, "This API key is not known: it may have been mistyped, or deleted with its organization.")
	}
	if err != nil {
		return k, creator, fmt.Errorf("apikeys: unable to read a key: %w", err)
	}
	now := s.Now().UTC()
	switch {
	case k.RevokedAt != nil:
		return k, creator, apperr.New(apperr.Unauthorized, fmt.Sprintf("This API key was revoked on %s by %s.", text.Time(*k.RevokedAt), k.RevokedByEmail))
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return k, creator, apperr.New(apperr.Unauthorized, fmt.Sprintf("This API key expired on %s.", text.Time(*k.ExpiresAt)))
	}
	if k.CreatedBy != nil {
		err = db.Take(&creator, *k.CreatedBy).Error
	}
	if k.CreatedBy == nil || errors.Is(err, gorm.ErrRecordNotFound) || !creator.CanAdminister() || creator.OrgID() != k.OrganizationID {
		return k, creator, apperr.New(apperr.Unauthorized, fmt.Sprintf(
			"This API key no longer works: its creator, %s, is no longer an Owner or Administrator of the organization. Ask an Administrator to create a new key.", k.CreatedByEmail))
	}
	if err != nil {
		return k, creator, fmt.Errorf("apikeys: unable to read the creator of key %d: %w", k.ID, err)
	}
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) >= lastUsedEvery || k.LastUsedIP != ip {
		err := db.Model(&Key{}).Where("id = ?", k.ID).Updates(map[string]any{"last_used_at": now, "last_used_ip": ip}).Error
		if err != nil {
			return k, creator, fmt.Errorf("apikeys: unable to record the use of key %d: %w", k.ID, err)
		}
		k.LastUsedAt, k.LastUsedIP = &now, ip
	}
	return k, creator, nil
}

func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
