// Package domains holds the Internet domains of organizations: adding one,
// proving ownership by DNS or by an HTTPS file, the verification history,
// the automatic checks, and deleting one.
package domains

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"time"

	"admincenter/internal/verify"
)

// Limit is the number of domains one organization may have.
const Limit = 100

// Status is where a domain is in its life.
type Status string

const (
	Pending      Status = "pending"      // added, not yet proven
	Verified     Status = "verified"     // proven, and re-checked every RecheckInterval
	Revalidating Status = "revalidating" // the proof went missing; the grace period runs
	Failed       Status = "failed"       // not proven within the propagation window
)

// Label is the status as the product shows it.
func (s Status) Label() string {
	switch s {
	case Pending:
		return "Pending verification"
	case Verified:
		return "Verified"
	case Revalidating:
		return "Re-validation required"
	case Failed:
		return "Verification failed"
	}
	return string(s)
}

// Domain is one domain entry of one organization.
type Domain struct {
	ID             int64
	OrganizationID int64
	Name           string // A-label
	UnicodeName    string // U-label
	Token          string
	FileName       string
	Method         verify.Method // the method the admin chose
	Status         Status
	VerifiedAt     *time.Time
	VerifiedMethod verify.Method // the method that proved it; "" until then
	LastCheckedAt  *time.Time
	NextCheckAt    *time.Time
	WindowEndsAt   *time.Time
	WindowStep     int
	LeaseUntil     *time.Time
	CreatedBy      *int64
	CreatedAt      time.Time
	SignupPolicy   string `gorm:"default:invite"` // what a sign-up at the domain does: "invite" or "auto" (internal/imports)

	// Re-validation: when the proof went missing, the deadline to restore
	// it, and which reminders were written.
	RevalidationStartedAt *time.Time
	DeadlineAt            *time.Time
	InconclusiveSince     *time.Time // start of the current run of checks that could not tell
	WarnedFirstAt         *time.Time
	WarnedLastAt          *time.Time
}

// Target is what the checkers look for.
func (d Domain) Target() verify.Target {
	return verify.Target{Domain: d.Name, Token: d.Token, FileName: d.FileName}
}

// TXTName is the name of the TXT record that proves the domain.
func (d Domain) TXTName() string { return verify.TXTName(d.Name) }

// TokenPrefix starts every verification token.
const TokenPrefix = "twilio-domain-verification="

// NewToken returns a fresh verification token: 128 bits from crypto/rand.
func NewToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return TokenPrefix + hex.EncodeToString(b)
}

// NewFileName returns a fresh name for the HTML file.
func NewFileName() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "twilio-domain-verification-" + hex.EncodeToString(b) + ".html"
}

// FileContent is the HTML file the admin uploads to their website's root.
func (d Domain) FileContent() []byte {
	return fmt.Appendf(nil, `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="twilio-domain-verification" content="%[1]s">
<title>Domain verification for %[2]s</title>
</head>
<body>
<p>%[1]s</p>
<p>This file proves that the owner of %[2]s controls this website. Keep it at
https://%[3]s/%[4]s while the domain belongs to your organization: it is
checked again regularly.</p>
</body>
</html>
`, d.Token, html.EscapeString(d.UnicodeName), d.Name, d.FileName)
}

// Check is one check of a domain, as kept in its history.
type Check struct {
	ID          int64
	DomainID    int64
	CheckedAt   time.Time
	Method      verify.Method
	Outcome     verify.Outcome
	Automatic   bool
	Summary     string
	Diagnostics string // the checker's report, JSON
}

func (Check) TableName() string { return "domain_checks" }
