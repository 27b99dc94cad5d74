package web_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"testing"

	"gorm.io/gorm"

	"admincenter/internal/imports"
	"admincenter/internal/testdb"
	"admincenter/internal/token"
)

// postFile uploads content as the form field "file" with the session's
// CSRF token; chunked sends it without a Content-Length, as a stream.
func (c *client) postFile(path string, content []byte, chunked bool) response {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("_csrf", c.csrf)
	part, _ := w.CreateFormFile("file", "report.csv")
	part.Write(content)
	w.Close()
	var r io.Reader = &body
	if chunked {
		r = io.MultiReader(&body) // a reader of unknown length
	}
	req, _ := http.NewRequest(http.MethodPost, c.app.url+path, r)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

// readyReport verifies acme.test, switches Bulk User Import on and returns
// the path of a ready report of all its users.
func readyReport(t testing.TB, a *app, owner *client) (string, imports.Import) {
	t.Helper()
	id := verifyDomain(t, a, owner, "acme.test")
	a.bulkImport(true)
	page, reportID := latestReport(t, a, owner, id)
	imp, err := a.svc.Imports.Get(context.Background(), a.user("owner@acme.test").OrgID(), id, reportID)
	if err != nil || imp.Status != imports.Ready {
		t.Fatalf("report: %+v, %v", imp, err)
	}
	return page, imp
}

// An upload over the limit gets the report's page, signed in, with why;
// one to a report that can no longer take a file says why too. Neither
// changes anything.
func TestUploadRefusalsShowTheirPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		owner := a.client()
		owner.login("owner@acme.test")
		report, imp := readyReport(t, a, owner)
		owner.get(report)

		big := bytes.Repeat([]byte("x"), imports.UploadLimit+128<<10)
		for _, chunked := range []bool{false, true} {
			r := owner.postFile(report+"/upload", big, chunked)
			r.want(t, http.StatusRequestEntityTooLarge, "The file is larger than 64 MB", "Sign out", "Acme Corp", "Review, notify, import")
			if m := csrfPattern.FindStringSubmatch(r.body); m == nil || token.Unmask(m[1]) != token.Unmask(owner.csrf) || token.Unmask(m[1]) == "" {
				t.Fatal("the forms of the refusal's page have no CSRF token")
			}
		}
		got, err := a.svc.Imports.Get(context.Background(), imp.OrganizationID, imp.DomainID, imp.ID)
		if err != nil || got.UploadedAt != nil || got.Selected != imp.Selected {
			t.Fatalf("a refused upload changed the report: %+v, %v", got, err)
		}

		// Others are still refused before the size is looked at.
		globex := a.client()
		globex.login("owner@globex.test")
		globex.get("/admin/domains")
		globex.postFile(report+"/upload", big, false).want(t, http.StatusNotFound)
		var noToken bytes.Buffer
		w := multipart.NewWriter(&noToken)
		part, _ := w.CreateFormFile("file", "report.csv")
		part.Write([]byte("user_id\r\n"))
		w.Close()
		req, _ := http.NewRequest(http.MethodPost, a.url+report+"/upload", &noToken)
		req.Header.Set("Content-Type", w.FormDataContentType())
		owner.do(req).want(t, http.StatusForbidden, "This form has expired")

		owner.post(report+"/start", nil).want(t, http.StatusSeeOther)
		csv := owner.get(report + "/report.csv").body
		owner.postFile(report+"/upload", []byte(csv), false).
			want(t, http.StatusUnprocessableEntity, "This report is Importing: an edited file can only be uploaded while it is ready and not yet imported.")
	})
}
