package invites_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/clock"
	"admincenter/internal/domains"
	"admincenter/internal/invites"
	"admincenter/internal/mail"
	"admincenter/internal/orgs"
	"admincenter/internal/testdb"
	"admincenter/internal/testnet"
	"admincenter/internal/testpeople"
	"admincenter/internal/users"
	"admincenter/internal/verify"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// fixture is Acme Corp, which has verified acme.test and added
// initech.test, and Globex, with people in various states.
type fixture struct {
	testpeople.Maker
	db      *gorm.DB
	clk     *clock.Fake
	ctx     context.Context
	dns     *testnet.DNS
	domains *domains.Service
	svc     *invites.Service

	acme, globex      orgs.Organization
	acmeDomain        domains.Domain // acme.test, verified
	owner, admin, sam users.User     // Acme's Owner, an Administrator, a Standard User
	globexOwner       users.User
	greta             users.User // greta@acme.test, managed by Globex
	dora              users.User // dora@acme.test, deactivated
	ursula            users.User // ursula@acme.test, unmanaged, email not verified, 2 accounts
}

func newFixture(t *testing.T, db *gorm.DB) *fixture {
	t.Helper()
	f := &fixture{db: db, clk: clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)), ctx: context.Background()}
	f.Maker = testpeople.Maker{DB: db, Now: f.clk.Now}
	f.dns = testnet.StartDNS(t)
	checker, err := verify.New(verify.Config{DNSServers: []string{f.dns.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	providers := domains.DefaultBlocklist()
	f.domains = &domains.Service{
		DB: db, Now: f.clk.Now, Checker: checker, Providers: providers,
		RecheckInterval: 24 * time.Hour, PropagationWindow: 72 * time.Hour,
	}
	base, _ := url.Parse("http://admin.test:8080")
	people := &users.Service{DB: db, Now: f.clk.Now, BaseURL: base, PasswordCost: bcrypt.MinCost}
	f.svc = &invites.Service{DB: db, Now: f.clk.Now, BaseURL: base, Providers: providers, Users: people}

	f.acme, f.owner = f.Org(t, "Acme Corp", "olivia@acme.test")
	f.admin = f.Member(t, f.Person(t, "adam@acme.test", true, 0), f.acme.ID, users.Admin)
	f.sam = f.Member(t, f.Person(t, "sam@acme.test", true, 0), f.acme.ID, users.Standard)
	f.globex, f.globexOwner = f.Org(t, "Globex", "gloria@globex.test")
	f.greta = f.Member(t, f.Person(t, "greta@acme.test", true, 1), f.globex.ID, users.Standard)
	f.dora = f.Person(t, "dora@acme.test", true, 0)
	db.Model(&f.dora).Update("deactivated_at", f.clk.Now())
	f.ursula = f.Person(t, "ursula@acme.test", false, 2)

	f.acmeDomain = f.verifiedDomain(t, f.owner, "acme.test")
	if _, err := f.domains.Add(f.ctx, f.owner.ID, "initech.test"); err != nil {
		t.Fatal(err)
	}
	return f
}

// verifiedDomain adds a domain and proves it with a TXT record.
func (f *fixture) verifiedDomain(t *testing.T, actor users.User, name string) domains.Domain {
	t.Helper()
	d, err := f.domains.Add(f.ctx, actor.ID, name)
	if err != nil {
		t.Fatal(err)
	}
	f.dns.Add(t, fmt.Sprintf("%s. 300 IN TXT %q", d.TXTName(), d.Token))
	d, _, err = f.domains.Verify(f.ctx, actor.ID, d.ID, verify.DNS)
	if err != nil || d.Status != domains.Verified {
		t.Fatalf("Verify(%s) = %s, %v", name, d.Status, err)
	}
	return d
}

func (f *fixture) setDomainStatus(t *testing.T, d domains.Domain, status domains.Status) {
	t.Helper()
	if err := f.db.Model(&domains.Domain{}).Where("id = ?", d.ID).Update("status", status).Error; err != nil {
		t.Fatal(err)
	}
}

// invite sends an invitation and returns it with the token of its link.
func (f *fixture) invite(t *testing.T, actor users.User, email string, role users.Role) (invites.Invitation, string) {
	t.Helper()
	inv, err := f.svc.Invite(f.ctx, actor.ID, email, role)
	if err != nil {
		t.Fatalf("Invite(%s): %v", email, err)
	}
	return inv, f.lastLink(t, inv.Email)
}

var linkPattern = regexp.MustCompile(`http://admin\.test:8080/invitations/accept\?token=([A-Za-z0-9%]+)`)

// lastLink returns the token of the newest invitation emailed to addr.
func (f *fixture) lastLink(t *testing.T, addr string) string {
	t.Helper()
	m := f.lastEmail(t, addr)
	match := linkPattern.FindStringSubmatch(m.Body)
	if match == nil {
		t.Fatalf("no invitation link in %q", m.Body)
	}
	raw, err := url.QueryUnescape(match[1])
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func (f *fixture) lastEmail(t *testing.T, addr string) mail.Message {
	t.Helper()
	var m mail.Message
	if err := f.db.Where("recipient = ?", addr).Order("id DESC").Take(&m).Error; err != nil {
		t.Fatalf("no email to %s: %v", addr, err)
	}
	return m
}

func (f *fixture) invitation(t *testing.T, id int64) invites.Invitation {
	t.Helper()
	var inv invites.Invitation
	if err := f.db.Take(&inv, id).Error; err != nil {
		t.Fatal(err)
	}
	return inv
}

// same compares invitations field by field, times by the instant.
func same(a, b invites.Invitation) bool {
	return a.ID == b.ID && a.OrganizationID == b.OrganizationID && a.Email == b.Email && a.Role == b.Role &&
		a.TokenHash == b.TokenHash && a.InvitedBy == b.InvitedBy && a.CreatedAt.Equal(b.CreatedAt) &&
		a.SentAt.Equal(b.SentAt) && a.ExpiresAt.Equal(b.ExpiresAt) && sameTime(a.AcceptedAt, b.AcceptedAt) &&
		sameTime(a.CancelledAt, b.CancelledAt) && (a.AcceptedBy == nil) == (b.AcceptedBy == nil) &&
		(a.AcceptedBy == nil || *a.AcceptedBy == *b.AcceptedBy)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func (f *fixture) count(t *testing.T, model any, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.db.Model(model).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// lastEntry returns the newest audit entry of the organization.
func (f *fixture) lastEntry(t *testing.T, orgID int64) audit.Entry {
	t.Helper()
	var e audit.Entry
	if err := f.db.Where("organization_id = ?", orgID).Order("id DESC").Take(&e).Error; err != nil {
		t.Fatal(err)
	}
	return e
}

// snapshot counts what a refused action must not change.
type snapshot struct{ invitations, open, emails, entries, users, members int64 }

func (f *fixture) snapshot(t *testing.T) snapshot {
	t.Helper()
	return snapshot{
		invitations: f.count(t, &invites.Invitation{}, "1 = 1"),
		open:        f.count(t, &invites.Invitation{}, "accepted_at IS NULL AND cancelled_at IS NULL"),
		emails:      f.count(t, &mail.Message{}, "1 = 1"),
		entries:     f.count(t, &audit.Entry{}, "1 = 1"),
		users:       f.count(t, &users.User{}, "1 = 1"),
		members:     f.count(t, &users.User{}, "organization_id IS NOT NULL"),
	}
}

func (f *fixture) unchanged(t *testing.T, before snapshot, what string) {
	t.Helper()
	if after := f.snapshot(t); after != before {
		t.Fatalf("%s changed things: before %+v, after %+v", what, before, after)
	}
}

func wantCode(t *testing.T, err error, code apperr.Code, fragment string) {
	t.Helper()
	if apperr.CodeOf(err) != code || !strings.Contains(err.Error(), fragment) {
		t.Fatalf("err = %v (%s), want %s containing %q", err, apperr.CodeOf(err), code, fragment)
	}
}

// wantFields checks an Invalid error with exactly these fields, each
// containing its fragment.
func wantFields(t *testing.T, err error, fields map[string]string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.Invalid || len(e.Fields) != len(fields) {
		t.Fatalf("err = %v, want an Invalid error on %v", err, fields)
	}
	for field, fragment := range fields {
		if !strings.Contains(e.Fields[field], fragment) {
			t.Fatalf("err = %v, want %q on %q", err, fragment, field)
		}
	}
}
