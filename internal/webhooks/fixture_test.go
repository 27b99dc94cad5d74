package webhooks_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"admincenter/internal/app"
	"admincenter/internal/clock"
	"admincenter/internal/config"
	"admincenter/internal/orgs"
	"admincenter/internal/testdb"
	"admincenter/internal/testnet"
	"admincenter/internal/testpeople"
	"admincenter/internal/users"
	"admincenter/internal/webhooks"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// fixture is the whole product on a database with a fake clock, as
// app.New builds it, the Internet of a test (a DNS server, a website for
// the domain checks, a receiver of webhooks, all on loopback and behind
// a test CA), and Acme Corp with its Owner.
type fixture struct {
	testpeople.Maker
	t     *testing.T
	db    *gorm.DB
	clk   *clock.Fake
	svc   *app.Services
	hooks *webhooks.Service
	dns   *testnet.DNS
	site  *testnet.Site // serves the domains' verification files: none
	recv  *receiver
	ctx   context.Context
	acme  orgs.Organization
	owner users.User
}

func newFixture(t *testing.T, db *gorm.DB, env ...string) *fixture {
	t.Helper()
	f := &fixture{t: t, db: db, clk: clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)), ctx: context.Background()}
	f.Maker = testpeople.Maker{DB: db, Now: f.clk.Now}
	ca := testnet.NewCA(t, "Webhooks test CA")
	f.dns = testnet.StartDNS(t, "hooks.test. 300 IN A 127.0.0.1", "acme.test. 300 IN A 127.0.0.1")
	f.site = testnet.StartSite(t, ca.Issue(t, "acme.test"), http.NotFound)
	f.recv = startReceiver(t, ca, f.clk)
	vars := map[string]string{
		"ADMINCENTER_BASE_URL":             "https://admin.example.test",
		"ADMINCENTER_DNS_SERVERS":          f.dns.Addr,
		"ADMINCENTER_VERIFY_HTTPS_PORT":    f.site.PortString(),
		"ADMINCENTER_VERIFY_ALLOW_PRIVATE": "true",
		"SSL_CERT_FILE":                    ca.WriteFile(t),
	}
	for i := 0; i+1 < len(env); i += 2 {
		vars[env[i]] = env[i+1]
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	if f.svc, err = app.New(cfg, db, f.clk.Now, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	f.hooks = f.svc.Webhooks
	f.hooks.Timeout = 2 * time.Second // a receiver that hangs does not hold a test for 10
	f.acme, f.owner = f.Org(t, "Acme Corp", "olivia@acme.test")
	return f
}

// endpoint adds an endpoint at the receiver's path, receiving events,
// and tells the receiver its secret.
func (f *fixture) endpoint(path string, in webhooks.Input) webhooks.Endpoint {
	f.t.Helper()
	in.URL = f.recv.url(path)
	ep, secret, err := f.hooks.Create(f.ctx, f.owner.ID, in)
	if err != nil {
		f.t.Fatalf("Create(%+v): %v", in, err)
	}
	f.recv.setSecret(path, secret)
	return ep
}

// deliver runs the sender as the ticker does and returns how many
// deliveries it delivered.
func (f *fixture) deliver() int {
	f.t.Helper()
	n, err := f.hooks.RunDue(f.ctx)
	if err != nil {
		f.t.Fatalf("RunDue: %v", err)
	}
	return n
}

func (f *fixture) count(table, where string, args ...any) int64 {
	f.t.Helper()
	var n int64
	if err := f.db.Table(table).Where(where, args...).Count(&n).Error; err != nil {
		f.t.Fatal(err)
	}
	return n
}

// receiver is a webhook receiver over TLS on loopback. It verifies each
// request's signature with the Standard Webhooks reference library and
// answers as answer says (200 by default).
type receiver struct {
	t    *testing.T
	site *testnet.Site
	clk  *clock.Fake

	mu       sync.Mutex
	secrets  map[string]string // by path
	answer   func(w http.ResponseWriter, r *http.Request)
	received []received
}

// received is one request that reached the receiver.
type received struct {
	Path      string
	ID        string // webhook-id
	Timestamp int64  // webhook-timestamp
	Verified  error  // of the signature
	Body      []byte
	Event     event
}

// event is the envelope of a webhook, with its data left to decode.
type event struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	Timestamp      time.Time       `json:"timestamp"`
	OrganizationID int64           `json:"organization_id"`
	Data           json.RawMessage `json:"data"`
}

func startReceiver(t *testing.T, ca *testnet.CA, clk *clock.Fake) *receiver {
	r := &receiver{t: t, clk: clk, secrets: map[string]string{}}
	r.site = testnet.StartSite(t, ca.Issue(t, "hooks.test"), r.serve)
	return r
}

func (r *receiver) url(path string) string { return "https://hooks.test:" + r.site.PortString() + path }

// setSecret tells the receiver the secret of the endpoint at path.
func (r *receiver) setSecret(path, s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets[path] = s
}

// answerWith makes the receiver answer every request with h.
func (r *receiver) answerWith(h func(w http.ResponseWriter, req *http.Request)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = h
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	secret, answer := r.secrets[req.URL.Path], r.answer
	r.mu.Unlock()
	got := received{Path: req.URL.Path, ID: req.Header.Get("webhook-id"), Body: body}
	got.Timestamp, _ = strconv.ParseInt(req.Header.Get("webhook-timestamp"), 10, 64)
	wh, err := standardwebhooks.NewWebhook(secret)
	if err == nil {
		// The clock of these tests is not the wall clock the library's
		// tolerance is about: the timestamp is compared with it instead.
		err = wh.VerifyIgnoringTimestamp(body, req.Header)
	}
	got.Verified = err
	json.Unmarshal(body, &got.Event)
	r.mu.Lock()
	r.received = append(r.received, got)
	r.mu.Unlock()
	if answer != nil {
		answer(w, req)
	}
}

// take returns what reached the receiver since the last take, each
// checked: signed with the secret, at the fake clock's time, with the
// event's own id in webhook-id.
func (r *receiver) take() []received {
	r.t.Helper()
	r.mu.Lock()
	got := r.received
	r.received = nil
	r.mu.Unlock()
	for _, g := range got {
		if g.Verified != nil {
			r.t.Errorf("%s %s: the signature does not verify: %v", g.Event.Type, g.ID, g.Verified)
		}
		if g.ID != g.Event.ID {
			r.t.Errorf("webhook-id %q, but the event's id is %q", g.ID, g.Event.ID)
		}
		if g.Timestamp > r.clk.Now().Unix() || g.Timestamp < g.Event.Timestamp.Unix() {
			r.t.Errorf("%s: webhook-timestamp %d, not between the event (%s) and now (%s)", g.Event.Type, g.Timestamp, g.Event.Timestamp, r.clk.Now())
		}
	}
	return got
}

func types(list []received) []string {
	out := make([]string, len(list))
	for i, r := range list {
		out[i] = r.Event.Type
	}
	return out
}
