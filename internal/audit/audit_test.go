package audit_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/audit"
	"admincenter/internal/clock"
	"admincenter/internal/database"
	"admincenter/internal/orgs"
	"admincenter/internal/paging"
	"admincenter/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

func newClock() *clock.Fake { return clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)) }

func newOrg(t *testing.T, db *gorm.DB, name string, now time.Time) int64 {
	t.Helper()
	org := orgs.Organization{Name: name, CreatedAt: now}
	if err := db.Create(&org).Error; err != nil {
		t.Fatal(err)
	}
	return org.ID
}

// record writes one entry by a person, one second after the previous, and
// fails the test on error.
func record(t *testing.T, db *gorm.DB, clk *clock.Fake, orgID int64, action string, target audit.Target) {
	t.Helper()
	clk.Advance(time.Second)
	if err := audit.Record(db, clk.Now(), orgID, audit.Actor{ID: 7, Email: "ada@example.com"}, action, target, ""); err != nil {
		t.Fatal(err)
	}
}

func actions(entries []audit.Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Action
	}
	return out
}

func TestRecordStoresEveryField(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		clk := newClock()
		org := newOrg(t, db, "Acme", clk.Now())
		cases := []struct {
			name        string
			actor       audit.Actor
			wantActorID *int64
		}{
			{"person", audit.Actor{ID: 42, Email: "ada@example.com"}, ptr(int64(42))},
			{"system", audit.System, nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				clk.Advance(time.Minute)
				now := clk.Now().Add(123456 * time.Microsecond)
				target := audit.Target{Type: "user", ID: "17", Label: "bob@example.com"}
				if err := audit.Record(db, now, org, c.actor, "member.role_changed", target, "standard → admin"); err != nil {
					t.Fatal(err)
				}
				got, err := (&audit.Log{DB: db}).ForTarget(ctx, org, "user", "17", 1)
				if err != nil || len(got) != 1 {
					t.Fatalf("ForTarget: %v %v", got, err)
				}
				e := got[0]
				if e.OrganizationID == nil || *e.OrganizationID != org {
					t.Errorf("OrganizationID = %v, want %d", e.OrganizationID, org)
				}
				if !equalPtr(e.ActorID, c.wantActorID) {
					t.Errorf("ActorID = %v, want %v", e.ActorID, c.wantActorID)
				}
				want := audit.Entry{
					ID: e.ID, OrganizationID: e.OrganizationID, ActorID: e.ActorID,
					Actor: c.actor.Email, Action: "member.role_changed",
					TargetType: "user", TargetID: "17", Target: "bob@example.com",
					Details: "standard → admin", CreatedAt: e.CreatedAt,
				}
				if e != want {
					t.Errorf("entry = %+v\nwant    %+v", e, want)
				}
				if !e.CreatedAt.Equal(now) {
					t.Errorf("CreatedAt = %v, want %v", e.CreatedAt, now)
				}
			})
		}
	})
}

// An entry without an organization (orgID 0) is stored with none, and so
// is listed for no organization.
func TestRecordWithoutOrganization(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		clk := newClock()
		org := newOrg(t, db, "Acme", clk.Now())
		target := audit.Target{Type: "user", ID: "1", Label: "ada@example.com"}
		if err := audit.Record(db, clk.Now(), 0, audit.System, "user.signed_up", target, ""); err != nil {
			t.Fatal(err)
		}
		var stored audit.Entry
		if err := db.Take(&stored).Error; err != nil {
			t.Fatal(err)
		}
		if stored.OrganizationID != nil || stored.ActorID != nil || stored.Actor != "system" {
			t.Fatalf("stored %+v, want no organization and the system actor", stored)
		}
		for _, id := range []int64{0, org} {
			p, err := (&audit.Log{DB: db}).List(ctx, id, 1)
			if err != nil || p.Total != 0 || len(p.Items) != 0 {
				t.Fatalf("List(%d) = %+v, %v; want empty", id, p, err)
			}
		}
	})
}

// Record uses the caller's transaction: a rolled-back change leaves no
// entry behind.
func TestRecordRollsBackWithItsChange(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		clk := newClock()
		org := newOrg(t, db, "Acme", clk.Now())
		target := audit.Target{Type: "organization", ID: fmt.Sprint(org), Label: "Acme"}
		errAbort := errors.New("abort")
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := audit.Record(tx, clk.Now(), org, audit.System, "organization.renamed", target, ""); err != nil {
				return err
			}
			return errAbort
		})
		if !errors.Is(err, errAbort) {
			t.Fatalf("transaction: %v", err)
		}
		p, err := (&audit.Log{DB: db}).List(ctx, org, 1)
		if err != nil || p.Total != 0 {
			t.Fatalf("after rollback: %+v %v", p, err)
		}
	})
}

func TestRecordFailsForUnknownOrganization(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		target := audit.Target{Type: "user", ID: "1", Label: "ada@example.com"}
		err := audit.Record(db, newClock().Now(), 999, audit.System, "user.removed", target, "")
		if err == nil {
			t.Fatal("an entry for a missing organization was recorded")
		}
	})
}

func TestListPaging(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		clk := newClock()
		org := newOrg(t, db, "Acme", clk.Now())
		const n = 30
		for i := 1; i <= n; i++ {
			record(t, db, clk, org, fmt.Sprintf("action.%02d", i), audit.Target{Type: "user", ID: "1", Label: "x"})
		}
		cases := []struct {
			page, wantNumber int
			first, last      string // actions of the first and last entries
			wantLen          int
		}{
			{1, 1, "action.30", "action.06", paging.Size},
			{2, 2, "action.05", "action.01", 5},
			{3, 3, "", "", 0},
			{0, 1, "action.30", "action.06", paging.Size},
			{-4, 1, "action.30", "action.06", paging.Size},
		}
		for _, c := range cases {
			t.Run(fmt.Sprint("page ", c.page), func(t *testing.T) {
				p, err := (&audit.Log{DB: db}).List(ctx, org, c.page)
				if err != nil {
					t.Fatal(err)
				}
				if p.Total != n || p.Number != c.wantNumber || len(p.Items) != c.wantLen || p.Pages() != 2 {
					t.Fatalf("page %d: Total %d, Number %d, %d items, %d pages; want %d, %d, %d, 2",
						c.page, p.Total, p.Number, len(p.Items), p.Pages(), n, c.wantNumber, c.wantLen)
				}
				if c.wantLen == 0 {
					return
				}
				if got := actions(p.Items); got[0] != c.first || got[len(got)-1] != c.last {
					t.Fatalf("page %d runs from %s to %s, want %s to %s", c.page, got[0], got[len(got)-1], c.first, c.last)
				}
				for i := 1; i < len(p.Items); i++ {
					if p.Items[i].ID >= p.Items[i-1].ID || p.Items[i].CreatedAt.After(p.Items[i-1].CreatedAt) {
						t.Fatalf("not newest first at %d: %v", i, actions(p.Items))
					}
				}
			})
		}

		// The two pages together hold every entry exactly once.
		seen := map[int64]bool{}
		for page := 1; page <= 2; page++ {
			p, _ := (&audit.Log{DB: db}).List(ctx, org, page)
			for _, e := range p.Items {
				if seen[e.ID] {
					t.Fatalf("entry %d on two pages", e.ID)
				}
				seen[e.ID] = true
			}
		}
		if len(seen) != n {
			t.Fatalf("%d distinct entries over both pages, want %d", len(seen), n)
		}
	})
}

func TestListEmpty(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		org := newOrg(t, db, "Acme", newClock().Now())
		p, err := (&audit.Log{DB: db}).List(context.Background(), org, 1)
		if err != nil || p.Total != 0 || len(p.Items) != 0 || p.Number != 1 || p.Pages() != 1 {
			t.Fatalf("List = %+v, %v; want one empty page", p, err)
		}
	})
}

// Entries are interleaved between two organizations; each sees only its own.
func TestListIsolatesOrganizations(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		clk := newClock()
		a := newOrg(t, db, "Acme", clk.Now())
		b := newOrg(t, db, "Globex", clk.Now())
		c := newOrg(t, db, "Initech", clk.Now())
		for i := range 27 {
			record(t, db, clk, a, fmt.Sprint("acme.", i), audit.Target{Type: "user", ID: "1", Label: "x"})
			if i%3 == 0 {
				record(t, db, clk, b, fmt.Sprint("globex.", i), audit.Target{Type: "user", ID: "1", Label: "x"})
			}
		}
		cases := []struct {
			name  string
			org   int64
			total int64
		}{
			{"Acme", a, 27},
			{"Globex", b, 9},
			{"Initech", c, 0},
			{"no such organization", c + 100, 0},
		}
		for _, cs := range cases {
			t.Run(cs.name, func(t *testing.T) {
				var all []audit.Entry
				for page := 1; page <= 2; page++ {
					p, err := (&audit.Log{DB: db}).List(ctx, cs.org, page)
					if err != nil {
						t.Fatal(err)
					}
					if p.Total != cs.total {
						t.Fatalf("Total = %d, want %d", p.Total, cs.total)
					}
					all = append(all, p.Items...)
				}
				if int64(len(all)) != cs.total {
					t.Fatalf("%d entries listed, want %d", len(all), cs.total)
				}
				for _, e := range all {
					if e.OrganizationID == nil || *e.OrganizationID != cs.org {
						t.Fatalf("entry %+v of another organization listed for %d", e, cs.org)
					}
				}
			})
		}
	})
}

func TestForTarget(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		clk := newClock()
		a := newOrg(t, db, "Acme", clk.Now())
		b := newOrg(t, db, "Globex", clk.Now())
		user17 := audit.Target{Type: "user", ID: "17", Label: "bob@example.com"}
		record(t, db, clk, a, "member.added", user17)
		record(t, db, clk, a, "domain.added", audit.Target{Type: "domain", ID: "17", Label: "example.com"})
		record(t, db, clk, a, "member.role_changed", user17)
		record(t, db, clk, a, "member.added", audit.Target{Type: "user", ID: "18", Label: "eve@example.com"})
		record(t, db, clk, b, "member.added", user17) // same target, other organization
		record(t, db, clk, a, "member.removed", user17)

		cases := []struct {
			name    string
			org     int64
			typ, id string
			limit   int
			want    []string
		}{
			{"all about one user, newest first", a, "user", "17", 10, []string{"member.removed", "member.role_changed", "member.added"}},
			{"limited to the newest", a, "user", "17", 2, []string{"member.removed", "member.role_changed"}},
			{"same id, other type", a, "domain", "17", 10, []string{"domain.added"}},
			{"other user", a, "user", "18", 10, []string{"member.added"}},
			{"other organization", b, "user", "17", 10, []string{"member.added"}},
			{"no entries", a, "user", "19", 10, []string{}},
			{"unknown organization", b + 1, "user", "17", 10, []string{}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, err := (&audit.Log{DB: db}).ForTarget(ctx, c.org, c.typ, c.id, c.limit)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(actions(got)) != fmt.Sprint(c.want) {
					t.Fatalf("got %v, want %v", actions(got), c.want)
				}
				for _, e := range got {
					if *e.OrganizationID != c.org || e.TargetType != c.typ || e.TargetID != c.id {
						t.Fatalf("entry %+v does not match the query", e)
					}
				}
			})
		}
	})
}

// The log is append-only: the database itself refuses to change or remove
// an entry, whoever asks.
func TestAppendOnly(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		clk := newClock()
		org := newOrg(t, db, "Acme", clk.Now())
		record(t, db, clk, org, "member.added", audit.Target{Type: "user", ID: "17", Label: "bob@example.com"})
		record(t, db, clk, org, "member.removed", audit.Target{Type: "user", ID: "17", Label: "bob@example.com"})
		before, err := (&audit.Log{DB: db}).List(ctx, org, 1)
		if err != nil {
			t.Fatal(err)
		}
		id := before.Items[0].ID

		cases := []struct {
			name string
			run  func(*gorm.DB) error
		}{
			{"update one", func(db *gorm.DB) error {
				return db.Exec("UPDATE audit_log SET action = 'nothing.happened' WHERE id = ?", id).Error
			}},
			{"update all", func(db *gorm.DB) error {
				return db.Exec("UPDATE audit_log SET actor = 'someone else'").Error
			}},
			{"update through the model", func(db *gorm.DB) error {
				return db.Model(&audit.Entry{}).Where("id = ?", id).Update("details", "edited").Error
			}},
			{"delete one", func(db *gorm.DB) error {
				return db.Exec("DELETE FROM audit_log WHERE id = ?", id).Error
			}},
			{"delete all", func(db *gorm.DB) error {
				return db.Exec("DELETE FROM audit_log").Error
			}},
			{"delete through the model", func(db *gorm.DB) error {
				return db.Where("organization_id = ?", org).Delete(&audit.Entry{}).Error
			}},
			{"truncate", func(db *gorm.DB) error {
				if database.IsSQLite(db) { // SQLite has no TRUNCATE; an unqualified DELETE is its form
					return db.Exec("DELETE FROM audit_log").Error
				}
				return db.Exec("TRUNCATE audit_log").Error
			}},
			{"delete in a transaction", func(db *gorm.DB) error {
				return db.Transaction(func(tx *gorm.DB) error {
					return tx.Exec("DELETE FROM audit_log WHERE organization_id = ?", org).Error
				})
			}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if err := c.run(db); err == nil {
					t.Fatal("the database accepted the change")
				}
				after, err := (&audit.Log{DB: db}).List(ctx, org, 1)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := describe(after.Items), describe(before.Items); got != want || after.Total != before.Total {
					t.Fatalf("log changed:\n%s\nwant\n%s", got, want)
				}
			})
		}

		// Appending still works.
		record(t, db, clk, org, "member.added", audit.Target{Type: "user", ID: "18", Label: "eve@example.com"})
		if p, err := (&audit.Log{DB: db}).List(ctx, org, 1); err != nil || p.Total != 3 {
			t.Fatalf("after append: %+v %v", p, err)
		}
	})
}

// describe prints entries with their pointers followed, for comparing.
func describe(entries []audit.Entry) string {
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "%d org=%v actor=%v/%s %s %s:%s(%s) %q at %s\n", e.ID, deref(e.OrganizationID), deref(e.ActorID),
			e.Actor, e.Action, e.TargetType, e.TargetID, e.Target, e.Details, e.CreatedAt.UTC().Format(time.RFC3339Nano))
	}
	return b.String()
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
