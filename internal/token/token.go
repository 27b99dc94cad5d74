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

// Mask hides a secret that a page repeats (the CSRF token) behind a fresh
// random mask, so that its bytes differ on every page: a compressed page
// then says nothing about the secret, whatever else it reflects (the
// BREACH attack).
func Mask(secret string) string {
	mask := make([]byte, len(secret))
	rand.Read(mask)
	masked := []byte(secret)
	for i := range masked {
		masked[i] ^= mask[i]
	}
	return hex.EncodeToString(mask) + hex.EncodeToString(masked)
}

// Unmask returns the secret behind Mask's result, or "" if it is not one.
func Unmask(s string) string {
	b, err := hex.DecodeString(s)
	if err != nil || len(b)%2 != 0 {
		return ""
	}
	mask, masked := b[:len(b)/2], b[len(b)/2:]
	for i := range masked {
		masked[i] ^= mask[i]
	}
	return string(masked)
}
