// Package webhooks tells the HTTPS endpoints an organization registers of
// every change to its domains and imports. Like email (package mail), an
// event and one delivery per subscribed endpoint are written in the
// transaction of the change; a background sender claims the due
// deliveries with a lease, signs each request per the Standard Webhooks
// specification and retries with a growing, jittered backoff for MaxAge.
// An endpoint that keeps failing for MaxAge is disabled and its
// organization's Owner emailed.
package webhooks

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/pace"
	"admincenter/internal/verify"
)

// Type is an event type an endpoint can subscribe to. Names are stable:
// receivers dispatch on them.
type Type struct {
	Name, Words, Group string
}

// Types lists the event types, grouped as the endpoint form shows them.
var Types = []Type{
	{"domain.added", "A domain was added", "Domains"},
	{"domain.verified", "A domain was verified", "Domains"},
	{"domain.verification_failed", "A domain was not verified in time", "Domains"},
	{"domain.revalidation_required", "A verified domain lost its proof and needs re-validation", "Domains"},
	{"domain.reminder", "A reminder of a re-validation deadline was sent", "Domains"},
	{"domain.restored", "A domain in re-validation was verified again", "Domains"},
	{"domain.deleted", "A domain was deleted", "Domains"},
	{"domain.expired", "A domain was deleted at its re-validation deadline and its users removed", "Domains"},
	{"domain.users_added_back", "Users removed by an expiry were added back", "Domains"},
	{"import.report_ready", "A report of a domain's users is ready", "Bulk User Import"},
	{"import.completed", "An import finished", "Bulk User Import"},
	{"import.failed", "An import stopped before its end", "Bulk User Import"},
	{"user.added_at_signup", "Someone who signed up at a domain was added to the organization", "Users"},
}

// TestType is the type of the event an admin sends to try an endpoint;
// it goes to that endpoint only, whatever it subscribes to.
const TestType = "webhook.test"

func knownType(name string) bool {
	return slices.ContainsFunc(Types, func(t Type) bool { return t.Name == name })
}

// allEvents is Endpoint.Events of an endpoint that wants every type,
// those added later included.
const allEvents = "*"

// Endpoint is an address that receives an organization's events.
type Endpoint struct {
	ID             int64
	OrganizationID int64
	URL            string
	Events         string // "*" for every type, or the chosen types separated by spaces
	// Secret signs each request: "whsec_" and the base64 of 32 random
	// bytes. It is kept as it is: signing needs the key itself (an HMAC
	// cannot be computed from a hash of it), and encrypting it with a
	// key kept in the same database would not keep it from anyone who
	// can read the database, which holds the events it protects anyway.
	// People see it once, when it is made.
	Secret          string
	SecretRotatedAt *time.Time
	Enabled         bool
	DisabledReason  string     // why the sender disabled it; empty when a person did
	FailingSince    *time.Time // first failed attempt of the current run of failures
	CreatedBy       *int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (Endpoint) TableName() string { return "webhook_endpoints" }

// AllEvents reports whether the endpoint wants every type.
func (e Endpoint) AllEvents() bool { return e.Events == allEvents }

// Types returns the types the endpoint chose; nil when it wants all.
func (e Endpoint) Types() []string {
	if e.AllEvents() {
		return nil
	}
	return strings.Fields(e.Events)
}

// Wants reports whether the endpoint subscribes to events of this type.
func (e Endpoint) Wants(typ string) bool {
	return e.AllEvents() || slices.Contains(e.Types(), typ)
}

// Event is one event, as sent: Payload is the body, signed afresh with
// each attempt, the same bytes every time.
type Event struct {
	ID             int64
	PublicID       string // "evt_…": the id in the body and the webhook-id header
	OrganizationID int64
	Type           string
	Payload        string
	CreatedAt      time.Time
}

func (Event) TableName() string { return "webhook_events" }

// Delivery states.
const (
	Pending   = "pending"   // to be sent, or sent again after a failure
	Delivered = "delivered" // the endpoint answered 2xx
	Failed    = "failed"    // given up after MaxAge of failures
)

// Delivery is the sending of one event to one endpoint.
type Delivery struct {
	ID            int64
	EventID       int64
	EndpointID    int64
	Status        string
	Attempts      int
	NextAttemptAt time.Time // while claimed: when the claim's lease ends
	ClaimToken    string    // the claim of the sender delivering it; empty: none
	CreatedAt     time.Time
	DeliveredAt   *time.Time
	FailedAt      *time.Time
}

func (Delivery) TableName() string { return "webhook_deliveries" }

// Attempt is one request of a delivery and how the endpoint answered.
type Attempt struct {
	ID         int64
	DeliveryID int64
	Number     int
	At         time.Time
	DurationMS int64
	HTTPStatus int    // 0: no answer
	Response   string // the start of the body, escaped and cut
	Error      string // why the attempt failed; empty when delivered
}

func (Attempt) TableName() string { return "webhook_attempts" }

// Service keeps the endpoints, writes events and delivers them.
type Service struct {
	DB        *gorm.DB
	Now       func() time.Time
	Checker   *verify.Checker // checks endpoint addresses and connects to them by its policy
	HTTPSPort int             // of the HTTPS-file check, for the domains' file_url
	BaseURL   *url.URL        // links in emails start here
	// MaxAge is how long a delivery is retried, and how long an endpoint
	// may fail without a success before it is disabled; 0: 72 hours.
	MaxAge time.Duration
	// Lease is how long claimed deliveries are left to their sender; 0: 2
	// minutes. It is renewed while a batch is sent.
	Lease       time.Duration
	Timeout     time.Duration // of one request; 0: 10 seconds
	Concurrency int           // requests at once; 0: 4

	clientOnce sync.Once
	client     *http.Client
	wake       pace.Signal
}

func (s *Service) maxAge() time.Duration  { return orDefault(s.MaxAge, 72*time.Hour) }
func (s *Service) lease() time.Duration   { return orDefault(s.Lease, 2*time.Minute) }
func (s *Service) timeout() time.Duration { return orDefault(s.Timeout, 10*time.Second) }

// RetryFor is how long a delivery is retried, and an endpoint may fail,
// before it is given up, and disabled.
func (s *Service) RetryFor() time.Duration { return s.maxAge() }

// RequestTimeout is how long an endpoint has to answer.
func (s *Service) RequestTimeout() time.Duration { return s.timeout() }

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (s *Service) httpClient() *http.Client {
	s.clientOnce.Do(func() { s.client = s.Checker.Client(s.timeout()) })
	return s.client
}

// Wake returns a channel that receives when a delivery was made due here,
// so that the sender need not wait for its next tick.
func (s *Service) Wake() <-chan struct{} { return s.wake.C() }

func (s *Service) kick() { s.wake.Notify() }
