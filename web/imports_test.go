package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"gorm.io/gorm"

	"admincenter/internal/imports"
	"admincenter/internal/testdb"
)

// runImports runs the background work of Bulk User Import while the test
// lasts, as the server does.
func (a *app) runImports() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	a.t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if err := a.svc.Imports.RunDue(ctx); err != nil && ctx.Err() == nil {
				a.t.Errorf("imports: %v", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			case <-a.svc.Imports.Wake():
			}
		}
	}()
}

func (a *app) bulkImport(on bool) {
	a.t.Helper()
	if _, err := a.svc.Orgs.SetFeature(context.Background(), "Acme Corp", on); err != nil {
		a.t.Fatal(err)
	}
}

// The whole flow on the demo data, in a browser: report, download, edit,
// upload, notify, start, progress, summary, Users filtered to the import.
func TestBrowserBulkImport(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		a.runImports()
		owner := a.client()
		owner.login("owner@acme.test")
		id := verifyDomain(t, a, owner, "acme.test")
		domainPage := "/admin/domains/" + itoa(id)

		b := newTab(t, a)
		b.signIn("owner@acme.test")
		b.open(domainPage)
		b.waitText("This is a gated feature.")
		b.inspect("import-gated")
		a.bulkImport(true)

		b.open(domainPage)
		b.press("Import existing users of this domain and their accounts to this Organization")
		b.waitText("Generate the report, so that I can review it first (recommended)")
		b.press("Continue")
		b.waitText("The report is being generated.")
		b.waitText("Start import") // the table refreshes itself until the report is ready
		b.inspect("import-ready")
		row := eval[string](b, `document.querySelector("[data-testid^=import-]").innerText`)
		// 63 people at acme.test: 3 members, 1 in Globex, 1 deactivated, 4 unverified.
		if !strings.Contains(row, "Ready\t63\t54\t9") {
			t.Fatalf("the report's row reads %q", row)
		}

		name, content := b.download("Download CSV")
		if !strings.HasSuffix(name, ".csv") {
			t.Errorf("downloaded %q", name)
		}
		records, err := csv.NewReader(bytes.NewReader(content)).ReadAll()
		if err != nil || len(records) != 64 {
			t.Fatalf("the CSV has %d records: %v", len(records), err)
		}
		// Leave out the first two eligible people.
		var kept [][]string
		var left []string
		for _, r := range records {
			if r[7] == "true" && len(left) < 2 {
				left = append(left, r[1])
				continue
			}
			kept = append(kept, r)
		}
		var edited bytes.Buffer
		w := csv.NewWriter(&edited)
		w.WriteAll(kept)
		file := filepath.Join(t.TempDir(), "edited.csv")
		os.WriteFile(file, edited.Bytes(), 0o644)

		b.press("Review")
		b.waitText("Review, notify, import")
		// A file that adds a row is refused, next to the field, and changes nothing.
		bad := filepath.Join(t.TempDir(), "bad.csv")
		os.WriteFile(bad, append(bytes.Clone(content), "999999,new@acme.test,New,2026-01-01T00:00:00Z,true,0,,true,eligible\r\n"...), 0o644)
		b.do(chromedp.SetUploadFiles(chromedp.ID("f-file"), []string{bad}))
		b.press("Upload edited file")
		b.waitText("Line 65: user 999999 is not in this report")
		if n := strings.Count(eval[string](b, "document.body.innerText"), "Line 65"); n != 1 {
			t.Errorf("the refusal is shown %d times", n)
		}
		b.waitText("All 54 users eligible")
		b.inspect("import-upload-refused")
		b.do(chromedp.SetUploadFiles(chromedp.ID("f-file"), []string{file}))
		b.press("Upload edited file")
		b.waitText("The edited file was accepted: the import takes the 52 eligible users it kept.")

		b.press("Notify your users")
		b.waitText("Here is a template you can use")
		if subject := b.value("notice-subject"); subject != "Acme Corp will manage your login" {
			t.Errorf("the template's subject is %q", subject)
		}
		if body := b.value("notice-body"); !strings.Contains(body, "acme.test") || !strings.Contains(body, "owner@acme.test") {
			t.Errorf("the template reads %q", body)
		}
		b.inspect("import-notify")
		b.press("Email 52 users")
		b.waitText("Each of the 52 users in this import gets the email above")
		b.inspect("import-notify-confirm")
		b.do(chromedpClickCSS("#notify-dialog button[type=submit]"))
		b.waitText("We are emailing the 52 users of this import.")
		b.waitText("52 users emailed on") // the page follows the emailing without a reload
		b.press("Back to the report")
		b.press("Start import")
		b.waitText("Before you continue: inform your users")
		b.waitText("52 users at acme.test will be managed by Acme Corp")
		b.inspect("import-panel")
		b.press("Continue to next step: import 52 users")
		b.waitText("The import of 52 users has started.")
		b.waitText("52 users imported") // the page refreshes itself until done
		b.inspect("import-summary")
		for _, reason := range []string{
			"Removed from the uploaded file: 2", "Already a member of this organization: 3", "Email address not verified: 4",
			"Managed by another organization: 1", "Account deactivated: 1",
		} {
			b.waitText(reason)
		}
		b.waitText(left[0])

		b.press("52 users imported")
		b.waitText("Showing the 52 users imported by report #")
		if b.path() == "" || !strings.Contains(b.path(), "/admin/users?import=") {
			t.Errorf("the summary links to %s", b.path())
		}
		b.inspect("users-of-import")

		// Each imported person got the notice, then the welcome, once.
		var notices, welcomes int64
		db.Table("outbox").Where("subject = ?", "Acme Corp will manage your login").Count(&notices)
		db.Table("outbox").Where("subject = ?", "You are now managed by Acme Corp").Count(&welcomes)
		if notices != 52 || welcomes != 52 {
			t.Errorf("%d notices and %d welcome emails, want 52 each", notices, welcomes)
		}
		for _, email := range left {
			if a.user(email).Managed() {
				t.Errorf("%s was removed from the file but imported", email)
			}
		}

		b.open(domainPage + "/imports/left-out")
		b.waitText("Users not included in earlier imports")
		b.waitText(left[0])
		b.inspect("import-left-out")

		b.narrow()
		b.open(domainPage)
		b.waitText("52 users imported")
		b.inspect("import-table-narrow")
	})
}

func TestBulkImportAuthorization(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		owner := a.client()
		owner.login("owner@acme.test")
		id := verifyDomain(t, a, owner, "acme.test")
		base := fmt.Sprintf("/admin/domains/%d/imports", id)

		// Gate off: the routes do not exist for Acme.
		owner.get(base+"/table").want(t, http.StatusNotFound)
		owner.post(base, url.Values{"mode": {"review"}}).want(t, http.StatusNotFound)
		owner.get(fmt.Sprintf("/admin/domains/%d", id)).want(t, http.StatusOK, "This is a gated feature.")

		a.bulkImport(true)
		r := owner.post(base, url.Values{"mode": {"review"}})
		r.want(t, http.StatusSeeOther)
		list, err := a.svc.Imports.List(context.Background(), a.user("owner@acme.test").OrgID(), id)
		if err != nil || len(list) != 1 {
			t.Fatalf("reports: %v %v", list, err)
		}
		report := fmt.Sprintf("%s/%d", base, list[0].ID)
		if err := a.svc.Imports.RunDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		owner.get(report).want(t, http.StatusOK, "Review, notify, import")
		owner.get(report+"/report.csv").want(t, http.StatusOK, "user_id,email,name,signed_up_at,email_verified,accounts,account_ids,eligible,reason")

		// A Standard user is refused; another organization sees nothing.
		sam := a.client()
		sam.login("sam@acme.test")
		sam.get(report).want(t, http.StatusForbidden)
		globex := a.client()
		globex.login("owner@globex.test")
		if _, err := a.svc.Orgs.SetFeature(context.Background(), "Globex", true); err != nil {
			t.Fatal(err)
		}
		globex.get(report).want(t, http.StatusNotFound)
		globex.get(report+"/report.csv").want(t, http.StatusNotFound)
		globex.post(report+"/start", nil).want(t, http.StatusNotFound)
		// A report id of the right organization under another domain id is
		// not found either.
		other := verifyDomain(t, a, owner, "initech.test")
		owner.get(fmt.Sprintf("/admin/domains/%d/imports/%d", other, list[0].ID)).want(t, http.StatusNotFound)
		// Without the CSRF token, nothing starts.
		owner.postRaw(report+"/start", url.Values{}).want(t, http.StatusForbidden)
		if imp, _ := a.svc.Imports.Get(context.Background(), list[0].OrganizationID, id, list[0].ID); imp.Status != imports.Ready {
			t.Errorf("the report is %s after a POST without token", imp.Status)
		}
		// A domain in re-validation refuses a new report with a clear message.
		db.Table("domains").Where("id = ?", id).Update("status", "revalidating")
		owner.post(base, url.Values{"mode": {"review"}}).want(t, http.StatusConflict, "needs re-validation")
	})
}
