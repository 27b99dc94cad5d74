package domains_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/clock"
	"admincenter/internal/domains"
	"admincenter/internal/mail"
	"admincenter/internal/orgs"
	"admincenter/internal/testdb"
	"admincenter/internal/testnet"
	"admincenter/internal/testpeople"
	"admincenter/internal/users"
	"admincenter/internal/verify"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

const (
	recheck           = 24 * time.Hour
	window            = 72 * time.Hour
	grace             = 30 * 24 * time.Hour
	inconclusiveLimit = 72 * time.Hour
)

// baseURL starts the links in emails.
var baseURL = &url.URL{Scheme: "https", Host: "admin.example.test"}

// siteNames resolve to the test website, which has a certificate for
// each; other names do not exist.
var siteNames = []string{"acme.test", "eu.acme.test", "globex.test", "initech.test", "shared.test"}

// fixture is a database, a fake clock, and the Internet of a test: a DNS
// server and a website on loopback, both checked by the real checker.
type fixture struct {
	testpeople.Maker
	db      *gorm.DB
	clk     *clock.Fake
	dns     *testnet.DNS
	site    *testnet.Site
	ca      *testnet.CA
	checker *verify.Checker // the real checker, asking dns
	orgs    *orgs.Service
	svc     *domains.Service
	ctx     context.Context

	mu       sync.Mutex
	files    map[string][]byte // "host/path" → body the website serves
	siteDown bool              // the website answers 503 to everything
}

func newFixture(t *testing.T, db *gorm.DB) *fixture {
	t.Helper()
	f := &fixture{
		db:    db,
		clk:   clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)),
		files: map[string][]byte{},
		ctx:   context.Background(),
	}
	var zone []string
	for _, name := range siteNames {
		zone = append(zone, name+". 300 IN A 127.0.0.1")
	}
	f.Maker = testpeople.Maker{DB: db, Now: f.clk.Now}
	f.dns = testnet.StartDNS(t, zone...)
	f.ca = testnet.NewCA(t, "Test CA")
	f.site = testnet.StartSite(t, f.ca.Issue(t, siteNames...), f.serve)
	f.checker = f.checkerAsking(t, f.dns.Addr, 0)
	f.orgs = &orgs.Service{DB: db, Now: f.clk.Now}
	f.svc = f.service()
	return f
}

// service returns a Service on the fixture's database, clock and checker,
// as one more instance of the product would have.
func (f *fixture) service() *domains.Service {
	return &domains.Service{
		DB: f.db, Now: f.clk.Now, Checker: f.checker, Providers: domains.DefaultBlocklist(), BaseURL: baseURL,
		RecheckInterval: recheck, PropagationWindow: window, GracePeriod: grace, InconclusiveLimit: inconclusiveLimit,
	}
}

// checkerAsking returns a real checker that asks the DNS server at addr
// and fetches files from the test website; dnsTimeout 0 is the default.
func (f *fixture) checkerAsking(t *testing.T, addr string, dnsTimeout time.Duration) *verify.Checker {
	t.Helper()
	c, err := verify.New(verify.Config{
		DNSServers: []string{addr}, HTTPSPort: f.site.Port, AllowPrivate: true, RootCAs: f.ca.Pool, DNSTimeout: dnsTimeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) serve(w http.ResponseWriter, r *http.Request) {
	host, _, _ := net.SplitHostPort(r.Host)
	f.mu.Lock()
	body, ok := f.files[host+r.URL.Path]
	down := f.siteDown
	f.mu.Unlock()
	if down {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Write(body)
}

// publishFile puts the domain's verification file on the website.
func (f *fixture) publishFile(d domains.Domain) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[d.Name+"/"+d.FileName] = d.FileContent()
}

// publishTXT adds the domain's TXT record to the DNS.
func (f *fixture) publishTXT(t *testing.T, d domains.Domain) {
	t.Helper()
	f.dns.Add(t, fmt.Sprintf("%s. 300 IN TXT %q", d.TXTName(), d.Token))
}

func (f *fixture) add(t *testing.T, actor users.User, name string) domains.Domain {
	t.Helper()
	d, err := f.svc.Add(f.ctx, actor.ID, name)
	if err != nil {
		t.Fatalf("Add(%q): %v", name, err)
	}
	return d
}

// verified adds a domain and proves it by DNS.
func (f *fixture) verified(t *testing.T, actor users.User, name string) domains.Domain {
	t.Helper()
	d := f.add(t, actor, name)
	f.publishTXT(t, d)
	d, _, err := f.svc.Verify(f.ctx, actor.ID, d.ID, verify.DNS)
	if err != nil || d.Status != domains.Verified {
		t.Fatalf("Verify(%s) = %s, %v", name, d.Status, err)
	}
	return d
}

func (f *fixture) reload(t *testing.T, id int64) domains.Domain {
	t.Helper()
	var d domains.Domain
	if err := f.db.Take(&d, id).Error; err != nil {
		t.Fatal(err)
	}
	return d
}

func (f *fixture) setStatus(t *testing.T, id int64, status domains.Status) {
	t.Helper()
	if err := f.db.Model(&domains.Domain{}).Where("id = ?", id).Update("status", status).Error; err != nil {
		t.Fatal(err)
	}
}

// checks returns the checks of a domain, oldest first.
func (f *fixture) checks(t *testing.T, id int64) []domains.Check {
	t.Helper()
	var out []domains.Check
	if err := f.db.Where("domain_id = ?", id).Order("id").Find(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

// history returns the audit entries about a domain, oldest first.
func (f *fixture) history(t *testing.T, orgID, domainID int64) []audit.Entry {
	t.Helper()
	entries, err := (&audit.Log{DB: f.db}).ForTarget(f.ctx, orgID, "domain", fmt.Sprint(domainID), 100)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(entries)-1; i < j; i, j = i+1, j-1 {
		entries[i], entries[j] = entries[j], entries[i]
	}
	return entries
}

func (f *fixture) count(t *testing.T, model any, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.db.Model(model).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func actions(entries []audit.Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Action
	}
	return out
}

func wantCode(t *testing.T, err error, code apperr.Code, fragment string) {
	t.Helper()
	if apperr.CodeOf(err) != code || !strings.Contains(err.Error(), fragment) {
		t.Fatalf("err = %v (%s), want %s containing %q", err, apperr.CodeOf(err), code, fragment)
	}
}

// wantField checks an Invalid error about one form field.
func wantField(t *testing.T, err error, field, fragment string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.Invalid || !strings.Contains(e.Fields[field], fragment) {
		t.Fatalf("err = %v, want an Invalid error on %q containing %q", err, field, fragment)
	}
}

func at(t time.Time) *time.Time { return &t }

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// verifiedBy adds a domain and proves it by the method: the TXT record for
// DNS, the file on the website for HTTPS.
func (f *fixture) verifiedBy(t *testing.T, actor users.User, name string, method verify.Method) domains.Domain {
	t.Helper()
	d := f.add(t, actor, name)
	if method == verify.HTTPS {
		f.publishFile(d)
	} else {
		f.publishTXT(t, d)
	}
	d, _, err := f.svc.Verify(f.ctx, actor.ID, d.ID, method)
	if err != nil || d.Status != domains.Verified || d.VerifiedMethod != method {
		t.Fatalf("Verify(%s) by %s = %s by %s, %v", name, method, d.Status, d.VerifiedMethod, err)
	}
	return d
}

// unpublishFile takes the domain's verification file off the website.
func (f *fixture) unpublishFile(d domains.Domain) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.files, d.Name+"/"+d.FileName)
}

// withdrawProof takes both proofs of the domain away: its TXT name no
// longer exists and the website answers 404 for its file.
func (f *fixture) withdrawProof(d domains.Domain) {
	f.dns.Remove(d.TXTName())
	f.unpublishFile(d)
}

// demote withdraws the proof of a verified domain and runs its next daily
// check, which starts its re-validation.
func (f *fixture) demote(t *testing.T, d domains.Domain) domains.Domain {
	t.Helper()
	f.withdrawProof(d)
	f.advanceTo(t, *f.reload(t, d.ID).NextCheckAt)
	f.runDue(t)
	got := f.reload(t, d.ID)
	if got.Status != domains.Revalidating || !sameTime(got.DeadlineAt, at(f.clk.Now().Add(grace))) {
		t.Fatalf("after the proof went missing: %+v", got)
	}
	return got
}

// advanceTo moves the fake clock forward to when.
func (f *fixture) advanceTo(t *testing.T, when time.Time) {
	t.Helper()
	d := when.Sub(f.clk.Now())
	if d < 0 {
		t.Fatalf("the clock cannot go back %s", -d)
	}
	f.clk.Advance(d)
}

// tickUntil runs the due work every step, as the ticker does, from one
// step after now until end (included), calling each after every run.
func (f *fixture) tickUntil(t *testing.T, step time.Duration, end time.Time, each func(now time.Time)) {
	t.Helper()
	for f.clk.Now().Before(end) {
		f.clk.Advance(min(step, end.Sub(f.clk.Now())))
		f.runDue(t)
		if each != nil {
			each(f.clk.Now())
		}
	}
}

// emails returns the emails written with the subject, oldest first.
func (f *fixture) emails(t *testing.T, subject string) []mail.Message {
	t.Helper()
	var out []mail.Message
	if err := f.db.Where("subject = ?", subject).Order("id").Find(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

// recipients returns who was sent an email with the subject, one entry
// per email, sorted.
func (f *fixture) recipients(t *testing.T, subject string) []string {
	t.Helper()
	var out []string
	for _, m := range f.emails(t, subject) {
		out = append(out, m.Recipient)
	}
	slices.Sort(out)
	return out
}

// audited returns the organization's audit entries with the action,
// oldest first.
func (f *fixture) audited(t *testing.T, orgID int64, action string) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	if err := f.db.Where("organization_id = ? AND action = ?", orgID, action).Order("id").Find(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

// deactivate switches off a user's login.
func (f *fixture) deactivate(t *testing.T, u users.User) {
	t.Helper()
	if err := f.db.Model(&u).Update("deactivated_at", f.clk.Now()).Error; err != nil {
		t.Fatal(err)
	}
}

// account gives the user a new account, in their organization if any.
func (f *fixture) account(t *testing.T, owner users.User, name string) users.Account {
	t.Helper()
	owner = f.Reload(t, owner)
	a := users.Account{ID: users.NewAccountID(), Name: name, OwnerID: owner.ID, OrganizationID: owner.OrganizationID, CreatedAt: f.clk.Now()}
	if err := f.db.Create(&a).Error; err != nil {
		t.Fatal(err)
	}
	return a
}

func (f *fixture) reloadAccount(t *testing.T, id string) users.Account {
	t.Helper()
	var a users.Account
	if err := f.db.Take(&a, "id = ?", id).Error; err != nil {
		t.Fatal(err)
	}
	return a
}

// deadlineText is a time as the emails and the refusals write it.
func deadlineText(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") }
