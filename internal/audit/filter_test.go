package audit_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/audit"
	"admincenter/internal/domains"
	"admincenter/internal/testdb"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// acme is the domain the filter tests look for, as the web passes it.
var acme = audit.Domain{ID: 5, Name: "acme.test", Unicode: "acme.test", At: domains.AtDomain}

// seedLog writes entries about acme.test, its people, another domain and
// another organization, each on its own day, and returns the ids of the
// two organizations.
func seedLog(t *testing.T, db *gorm.DB) (int64, int64) {
	t.Helper()
	a := newOrg(t, db, "Acme", day("2026-01-01"))
	b := newOrg(t, db, "Globex", day("2026-01-01"))
	ada := audit.Actor{ID: 7, Email: "ada@acme.test"}
	entries := []struct {
		org     int64
		at      string
		actor   audit.Actor
		action  string
		target  audit.Target
		details string
	}{
		{a, "2026-03-01T00:00:00Z", ada, "domain.added", audit.Target{Type: "domain", ID: "5", Label: "acme.test"}, "token issued"},
		{a, "2026-03-01T23:59:59.999999Z", audit.System, "domain.verified", audit.Target{Type: "domain", ID: "5", Label: "acme.test"}, "Pending → Verified"},
		{a, "2026-03-02T00:00:00Z", ada, "import.report_requested", audit.Target{Type: "import", ID: "9", Label: "report #9 of acme.test"}, "all users"},
		{a, "2026-03-02T10:00:00Z", ada, "user.imported", audit.Target{Type: "user", ID: "17", Label: "bob@acme.test"}, "Bulk User Import #9 from acme.test"},
		{a, "2026-03-03T10:00:00Z", audit.Actor{ID: 18, Email: "eve@eu.acme.test"}, "user.signed_in", audit.Target{Type: "user", ID: "18", Label: "eve@eu.acme.test"}, "from 10.0.0.1"},
		{a, "2026-03-03T11:00:00Z", ada, "invitation.sent", audit.Target{Type: "invitation", ID: "3", Label: "zed@acme.test"}, "role: Standard"},
		{a, "2026-03-04T10:00:00Z", ada, "member.role_changed", audit.Target{Type: "user", ID: "19", Label: "carl@bacme.test"}, "Standard → Administrator"},
		{a, "2026-03-04T11:00:00Z", audit.Actor{ID: 20, Email: "sam_x@acme.test"}, "domain.added", audit.Target{Type: "domain", ID: "6", Label: "bacme.test"}, "token issued"},
		{a, "2026-03-05T10:00:00Z", audit.System, "import.completed", audit.Target{Type: "import", ID: "10", Label: "report #10 of bacme.test"}, "1 user imported"},
		{a, "2026-03-05T11:00:00Z", ada, "organization.created", audit.Target{Type: "organization", ID: "5", Label: "Acme"}, "Owner: ada@acme.test"},
		{b, "2026-03-02T12:00:00Z", audit.Actor{ID: 30, Email: "ada@acme.test.globex.test"}, "domain.added", audit.Target{Type: "domain", ID: "5", Label: "acme.test"}, "another organization's"},
	}
	for _, e := range entries {
		at, err := time.Parse(time.RFC3339Nano, e.at)
		if err != nil {
			t.Fatal(err)
		}
		if err := audit.Record(db, at, e.org, e.actor, e.action, e.target, e.details); err != nil {
			t.Fatal(err)
		}
	}
	return a, b
}

func TestPageFilters(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		a, b := seedLog(t, db)
		log := &audit.Log{DB: db}
		cases := []struct {
			name   string
			org    int64
			filter audit.Filter
			want   []string // "action target", newest first
		}{
			{"no filter", a, audit.Filter{}, []string{
				"organization.created Acme", "import.completed report #10 of bacme.test", "domain.added bacme.test",
				"member.role_changed carl@bacme.test", "invitation.sent zed@acme.test", "user.signed_in eve@eu.acme.test",
				"user.imported bob@acme.test", "import.report_requested report #9 of acme.test", "domain.verified acme.test",
				"domain.added acme.test"}},
			{"actor contains, any case", a, audit.Filter{Actor: "ADA@"}, []string{
				"organization.created Acme", "member.role_changed carl@bacme.test", "invitation.sent zed@acme.test",
				"user.imported bob@acme.test", "import.report_requested report #9 of acme.test", "domain.added acme.test"}},
			{"actor exactly", a, audit.Filter{Actor: "eve@eu.acme.test"}, []string{"user.signed_in eve@eu.acme.test"}},
			{"the system", a, audit.Filter{Actor: "system"}, []string{"import.completed report #10 of bacme.test", "domain.verified acme.test"}},
			{"an underscore is no wildcard", a, audit.Filter{Actor: "m_x"}, []string{"domain.added bacme.test"}},
			{"a percent sign is no wildcard", a, audit.Filter{Actor: "%"}, []string{}},
			{"action", a, audit.Filter{Action: "domain.added"}, []string{"domain.added bacme.test", "domain.added acme.test"}},
			{"domain: itself, its reports, its people and invitations", a, audit.Filter{Domain: &acme}, []string{
				"invitation.sent zed@acme.test", "user.signed_in eve@eu.acme.test", "user.imported bob@acme.test",
				"import.report_requested report #9 of acme.test", "domain.verified acme.test", "domain.added acme.test"}},
			{"domain without its people", a, audit.Filter{Domain: &audit.Domain{ID: 5, Name: "acme.test"}}, []string{
				"import.report_requested report #9 of acme.test", "domain.verified acme.test", "domain.added acme.test"}},
			{"a domain whose name ends like another's", a, audit.Filter{Domain: &audit.Domain{ID: 6, Name: "bacme.test", At: domains.AtDomain}}, []string{
				"import.completed report #10 of bacme.test", "domain.added bacme.test", "member.role_changed carl@bacme.test"}},
			{"from a day, at its first instant", a, audit.Filter{From: day("2026-03-04")}, []string{
				"organization.created Acme", "import.completed report #10 of bacme.test", "domain.added bacme.test",
				"member.role_changed carl@bacme.test"}},
			{"one day, to its last instant", a, audit.Filter{From: day("2026-03-01"), Until: day("2026-03-02")}, []string{
				"domain.verified acme.test", "domain.added acme.test"}},
			{"until a day", a, audit.Filter{Until: day("2026-03-02")}, []string{"domain.verified acme.test", "domain.added acme.test"}},
			{"combined", a, audit.Filter{Actor: "ada", Action: "user.imported", Domain: &acme, From: day("2026-03-02"), Until: day("2026-03-03")},
				[]string{"user.imported bob@acme.test"}},
			{"combined, nothing matches", a, audit.Filter{Actor: "ada", Action: "domain.verified", Domain: &acme}, []string{}},
			{"another organization's entries stay apart", b, audit.Filter{Domain: &acme}, []string{"domain.added acme.test"}},
			{"and are never the first's", a, audit.Filter{Actor: "globex"}, []string{}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				p, err := log.Page(ctx, c.org, c.filter, 1)
				if err != nil {
					t.Fatal(err)
				}
				got := []string{}
				for _, e := range p.Items {
					got = append(got, e.Action+" "+e.Target)
					if *e.OrganizationID != c.org {
						t.Errorf("entry %d of organization %d listed", e.ID, *e.OrganizationID)
					}
				}
				if !slices.Equal(got, c.want) || p.Total != int64(len(c.want)) {
					t.Fatalf("got %d: %q\nwant %q", p.Total, got, c.want)
				}
			})
		}
	})
}

// A filter pages like the whole log: its count is of the entries it
// keeps.
func TestPageFilteredPaging(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		clk := newClock()
		org := newOrg(t, db, "Acme", clk.Now())
		for i := range 60 {
			action := "member.added"
			if i%2 == 0 {
				action = "member.removed"
			}
			record(t, db, clk, org, action, audit.Target{Type: "user", ID: fmt.Sprint(i), Label: "x"})
		}
		log := &audit.Log{DB: db}
		f := audit.Filter{Action: "member.removed"}
		p1, err1 := log.Page(ctx, org, f, 1)
		p2, err2 := log.Page(ctx, org, f, 2)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if p1.Total != 30 || p1.Pages() != 2 || len(p1.Items) != 25 || len(p2.Items) != 5 {
			t.Fatalf("pages of %d: %d and %d entries, %d pages", p1.Total, len(p1.Items), len(p2.Items), p1.Pages())
		}
		for _, e := range append(p1.Items, p2.Items...) {
			if e.Action != "member.removed" {
				t.Fatalf("%s listed", e.Action)
			}
		}
	})
}

func TestFormCheck(t *testing.T) {
	domainsOfOrg := []audit.Domain{acme, {ID: 6, Name: "xn--bcher-kva.test", Unicode: "bücher.test"}}
	cases := []struct {
		name     string
		form     audit.Form
		filter   audit.Filter
		applied  audit.Form
		problems []string // field: a part of the message
	}{
		{"empty", audit.Form{}, audit.Filter{}, audit.Form{}, nil},
		{"every field",
			audit.Form{Actor: " Ada@acme.test ", Action: "domain.verified", Domain: "5", From: "2026-03-01", To: "2026-03-31"},
			audit.Filter{Actor: "Ada@acme.test", Action: "domain.verified", Domain: &domainsOfOrg[0], From: day("2026-03-01"), Until: day("2026-04-01")},
			audit.Form{Actor: "Ada@acme.test", Action: "domain.verified", Domain: "5", From: "2026-03-01", To: "2026-03-31"}, nil},
		{"one day", audit.Form{From: "2026-03-01", To: "2026-03-01"},
			audit.Filter{From: day("2026-03-01"), Until: day("2026-03-02")}, audit.Form{From: "2026-03-01", To: "2026-03-01"}, nil},
		{"the end of time", audit.Form{To: "9999-12-31"}, audit.Filter{}, audit.Form{To: "9999-12-31"}, nil},
		{"blank actor", audit.Form{Actor: "   "}, audit.Filter{}, audit.Form{}, nil},
		{"unknown action", audit.Form{Action: "domain.stolen", Actor: "ada"}, audit.Filter{Actor: "ada"}, audit.Form{Actor: "ada"},
			[]string{"action: There is no such action"}},
		{"another organization's domain", audit.Form{Domain: "77", Action: "domain.added"}, audit.Filter{Action: "domain.added"},
			audit.Form{Action: "domain.added"}, []string{"domain: This is not a domain of your organization"}},
		{"a domain that is no number", audit.Form{Domain: "five"}, audit.Filter{}, audit.Form{}, []string{"domain: This is not a domain"}},
		{"a bad first day", audit.Form{From: "2026-02-30", To: "2026-03-01"}, audit.Filter{Until: day("2026-03-02")}, audit.Form{To: "2026-03-01"},
			[]string{"from: “2026-02-30” is not a date: write it as YYYY-MM-DD"}},
		{"a bad last day", audit.Form{To: "yesterday"}, audit.Filter{}, audit.Form{}, []string{"to: “yesterday” is not a date"}},
		{"a year too far back", audit.Form{From: "0001-01-01"}, audit.Filter{}, audit.Form{}, []string{"from: “0001-01-01” is not a date"}},
		{"another layout", audit.Form{From: "01/03/2026"}, audit.Filter{}, audit.Form{}, []string{"from: “01/03/2026” is not a date"}},
		{"the last day before the first", audit.Form{From: "2026-03-05", To: "2026-03-01", Actor: "ada"}, audit.Filter{Actor: "ada"},
			audit.Form{Actor: "ada"}, []string{"to: The last day, 2026-03-01, is before the first, 2026-03-05. The list below is not filtered by date."}},
		{"an actor with a NUL", audit.Form{Actor: "ada\x00"}, audit.Filter{}, audit.Form{}, []string{"actor: An actor is an email address"}},
		{"an actor that is not UTF-8", audit.Form{Actor: "ada\xff"}, audit.Filter{}, audit.Form{}, []string{"actor: An actor is an email address"}},
		{"a long actor", audit.Form{Actor: strings.Repeat("a", 255)}, audit.Filter{}, audit.Form{}, []string{"actor: An actor is at most 254 characters"}},
		{"everything wrong", audit.Form{Actor: "\x01", Action: "x", Domain: "-1", From: "x", To: "y"}, audit.Filter{}, audit.Form{},
			[]string{"action: ", "actor: ", "domain: ", "from: ", "to: "}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.form.Check(domainsOfOrg)
			if fmt.Sprintf("%+v", got.Filter) != fmt.Sprintf("%+v", c.filter) || got.Applied != c.applied {
				t.Errorf("filter %+v, applied %+v\nwant   %+v, applied %+v", got.Filter, got.Applied, c.filter, c.applied)
			}
			var fields []string
			for field := range got.Problems {
				fields = append(fields, field)
			}
			slices.Sort(fields)
			if len(fields) != len(c.problems) {
				t.Fatalf("problems %v, want %v", got.Problems, c.problems)
			}
			for i, field := range fields {
				if msg := field + ": " + got.Problems[field]; !strings.HasPrefix(msg, c.problems[i]) {
					t.Errorf("problem %q, want it to begin with %q", msg, c.problems[i])
				}
			}
		})
	}
}
