package orgs_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/clock"
	"admincenter/internal/orgs"
	"admincenter/internal/testdb"
	"admincenter/internal/testpeople"
	"admincenter/internal/users"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

type fixture struct {
	testpeople.Maker
	db   *gorm.DB
	clk  *clock.Fake
	orgs *orgs.Service
}

func newFixture(db *gorm.DB) *fixture {
	clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	return &fixture{Maker: testpeople.Maker{DB: db, Now: clk.Now}, db: db, clk: clk, orgs: &orgs.Service{DB: db, Now: clk.Now}}
}

// addMember puts an existing user into an organization with a role.
func (f *fixture) addMember(t *testing.T, u users.User, orgID int64, role users.Role) users.User {
	t.Helper()
	if err := f.db.Model(&u).Updates(map[string]any{"organization_id": orgID, "role": role, "joined_at": f.clk.Now()}).Error; err != nil {
		t.Fatal(err)
	}
	f.db.Model(&users.Account{}).Where("owner_id = ?", u.ID).Update("organization_id", orgID)
	return f.Reload(t, u)
}

func wantCode(t *testing.T, err error, code apperr.Code, fragment string) {
	t.Helper()
	if apperr.CodeOf(err) != code || !strings.Contains(err.Error(), fragment) {
		t.Fatalf("err = %v (%s), want %s containing %q", err, apperr.CodeOf(err), code, fragment)
	}
}

func TestCreate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(db)
		ctx := context.Background()
		owner := f.Person(t, "olivia@acme.test", true, 2)
		unverified := f.Person(t, "una@acme.test", false, 0)

		_, err := f.orgs.Create(ctx, owner.ID, "  ")
		wantCode(t, err, apperr.Invalid, "Enter a name")
		_, err = f.orgs.Create(ctx, owner.ID, strings.Repeat("x", 101))
		wantCode(t, err, apperr.Invalid, "at most 100")
		_, err = f.orgs.Create(ctx, unverified.ID, "Una Inc")
		wantCode(t, err, apperr.Forbidden, "Verify your email")

		org, err := f.orgs.Create(ctx, owner.ID, " Acme Corp ")
		if err != nil {
			t.Fatal(err)
		}
		if org.Name != "Acme Corp" {
			t.Fatalf("name %q", org.Name)
		}
		got := f.Reload(t, owner)
		if got.OrgID() != org.ID || got.Role != users.Owner || got.JoinedAt == nil {
			t.Fatalf("owner after create: %+v", got)
		}
		var inOrg int64
		db.Model(&users.Account{}).Where("organization_id = ?", org.ID).Count(&inOrg)
		if inOrg != 2 {
			t.Fatalf("%d accounts joined the organization, want 2", inOrg)
		}
		_, err = f.orgs.Create(ctx, owner.ID, "Second")
		wantCode(t, err, apperr.Conflict, "already belong")
		var count int64
		db.Model(&orgs.Organization{}).Count(&count)
		if count != 1 {
			t.Fatalf("%d organizations, want 1", count)
		}
		entries, _ := (&audit.Log{DB: db}).List(ctx, org.ID, 1)
		if entries.Total != 1 || entries.Items[0].Action != "organization.created" {
			t.Fatalf("audit: %+v", entries)
		}
	})
}

func TestOneOwnerPerOrganization(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(db)
		owner := f.Person(t, "olivia@acme.test", true, 0)
		org, err := f.orgs.Create(context.Background(), owner.ID, "Acme Corp")
		if err != nil {
			t.Fatal(err)
		}
		other := f.Person(t, "otto@acme.test", true, 0)
		err = db.Model(&other).Updates(map[string]any{"organization_id": org.ID, "role": users.Owner}).Error
		if err == nil {
			t.Fatal("the database accepted a second Owner")
		}
	})
}

func TestMembersListing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(db)
		ctx := context.Background()
		owner := f.Person(t, "zed@acme.test", true, 3)
		org, err := f.orgs.Create(ctx, owner.ID, "Acme Corp")
		if err != nil {
			t.Fatal(err)
		}
		f.addMember(t, f.Person(t, "yann@acme.test", true, 1), org.ID, users.Admin)
		for i := range 30 {
			f.addMember(t, f.Person(t, fmt.Sprintf("user%02d@acme.test", i), true, i%3), org.ID, users.Standard)
		}
		f.Person(t, "outsider@acme.test", true, 0)

		p, err := f.orgs.Members(ctx, org.ID, orgs.MemberFilter{Search: ""}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 32 || len(p.Items) != 25 || p.Pages() != 2 {
			t.Fatalf("page 1: total %d, %d items, %d pages", p.Total, len(p.Items), p.Pages())
		}
		if p.Items[0].Email != "zed@acme.test" || p.Items[0].Accounts != 3 || p.Items[1].Role != users.Admin {
			t.Fatalf("order: %s (%d accounts), then %s", p.Items[0].Email, p.Items[0].Accounts, p.Items[1].Role)
		}
		p2, _ := f.orgs.Members(ctx, org.ID, orgs.MemberFilter{Search: ""}, 2)
		if len(p2.Items) != 7 {
			t.Fatalf("page 2 has %d", len(p2.Items))
		}
		found, _ := f.orgs.Members(ctx, org.ID, orgs.MemberFilter{Search: "USER1"}, 1)
		if found.Total != 10 {
			t.Fatalf("search user1: %d", found.Total)
		}
		none, _ := f.orgs.Members(ctx, org.ID, orgs.MemberFilter{Search: "outsider"}, 1)
		if none.Total != 0 {
			t.Fatal("an unmanaged user is listed")
		}
		literal, _ := f.orgs.Members(ctx, org.ID, orgs.MemberFilter{Search: "%"}, 1)
		if literal.Total != 0 {
			t.Fatalf("%% matched %d users", literal.Total)
		}
	})
}

func TestChangeRole(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(db)
		ctx := context.Background()
		owner := f.Person(t, "olivia@acme.test", true, 0)
		org, _ := f.orgs.Create(ctx, owner.ID, "Acme Corp")
		admin := f.addMember(t, f.Person(t, "adam@acme.test", true, 0), org.ID, users.Admin)
		sam := f.addMember(t, f.Person(t, "sam@acme.test", true, 0), org.ID, users.Standard)
		other := f.Person(t, "gloria@globex.test", true, 0)
		globex, _ := f.orgs.Create(ctx, other.ID, "Globex")
		stranger := f.addMember(t, f.Person(t, "sg@globex.test", true, 0), globex.ID, users.Standard)

		wantCode(t, f.orgs.ChangeRole(ctx, admin.ID, sam.ID, users.Owner), apperr.Invalid, "transfer ownership")
		wantCode(t, f.orgs.ChangeRole(ctx, admin.ID, sam.ID, "root"), apperr.Invalid, "Choose Administrator")
		wantCode(t, f.orgs.ChangeRole(ctx, admin.ID, admin.ID, users.Standard), apperr.Invalid, "your own role")
		wantCode(t, f.orgs.ChangeRole(ctx, admin.ID, owner.ID, users.Standard), apperr.Invalid, "Owner's role")
		wantCode(t, f.orgs.ChangeRole(ctx, admin.ID, sam.ID, users.Standard), apperr.Invalid, "already a Standard User")
		wantCode(t, f.orgs.ChangeRole(ctx, sam.ID, admin.ID, users.Standard), apperr.Forbidden, "Only the Owner and Administrators")
		wantCode(t, f.orgs.ChangeRole(ctx, admin.ID, stranger.ID, users.Admin), apperr.NotFound, "No such user")

		if err := f.orgs.ChangeRole(ctx, admin.ID, sam.ID, users.Admin); err != nil {
			t.Fatal(err)
		}
		if got := f.Reload(t, sam); got.Role != users.Admin {
			t.Fatalf("role %s", got.Role)
		}
		entries, _ := (&audit.Log{DB: db}).ForTarget(ctx, org.ID, "user", fmt.Sprint(sam.ID), 10)
		if len(entries) != 1 || entries[0].Details != "Standard User → Administrator" || entries[0].Actor != "adam@acme.test" {
			t.Fatalf("audit: %+v", entries)
		}
		if got := f.Reload(t, stranger); got.Role != users.Standard {
			t.Fatal("another organization's user changed")
		}
	})
}

func TestRemove(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(db)
		ctx := context.Background()
		owner := f.Person(t, "olivia@acme.test", true, 1)
		org, _ := f.orgs.Create(ctx, owner.ID, "Acme Corp")
		admin := f.addMember(t, f.Person(t, "adam@acme.test", true, 0), org.ID, users.Admin)
		sam := f.addMember(t, f.Person(t, "sam@acme.test", true, 2), org.ID, users.Standard)

		wantCode(t, f.orgs.Remove(ctx, admin.ID, admin.ID), apperr.Conflict, "remove yourself")
		wantCode(t, f.orgs.Remove(ctx, admin.ID, owner.ID), apperr.Conflict, "Owner cannot be removed")
		wantCode(t, f.orgs.Remove(ctx, sam.ID, admin.ID), apperr.Forbidden, "Only the Owner")

		if err := f.orgs.Remove(ctx, admin.ID, sam.ID); err != nil {
			t.Fatal(err)
		}
		got := f.Reload(t, sam)
		if got.Managed() || got.Role != "" || got.JoinedAt != nil {
			t.Fatalf("removed user still managed: %+v", got)
		}
		var accounts []users.Account
		db.Where("organization_id = ?", org.ID).Order("id").Find(&accounts)
		if len(accounts) != 3 {
			t.Fatalf("%d accounts with the organization, want 3", len(accounts))
		}
		for _, a := range accounts {
			if a.OwnerID != owner.ID {
				t.Fatalf("account %s owned by %d, want the Owner %d", a.Name, a.OwnerID, owner.ID)
			}
		}
		wantCode(t, f.orgs.Remove(ctx, admin.ID, sam.ID), apperr.NotFound, "No such user")
		entries, _ := (&audit.Log{DB: db}).ForTarget(ctx, org.ID, "user", fmt.Sprint(sam.ID), 10)
		if len(entries) != 1 || !strings.Contains(entries[0].Details, "2 accounts now owned by olivia@acme.test") {
			t.Fatalf("audit: %+v", entries)
		}
	})
}

func TestTransferOwnership(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(db)
		ctx := context.Background()
		owner := f.Person(t, "olivia@acme.test", true, 0)
		org, _ := f.orgs.Create(ctx, owner.ID, "Acme Corp")
		admin := f.addMember(t, f.Person(t, "adam@acme.test", true, 0), org.ID, users.Admin)
		unverified := f.addMember(t, f.Person(t, "una@acme.test", false, 0), org.ID, users.Standard)

		wantCode(t, f.orgs.TransferOwnership(ctx, admin.ID, admin.ID), apperr.Forbidden, "Only the Owner")
		wantCode(t, f.orgs.TransferOwnership(ctx, owner.ID, owner.ID), apperr.Conflict, "already the Owner")
		wantCode(t, f.orgs.TransferOwnership(ctx, owner.ID, unverified.ID), apperr.Conflict, "verify their email")

		if err := f.orgs.TransferOwnership(ctx, owner.ID, admin.ID); err != nil {
			t.Fatal(err)
		}
		if got := f.Reload(t, admin); got.Role != users.Owner {
			t.Fatalf("new owner role %s", got.Role)
		}
		if got := f.Reload(t, owner); got.Role != users.Admin {
			t.Fatalf("old owner role %s", got.Role)
		}
	})
}

// The operator switches Bulk User Import by an organization's id or exact
// name; an unknown or ambiguous one is refused and nothing changes.
func TestSetFeature(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(db)
		ctx := context.Background()
		acme, err := f.orgs.Create(ctx, f.Person(t, "olivia@acme.test", true, 0).ID, "Acme Corp")
		if err != nil {
			t.Fatal(err)
		}
		for _, email := range []string{"a@twin.test", "b@twin.test"} {
			if _, err := f.orgs.Create(ctx, f.Person(t, email, true, 0).ID, "Twins"); err != nil {
				t.Fatal(err)
			}
		}
		got, err := f.orgs.SetFeature(ctx, "Acme Corp", true)
		if err != nil || got.ID != acme.ID || !got.BulkImport {
			t.Fatalf("SetFeature(Acme Corp) = %+v, %v", got, err)
		}
		if got, err = f.orgs.SetFeature(ctx, fmt.Sprint(acme.ID), false); err != nil || got.BulkImport {
			t.Fatalf("SetFeature(id) = %+v, %v", got, err)
		}
		if _, err := f.orgs.SetFeature(ctx, "No Such Org", true); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("an unknown organization: %v", err)
		}
		if _, err := f.orgs.SetFeature(ctx, "Twins", true); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("two organizations of that name: %v", err)
		}
		var on int64
		db.Model(&orgs.Organization{}).Where("bulk_import").Count(&on)
		entries, _ := (&audit.Log{DB: db}).ForTarget(ctx, acme.ID, "organization", fmt.Sprint(acme.ID), 10)
		if on != 0 || len(entries) < 3 || entries[0].Details != "bulk-import off" || entries[1].Details != "bulk-import on" {
			t.Fatalf("%d organizations on; audit %+v", on, entries)
		}
	})
}
