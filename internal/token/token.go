// Package token makes the secrets of one-time links: the raw value goes
// into the emailed link, only its hash into the database.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// New returns a fresh random token (128 bits) and its hash.
func New() (raw, hash string) {
	raw = rand.Text()
	return raw, Hash(raw)
}

// Hash returns the stored form of a token.
func Hash(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}
