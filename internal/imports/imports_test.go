package imports_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/database"
	"admincenter/internal/domains"
	"admincenter/internal/imports"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
)

// counts are what a report and its import say of their users.
type counts struct {
	Status                                   imports.Status
	Expected, Found, Eligible, Selected      int
	Imported, Skipped, NotImported, Notified int
}

func countsOf(imp imports.Import) counts {
	return counts{imp.Status, imp.Expected, imp.Found, imp.Eligible, imp.Selected, imp.Imported, imp.Skipped, imp.NotImported(), imp.Notified}
}

func TestReportTellsEveryReason(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		imp := f.report(t, imports.All, false)
		if got, want := countsOf(imp), (counts{Status: imports.Ready, Expected: 9, Found: 9, Eligible: 3, Selected: 3, NotImported: 9}); got != want {
			t.Fatalf("report = %+v, want %+v", got, want)
		}
		want := map[string]imports.Reason{
			"olivia@acme.test": imports.AlreadyMember, "sam@acme.test": imports.AlreadyMember,
			"gloria@acme.test": imports.OwnerElsewhere, "greta@acme.test": imports.ManagedElsewhere,
			"dora@acme.test": imports.Deactivated, "ursula@acme.test": imports.EmailNotVerified,
			"eve@acme.test": imports.Eligible, "emil@eu.acme.test": imports.Eligible, "finn@acme.test": imports.Eligible,
			"olaf@notacme.test": "", // not at the domain: not in the report
		}
		rows := f.rows(t, imp.ID)
		for email, reason := range want {
			if got := rows[email].Reason; got != reason {
				t.Errorf("%s: reason %q, want %q", email, got, reason)
			}
		}
		if n := len(strings.Fields(rows["eve@acme.test"].AccountIDs)); n != 2 {
			t.Errorf("eve's accounts in the report = %d, want 2", n)
		}
		if !rows["eve@acme.test"].EmailVerified || rows["ursula@acme.test"].EmailVerified {
			t.Error("email_verified is wrong")
		}
	})
}

func TestImportMovesEligibleUsersWithTheirAccounts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		imp := f.report(t, imports.All, false)
		// Between the report and the import, finn joins Globex.
		f.Member(t, f.finn, f.globex.ID, users.Standard)
		if _, err := f.svc.Start(f.ctx, f.owner.ID, f.domain.ID, imp.ID); err != nil {
			t.Fatal(err)
		}
		f.run(t)
		imp = f.get(t, imp.ID)
		want := counts{Status: imports.Completed, Expected: 9, Found: 9, Eligible: 3, Selected: 3, Imported: 2, Skipped: 1, NotImported: 7}
		if got := countsOf(imp); got != want {
			t.Fatalf("import = %+v, want %+v", got, want)
		}
		for _, u := range []users.User{f.eve, f.emil} {
			got := f.Reload(t, u)
			if got.OrgID() != f.acme.ID || got.Role != users.Standard || got.JoinedAt == nil {
				t.Errorf("%s: organization %d role %q, want Acme, standard", u.Email, got.OrgID(), got.Role)
			}
			if n := f.count(t, "accounts", "owner_id = ? AND (organization_id IS NULL OR organization_id <> ?)", u.ID, f.acme.ID); n != 0 {
				t.Errorf("%s: %d accounts were left behind", u.Email, n)
			}
			if n := f.count(t, "audit_log", "action = 'user.imported' AND target_id = ?", fmt.Sprint(u.ID)); n != 1 {
				t.Errorf("%s: %d audit entries, want 1", u.Email, n)
			}
			if n := f.count(t, "outbox", "recipient = ? AND subject = ?", u.Email, "You are now managed by Acme Corp"); n != 1 {
				t.Errorf("%s: %d emails, want 1", u.Email, n)
			}
		}
		rows := f.rows(t, imp.ID)
		if r := rows["finn@acme.test"]; r.Outcome != imports.Skipped || r.OutcomeReason != imports.ManagedElsewhere {
			t.Errorf("finn: %s %s, want skipped as managed by another organization", r.Outcome, r.OutcomeReason)
		}
		if r := rows["dora@acme.test"]; r.Outcome != imports.Skipped || r.OutcomeReason != imports.Deactivated {
			t.Errorf("dora: %s %s, want skipped as deactivated", r.Outcome, r.OutcomeReason)
		}
		if f.Reload(t, f.ursula).Managed() || f.Reload(t, f.outsider).Managed() {
			t.Error("a user who was not eligible was imported")
		}
		if n := f.count(t, "outbox", "subject LIKE 'Import from acme.test finished%' AND recipient = ?", f.owner.Email); n != 1 {
			t.Errorf("the owner got %d summary emails, want 1", n)
		}
		// Starting it again changes nothing.
		if _, err := f.svc.Start(f.ctx, f.owner.ID, f.domain.ID, imp.ID); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("Start again: %v, want a conflict", err)
		}
	})
}

func TestWithoutReviewImportsWhenReady(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		imp := f.report(t, imports.All, true)
		if imp.Status != imports.Completed || imp.Imported != 3 {
			t.Fatalf("import = %s, imported %d; want completed 3", imp.Status, imp.Imported)
		}
	})
}

func TestRevalidationStopsReportsAndImports(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		imp := f.report(t, imports.All, false)
		f.setStatus(t, domains.Revalidating)
		_, err := f.svc.Request(f.ctx, f.owner.ID, f.domain.ID, imports.All, false)
		if apperr.CodeOf(err) != apperr.Conflict || !strings.Contains(err.Error(), "needs re-validation") {
			t.Errorf("Request during re-validation: %v", err)
		}
		if _, err := f.svc.Start(f.ctx, f.owner.ID, f.domain.ID, imp.ID); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("Start during re-validation: %v", err)
		}
		// A domain that goes into re-validation while importing stops the import.
		f.setStatus(t, domains.Verified)
		if _, err := f.svc.Start(f.ctx, f.owner.ID, f.domain.ID, imp.ID); err != nil {
			t.Fatal(err)
		}
		f.setStatus(t, domains.Revalidating)
		f.run(t)
		imp = f.get(t, imp.ID)
		if imp.Status != imports.Failed || imp.Imported != 0 || !strings.Contains(imp.Error, "re-validation") {
			t.Fatalf("import = %s, imported %d, error %q", imp.Status, imp.Imported, imp.Error)
		}
		if r := f.rows(t, imp.ID)["eve@acme.test"]; r.Outcome != imports.Skipped || r.OutcomeReason != imports.Stopped {
			t.Errorf("eve: %s %s, want skipped, stopped", r.Outcome, r.OutcomeReason)
		}
	})
}

func TestGateOffAnswersNotFound(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		f.feature(t, "Acme Corp", false)
		if _, err := f.svc.Request(f.ctx, f.owner.ID, f.domain.ID, imports.All, false); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("Request with the feature off: %v, want not found", err)
		}
		// Another organization's Owner cannot reach Acme's domain.
		if _, err := f.svc.Request(f.ctx, f.gloria.ID, f.domain.ID, imports.All, false); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("Request by Globex's Owner: %v, want not found", err)
		}
	})
}

func TestOneRunningJobPerDomain(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		if _, err := f.svc.Request(f.ctx, f.owner.ID, f.domain.ID, imports.All, false); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Request(f.ctx, f.owner.ID, f.domain.ID, imports.All, false)
		if apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("a second report while one is generating: %v, want a conflict", err)
		}
	})
}

func TestNewUsersAndUsersLeftOut(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		first := f.report(t, imports.All, true) // imports eve, emil, finn
		if first.Imported != 3 {
			t.Fatalf("first import took %d", first.Imported)
		}
		f.clk.Advance(time.Hour)
		nina := f.Person(t, "nina@acme.test", true, 1)
		fresh := f.report(t, imports.New, false)
		rows := f.rows(t, fresh.ID)
		if fresh.Found != 1 || rows[nina.Email].Reason != imports.Eligible {
			t.Fatalf("new users report found %d: %v", fresh.Found, rows)
		}
		// Nothing new since: no empty report.
		if _, err := f.svc.Request(f.ctx, f.owner.ID, f.domain.ID, imports.New, false); apperr.CodeOf(err) != apperr.Conflict ||
			!strings.Contains(err.Error(), "no new user to import") {
			t.Errorf("a report of new users when there is none: %v", err)
		}
		// Ursula verifies her email: she was left out of the first import.
		f.db.Model(&f.ursula).Update("email_verified_at", f.clk.Now())
		left := f.report(t, imports.LeftOut, false)
		rows = f.rows(t, left.ID)
		if _, ok := rows["ursula@acme.test"]; !ok || rows["ursula@acme.test"].Reason != imports.Eligible {
			t.Errorf("left-out report lacks ursula, eligible now: %v", rows)
		}
		if _, ok := rows["eve@acme.test"]; ok {
			t.Error("left-out report holds eve, who was imported")
		}
		if _, ok := rows["sam@acme.test"]; ok {
			t.Error("left-out report holds sam, a member")
		}
	})
}

// The users left out of earlier imports are listed with what stands in
// their way today or, when nothing does, why they were left out: removed
// from the uploaded file, not reached by a stopped import, in a report
// that was never imported.
func TestUsersLeftOutSayWhy(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		first := f.report(t, imports.All, false)
		lines := f.reportLines(t, first)
		var kept []string
		for _, l := range lines {
			if !strings.Contains(l, ",finn@acme.test,") {
				kept = append(kept, l)
			}
		}
		if _, err := f.svc.Upload(f.ctx, f.owner.ID, f.owner.OrgID(), f.domain.ID, first.ID, strings.NewReader(strings.Join(kept, "\r\n"))); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Start(f.ctx, f.owner.ID, f.domain.ID, first.ID); err != nil {
			t.Fatal(err)
		}
		f.run(t) // imports eve and emil; finn was removed from the file
		f.clk.Advance(time.Hour)
		nina := f.Person(t, "nina@acme.test", true, 0)
		f.report(t, imports.New, false) // holds nina; never imported

		p, err := f.svc.LeftOut(f.ctx, f.acme.ID, f.domain.ID, f.domain.Name, 1)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]imports.Reason{}
		for _, u := range p.Items {
			got[u.Email] = u.Reason
		}
		want := map[string]imports.Reason{
			"finn@acme.test": imports.RemovedFromFile, nina.Email: imports.NeverImported,
			"greta@acme.test": imports.ManagedElsewhere, "gloria@acme.test": imports.OwnerElsewhere,
			"dora@acme.test": imports.Deactivated, "ursula@acme.test": imports.EmailNotVerified,
		}
		if len(got) != len(want) {
			t.Errorf("left out: %v, want %v", got, want)
		}
		for email, reason := range want {
			if got[email] != reason {
				t.Errorf("%s: %q, want %q", email, got[email], reason)
			}
		}
	})
}

func TestNotifyEmailsTheSelectedUsersOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		imp := f.report(t, imports.All, false)
		if _, err := f.svc.RequestNotify(f.ctx, f.owner.ID, f.domain.ID, imp.ID); err != nil {
			t.Fatal(err)
		}
		f.run(t)
		if _, err := f.svc.RequestNotify(f.ctx, f.owner.ID, f.domain.ID, imp.ID); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("a second request: %v, want a conflict", err)
		}
		f.run(t)
		imp = f.get(t, imp.ID)
		if imp.Notified != 3 || imp.NotifiedAt == nil {
			t.Errorf("notified %d, at %v; want 3", imp.Notified, imp.NotifiedAt)
		}
		subject := "Acme Corp will manage your login"
		for _, u := range []users.User{f.eve, f.emil, f.finn} {
			if n := f.count(t, "outbox", "recipient = ? AND subject = ?", u.Email, subject); n != 1 {
				t.Errorf("%s got %d notices, want 1", u.Email, n)
			}
		}
		if n := f.count(t, "outbox", "subject = ?", subject); n != 3 {
			t.Errorf("%d notices in all, want 3", n)
		}
	})
}

func TestCSVNeutralizesFormulas(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		names := []string{"=HYPERLINK(\"http://evil\")", "+1+2", "-3", "@SUM(A1)", "\tTab", "\rReturn", "Plain, \"quoted\""}
		if database.IsSQLite(db) { // PostgreSQL cannot store a NUL at all
			names = append(names, "\x00Nul")
		}
		for i, n := range names {
			u := f.Person(t, "x"+string(rune('a'+i))+"@acme.test", true, 0)
			f.db.Model(&u).Update("name", n)
		}
		imp := f.report(t, imports.All, false)
		var buf bytes.Buffer
		if err := f.svc.WriteReport(f.ctx, &buf, imp); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "\r\n") {
			t.Error("lines do not end in CRLF")
		}
		records, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(records[0], ",") != "user_id,email,name,signed_up_at,email_verified,accounts,account_ids,eligible,reason" {
			t.Errorf("header = %v", records[0])
		}
		got := map[string]string{}
		for _, r := range records[1:] {
			got[r[1]] = r[2]
		}
		for i, n := range names {
			email := "x" + string(rune('a'+i)) + "@acme.test"
			want := n
			if strings.ContainsRune("=+-@\t\r\x00", rune(n[0])) {
				want = "'" + strings.TrimPrefix(n, "\r") // with CRLF line ends, encoding/csv drops a lone CR

			}
			if got[email] != want {
				t.Errorf("name %q written as %q, want %q", n, got[email], want)
			}
		}
	})
}

// An internationalized domain's people are found whichever way their
// address spells it.
func TestReportOfAnInternationalizedDomain(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		idn := f.domain
		idn.ID, idn.Name, idn.UnicodeName = 0, "xn--bcher-kva.test", "bücher.test"
		if err := db.Create(&idn).Error; err != nil {
			t.Fatal(err)
		}
		f.domain = idn
		f.Person(t, "ana@bücher.test", true, 1)
		f.Person(t, "ben@shop.xn--bcher-kva.test", true, 0)
		imp := f.report(t, imports.All, true)
		if imp.Found != 2 || imp.Imported != 2 {
			t.Fatalf("found %d, imported %d; want 2 and 2", imp.Found, imp.Imported)
		}
	})
}

// The report's CSV holds each user's row whole: the rows are built in the
// database and the file is read with one query.
func TestReportCSVRows(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		imp := f.report(t, imports.All, false)
		var buf bytes.Buffer
		if err := f.svc.WriteReport(f.ctx, &buf, imp); err != nil {
			t.Fatal(err)
		}
		records, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(records) != 1+imp.Found {
			t.Fatalf("%d lines, want the header and %d users", len(records), imp.Found)
		}
		accounts := func(u users.User) string {
			var ids []string
			db.Model(&users.Account{}).Where("owner_id = ?", u.ID).Order("id").Pluck("id", &ids)
			return strings.Join(ids, " ")
		}
		row := func(u users.User, verified string, n int, eligible, reason string) []string {
			return []string{fmt.Sprint(u.ID), u.Email, u.Name, u.CreatedAt.UTC().Format(time.RFC3339), verified,
				fmt.Sprint(n), accounts(u), eligible, reason}
		}
		want := map[string][]string{
			f.eve.Email:    row(f.eve, "true", 2, "true", "eligible"),
			f.finn.Email:   row(f.finn, "true", 0, "true", "eligible"),
			f.ursula.Email: row(f.ursula, "false", 2, "false", "email address not verified"),
			f.gloria.Email: row(f.gloria, "true", 0, "false", "owner of another organization"),
			f.sam.Email:    row(f.sam, "true", 1, "false", "already a member of this organization"),
		}
		var last int64
		for _, r := range records[1:] {
			id, _ := strconv.ParseInt(r[0], 10, 64)
			if id <= last {
				t.Errorf("user %d comes after user %d: want the order of user ids", id, last)
			}
			last = id
			if w, ok := want[r[1]]; ok && !slices.Equal(r, w) {
				t.Errorf("row of %s = %q, want %q", r[1], r, w)
			}
		}
	})
}
