package imports_test

import (
	"context"
	"net/url"
	"os"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/clock"
	"admincenter/internal/domains"
	"admincenter/internal/imports"
	"admincenter/internal/orgs"
	"admincenter/internal/testdb"
	"admincenter/internal/testpeople"
	"admincenter/internal/users"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// fixture is Acme Corp with acme.test verified and Bulk User Import on,
// Globex, and people at acme.test in every state a report tells apart.
type fixture struct {
	testpeople.Maker
	db  *gorm.DB
	clk *clock.Fake
	ctx context.Context
	svc *imports.Service

	acme, globex orgs.Organization
	domain       domains.Domain // acme.test, verified
	owner        users.User     // olivia@acme.test, Acme's Owner
	sam          users.User     // sam@acme.test, already in Acme
	greta        users.User     // greta@acme.test, managed by Globex
	gloria       users.User     // gloria@acme.test, Globex's Owner
	dora         users.User     // dora@acme.test, deactivated
	ursula       users.User     // ursula@acme.test, email not verified
	eve          users.User     // eve@acme.test, eligible, 2 accounts
	emil         users.User     // emil@eu.acme.test, eligible (a subdomain), 1 account
	finn         users.User     // finn@acme.test, eligible, no account
	outsider     users.User     // olaf@notacme.test, not at the domain
}

func newFixture(t *testing.T, db *gorm.DB) *fixture {
	t.Helper()
	f := &fixture{db: db, clk: clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)), ctx: context.Background()}
	f.Maker = testpeople.Maker{DB: db, Now: f.clk.Now}
	base, _ := url.Parse("http://admin.test:8080")
	f.svc = &imports.Service{DB: db, Now: f.clk.Now, BaseURL: base, Lease: time.Minute}

	f.acme, f.owner = f.Org(t, "Acme Corp", "olivia@acme.test")
	f.sam = f.Member(t, f.Person(t, "sam@acme.test", true, 1), f.acme.ID, users.Standard)
	f.globex, f.gloria = f.Org(t, "Globex", "gloria@acme.test")
	f.greta = f.Member(t, f.Person(t, "greta@acme.test", true, 1), f.globex.ID, users.Standard)
	f.dora = f.Person(t, "dora@acme.test", true, 0)
	db.Model(&f.dora).Update("deactivated_at", f.clk.Now())
	f.ursula = f.Person(t, "ursula@acme.test", false, 2)
	f.eve = f.Person(t, "eve@acme.test", true, 2)
	f.emil = f.Person(t, "emil@eu.acme.test", true, 1)
	f.finn = f.Person(t, "finn@acme.test", true, 0)
	f.outsider = f.Person(t, "olaf@notacme.test", true, 1)

	f.feature(t, f.acme.Name, true)
	now := f.clk.Now()
	f.domain = domains.Domain{
		OrganizationID: f.acme.ID, Name: "acme.test", UnicodeName: "acme.test", Token: "twilio-domain-verification=x",
		FileName: "x.html", Method: "dns", Status: domains.Verified, VerifiedAt: &now, VerifiedMethod: "dns", CreatedAt: now,
	}
	if err := db.Create(&f.domain).Error; err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(time.Hour)
	return f
}

func (f *fixture) feature(t *testing.T, org string, on bool) {
	t.Helper()
	if _, err := (&orgs.Service{DB: f.db, Now: f.clk.Now}).SetFeature(f.ctx, org, on); err != nil {
		t.Fatal(err)
	}
}

// report requests a report and lets the worker generate it.
func (f *fixture) report(t *testing.T, scope imports.Scope, withoutReview bool) imports.Import {
	t.Helper()
	imp, err := f.svc.Request(f.ctx, f.owner.ID, f.domain.ID, scope, withoutReview)
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	f.run(t)
	return f.get(t, imp.ID)
}

func (f *fixture) run(t *testing.T) {
	t.Helper()
	if err := f.svc.RunDue(f.ctx); err != nil {
		t.Fatalf("RunDue: %v", err)
	}
}

func (f *fixture) get(t *testing.T, id int64) imports.Import {
	t.Helper()
	imp, err := f.svc.Get(f.ctx, f.acme.ID, f.domain.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return imp
}

// rows returns the report's users by email.
func (f *fixture) rows(t *testing.T, id int64) map[string]imports.Row {
	t.Helper()
	var rows []imports.Row
	if err := f.db.Where("import_id = ?", id).Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]imports.Row{}
	for _, r := range rows {
		out[r.Email] = r
	}
	return out
}

func (f *fixture) count(t *testing.T, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.db.Table(table).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) setStatus(t *testing.T, status domains.Status) {
	t.Helper()
	if err := f.db.Model(&domains.Domain{}).Where("id = ?", f.domain.ID).Update("status", status).Error; err != nil {
		t.Fatal(err)
	}
}
