// Package apiview is how the API and the webhooks show the product's
// resources: one JSON shape per resource, so that an event carries a
// resource exactly as the API returns it. The OpenAPI document describes
// these types (x-go-type), and the API tests validate every response
// against it.
package apiview

import (
	"time"

	"admincenter/internal/domains"
	"admincenter/internal/imports"
	"admincenter/internal/verify"
)

// Domain is a domain of the organization.
type Domain struct {
	ID                   int64      `json:"id"`
	Name                 string     `json:"name"`         // A-label
	UnicodeName          string     `json:"unicode_name"` // U-label
	Status               string     `json:"status"`       // pending, verified, revalidating, failed
	Method               string     `json:"method"`       // the method chosen: dns or https
	VerifiedMethod       *string    `json:"verified_method"`
	VerifiedAt           *time.Time `json:"verified_at"`
	LastCheckedAt        *time.Time `json:"last_checked_at"`
	NextCheckAt          *time.Time `json:"next_check_at"`
	RevalidationDeadline *time.Time `json:"revalidation_deadline"`
	UsersAtRisk          int64      `json:"users_at_risk"` // removed at the deadline; 0 unless revalidating
	Token                string     `json:"token"`
	TXTRecord            TXTRecord  `json:"txt_record"`
	FileName             string     `json:"file_name"`
	FileURL              string     `json:"file_url"`
	SignupPolicy         string     `json:"signup_policy"` // invite or auto
	CreatedAt            time.Time  `json:"created_at"`
}

// TXTRecord is the DNS record that proves a domain.
type TXTRecord struct {
	Host  string `json:"host"` // relative to the domain: _twilio
	Name  string `json:"name"` // in full
	Type  string `json:"type"`
	Value string `json:"value"`
	TTL   int    `json:"ttl"`
}

// DomainOf shows d; atRisk is the number of users its expiry would remove
// (0 unless it is in re-validation), httpsPort the port of the file check.
func DomainOf(d domains.Domain, atRisk int64, httpsPort int) Domain {
	v := Domain{
		ID: d.ID, Name: d.Name, UnicodeName: d.UnicodeName, Status: string(d.Status), Method: string(d.Method),
		VerifiedAt: utc(d.VerifiedAt), LastCheckedAt: utc(d.LastCheckedAt), NextCheckAt: utc(d.NextCheckAt),
		RevalidationDeadline: utc(d.DeadlineAt), Token: d.Token, FileName: d.FileName,
		FileURL:      verify.FileURL(d.Name, d.FileName, httpsPort),
		TXTRecord:    TXTRecord{Host: "_twilio", Name: d.TXTName(), Type: "TXT", Value: d.Token, TTL: 3600},
		SignupPolicy: d.SignupPolicy, CreatedAt: d.CreatedAt.UTC(),
	}
	if d.VerifiedMethod != "" {
		m := string(d.VerifiedMethod)
		v.VerifiedMethod = &m
	}
	if d.Status == domains.Revalidating {
		v.UsersAtRisk = atRisk
	}
	return v
}

// Import is a Bulk User Import report and, once started, its import.
type Import struct {
	ID            int64      `json:"id"`
	DomainID      int64      `json:"domain_id"`
	Domain        string     `json:"domain"`
	Scope         string     `json:"scope"`  // all, new, left_out
	Status        string     `json:"status"` // generating, ready, importing, completed, failed
	WithoutReview bool       `json:"without_review"`
	CreatedBy     string     `json:"created_by"` // email
	CreatedAt     time.Time  `json:"created_at"`
	Found         int        `json:"found"`
	Eligible      int        `json:"eligible"`
	NotEligible   int        `json:"not_eligible"`
	Selected      int        `json:"selected"` // eligible users the import takes
	Imported      int        `json:"imported"`
	Skipped       int        `json:"skipped"` // selected users no longer eligible when imported
	StartedBy     *string    `json:"started_by"`
	StartedAt     *time.Time `json:"started_at"`
	FinishedAt    *time.Time `json:"finished_at"`
	Error         string     `json:"error,omitempty"`
}

// ImportOf shows i.
func ImportOf(i imports.Import) Import {
	v := Import{
		ID: i.ID, DomainID: i.DomainID, Domain: i.DomainName, Scope: string(i.Scope), Status: string(i.Status),
		WithoutReview: i.WithoutReview, CreatedBy: i.CreatedByEmail, CreatedAt: i.CreatedAt.UTC(),
		Found: i.Found, Eligible: i.Eligible, NotEligible: i.NotEligible(), Selected: i.Selected,
		Imported: i.Imported, Skipped: i.Skipped, StartedAt: utc(i.StartedAt), FinishedAt: utc(i.FinishedAt), Error: i.Error,
	}
	if i.StartedByEmail != "" {
		v.StartedBy = &i.StartedByEmail
	}
	return v
}

// Event is what a webhook receives: a stable id (also in the webhook-id
// header, so that receivers can drop a second delivery), its type, when it
// happened, the organization, and the resource as the API shows it.
type Event struct {
	ID             string    `json:"id"`   // "evt_" and 26 base32 characters
	Type           string    `json:"type"` // e.g. domain.verified
	Timestamp      time.Time `json:"timestamp"`
	OrganizationID int64     `json:"organization_id"`
	Data           any       `json:"data"`
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
