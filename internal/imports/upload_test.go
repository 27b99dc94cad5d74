package imports_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/domains"
	"admincenter/internal/imports"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
)

// reportLines returns the report's CSV as lines, header first.
func (f *fixture) reportLines(t *testing.T, imp imports.Import) []string {
	t.Helper()
	var buf bytes.Buffer
	if err := f.svc.WriteReport(f.ctx, &buf, imp); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(buf.String(), "\r\n"), "\r\n")
}

func TestUploadValidation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		imp := f.report(t, imports.All, false)
		lines := f.reportLines(t, imp)
		line := func(email string) string {
			for _, l := range lines {
				if strings.Contains(l, ","+email+",") {
					return l
				}
			}
			t.Fatalf("no line for %s", email)
			return ""
		}
		without := func(emails ...string) string {
			var keep []string
		next:
			for _, l := range lines {
				for _, e := range emails {
					if strings.Contains(l, ","+e+",") {
						continue next
					}
				}
				keep = append(keep, l)
			}
			return strings.Join(keep, "\r\n") + "\r\n"
		}
		all := strings.Join(lines, "\r\n") + "\r\n"
		refused := []struct {
			name, file, message string
		}{
			{"empty", "", "The file is empty"},
			{"another header", strings.Replace(all, "user_id,email", "id,email", 1), "Line 1: the header"},
			{"a column less", strings.Replace(all, ",reason\r\n", "\r\n", 1), "Line 1: the header"},
			{"only the header", lines[0] + "\r\n", "no user left"},
			{"an added user", all + "999999,new@acme.test,New,2026-03-01T09:00:00Z,true,0,,true,eligible\r\n", "user 999999 is not in this report"},
			{"a changed name", strings.Replace(all, ",eve,", ",Eve Evil,", 1), "the name of eve@acme.test was changed"},
			{"a changed eligibility", strings.Replace(all, line("dora@acme.test"), strings.Replace(line("dora@acme.test"), ",false,account deactivated", ",true,eligible", 1), 1), "was changed"},
			{"a repeated row", all + line("eve@acme.test") + "\r\n", "appears again"},
			{"a short row", all + "1,2,3\r\n", "the row has 3 columns"},
			{"not CSV", all + "1,\"unterminated\r\n", "not valid CSV"},
			{"no eligible user left", without("eve@acme.test", "emil@eu.acme.test", "finn@acme.test"), "no eligible user"},
		}
		huge := strings.Repeat("x", 200<<10)
		refused = append(refused, []struct{ name, file, message string }{
			// A file's shape never costs memory in proportion to it, and a
			// refusal quotes only an excerpt of it.
			{"one huge line", strings.Repeat(",", 1<<20), "Line 1: the row is longer than 64 KiB"},
			{"a huge row after the header", lines[0] + "\r\n" + line("eve@acme.test") + "\r\n" + huge + "\r\n", "Line 3: the row is longer than 64 KiB"},
			{"a huge quoted cell over many lines", lines[0] + "\r\n\"" + strings.Repeat("x\r\n", 100<<10) + "\"\r\n", "Line 2: the row is longer than 64 KiB"},
			{"a huge header", "user_id," + strings.Repeat("a", 10<<10) + "\r\n", `Line 1: the header is "user_id,` + strings.Repeat("a", 52) + `"…, not`},
			{"a huge changed name", strings.Replace(all, ",eve,", ","+strings.Repeat("E", 10<<10)+",", 1), `was changed from "eve" to "` + strings.Repeat("E", 60) + `"…:`},
			{"a huge user id", all + strings.Repeat("9", 10<<10) + ",a,b,c,d,e,f,g,h\r\n", `the user_id "` + strings.Repeat("9", 60) + `"… is not a number`},
		}...)
		for _, tc := range refused {
			_, err := f.svc.Upload(f.ctx, f.owner.ID, f.owner.OrgID(), f.domain.ID, imp.ID, strings.NewReader(tc.file))
			if apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(err.Error(), tc.message) {
				t.Errorf("%s: %.300v, want a refusal saying %q", tc.name, err, tc.message)
			}
			if len(apperr.MessageOf(err)) > 500 {
				t.Errorf("%s: the refusal is %d bytes long", tc.name, len(apperr.MessageOf(err)))
			}
			if got := f.get(t, imp.ID); got.Selected != 3 || got.UploadedAt != nil {
				t.Fatalf("%s: the refused file changed the selection to %d", tc.name, got.Selected)
			}
		}

		// What a spreadsheet does on saving is forgiven: a byte order mark,
		// TRUE for true, LF line ends, the ' of a neutralized cell dropped.
		edited := "\xef\xbb\xbf" + strings.ReplaceAll(strings.ReplaceAll(without("finn@acme.test"), ",true,", ",TRUE,"), "\r\n", "\n")
		got, err := f.svc.Upload(f.ctx, f.owner.ID, f.owner.OrgID(), f.domain.ID, imp.ID, strings.NewReader(edited))
		if err != nil {
			t.Fatalf("Upload of a file with finn removed: %v", err)
		}
		if got.Selected != 2 || got.UploadedAt == nil {
			t.Fatalf("selected %d, want 2", got.Selected)
		}
		if _, err := f.svc.Start(f.ctx, f.owner.ID, f.domain.ID, imp.ID); err != nil {
			t.Fatal(err)
		}
		f.run(t)
		got = f.get(t, imp.ID)
		rows := f.rows(t, imp.ID)
		if got.Imported != 2 || rows["finn@acme.test"].Outcome != imports.Excluded || f.Reload(t, f.finn).Managed() {
			t.Errorf("imported %d, finn %s; want 2 and finn excluded", got.Imported, rows["finn@acme.test"].Outcome)
		}
		if _, err := f.svc.Upload(f.ctx, f.owner.ID, f.owner.OrgID(), f.domain.ID, imp.ID, strings.NewReader(all)); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("Upload after the import: %v", err)
		}
	})
}

func TestUploadAcceptsANeutralizedCellWithoutItsQuote(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		f.db.Model(&f.eve).Update("name", "=cmd")
		imp := f.report(t, imports.All, false)
		file := strings.Replace(strings.Join(f.reportLines(t, imp), "\n"), ",'=cmd,", ",=cmd,", 1)
		if _, err := f.svc.Upload(f.ctx, f.owner.ID, f.owner.OrgID(), f.domain.ID, imp.ID, strings.NewReader(file)); err != nil {
			t.Errorf("Upload: %v", err)
		}
	})
}

func TestAutoAddOnSignup(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		if err := f.svc.SetPolicy(f.ctx, f.owner.ID, f.domain.ID, imports.AutoAdd); err != nil {
			t.Fatal(err)
		}
		people := &users.Service{DB: db, Now: f.clk.Now, BaseURL: f.svc.BaseURL, PasswordCost: 4, OnEmailVerified: f.svc.AddOnSignup}
		signUp := func(email string) users.User {
			t.Helper()
			u, err := people.SignUp(f.ctx, users.SignUpForm{Name: "New", Email: email, Password: "correct horse battery"})
			if err != nil {
				t.Fatal(err)
			}
			var body string
			db.Table("outbox").Where("recipient = ?", email).Order("id DESC").Limit(1).Pluck("body", &body)
			token := body[strings.Index(body, "token=")+len("token="):]
			token = strings.Fields(token)[0]
			if _, err := people.VerifyEmail(f.ctx, token); err != nil {
				t.Fatalf("VerifyEmail: %v", err)
			}
			return f.Reload(t, u)
		}
		u := signUp("nora@dev.acme.test")
		if u.OrgID() != f.acme.ID || u.Role != users.Standard {
			t.Fatalf("nora: organization %d role %q; want Acme, standard", u.OrgID(), u.Role)
		}
		if n := f.count(t, "audit_log", "action = 'user.auto_added'"); n != 1 {
			t.Errorf("%d audit entries", n)
		}
		if n := f.count(t, "outbox", "recipient = ? AND subject = 'You are now managed by Acme Corp'", u.Email); n != 1 {
			t.Errorf("%d emails to nora", n)
		}
		// Not while the domain is in re-validation, nor with the feature off.
		f.setStatus(t, domains.Revalidating)
		if u := signUp("otto@acme.test"); u.Managed() {
			t.Error("otto was added while the domain is in re-validation")
		}
		if err := f.svc.SetPolicy(f.ctx, f.owner.ID, f.domain.ID, imports.AutoAdd); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("SetPolicy during re-validation: %v", err)
		}
		f.setStatus(t, domains.Verified)
		f.feature(t, "Acme Corp", false)
		if u := signUp("pia@acme.test"); u.Managed() {
			t.Error("pia was added with the feature off")
		}
		f.feature(t, "Acme Corp", true)
		if err := f.svc.SetPolicy(f.ctx, f.owner.ID, f.domain.ID, imports.InviteOnly); err != nil {
			t.Fatal(err)
		}
		if u := signUp("quinn@acme.test"); u.Managed() {
			t.Error("quinn was added under Invite only")
		}
	})
}

// Two instances working at once import each user once: each job is leased
// by one of them.
func TestTwoInstancesImportEachUserOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		for i := range 1200 {
			f.Person(t, fmt.Sprintf("many%d@acme.test", i), true, i%3)
		}
		imp, err := f.svc.Request(f.ctx, f.owner.ID, f.domain.ID, imports.All, true)
		if err != nil {
			t.Fatal(err)
		}
		other := &imports.Service{DB: db, Now: f.clk.Now, BaseURL: f.svc.BaseURL, Lease: f.svc.Lease}
		var wg sync.WaitGroup
		for _, s := range []*imports.Service{f.svc, other, f.svc, other} {
			wg.Go(func() {
				if err := s.RunDue(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		f.run(t)
		got := f.get(t, imp.ID)
		if got.Status != imports.Completed || got.Imported != 1203 {
			t.Fatalf("import = %s, imported %d; want completed 1203", got.Status, got.Imported)
		}
		if n := f.count(t, "audit_log", "action = 'user.imported'"); n != 1203 {
			t.Errorf("%d audit entries, want 1203", n)
		}
		if n := f.count(t, "outbox", "subject = 'You are now managed by Acme Corp'"); n != 1203 {
			t.Errorf("%d emails, want 1203", n)
		}
	})
}
