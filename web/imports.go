package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"admincenter/internal/apperr"
	"admincenter/internal/domains"
	"admincenter/internal/imports"
	"admincenter/internal/mail"
	"admincenter/internal/paths"
	"admincenter/internal/text"
	"admincenter/templates"
)

// requireBulkImport answers 404 on the routes of Bulk User Import while the
// operator has not switched it on for the organization.
func (s *Server) requireBulkImport(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !organization(c).BulkImport {
			return apperr.New(apperr.NotFound, "There is no page at this address.")
		}
		return next(c)
	}
}

// importIDs reads the domain's and the report's ids of the path; the
// services scope them to the signed-in person's organization.
func importIDs(c echo.Context) (domainID, importID int64, err error) {
	if domainID, err = idParam(c); err != nil {
		return 0, 0, err
	}
	importID, err = strconv.ParseInt(c.Param("import"), 10, 64)
	if err != nil {
		return 0, 0, apperr.New(apperr.NotFound, "There is no page at this address.")
	}
	return domainID, importID, nil
}

// importParams reads the domain and the report of the path, both of the
// signed-in person's organization.
func (s *Server) importParams(c echo.Context) (domains.Domain, imports.Import, error) {
	_, importID, err := importIDs(c)
	if err != nil {
		return domains.Domain{}, imports.Import{}, err
	}
	d, err := s.domainParam(c)
	if err != nil {
		return d, imports.Import{}, err
	}
	imp, err := s.Imports.Get(c.Request().Context(), d.OrganizationID, d.ID, importID)
	return d, imp, err
}

func importLink(imp imports.Import) string {
	return paths.Report(imp.DomainID, imp.ID)
}

var importKinds = map[imports.Status]string{
	imports.Generating: "info", imports.Ready: "info", imports.Importing: "warn",
	imports.Completed: "ok", imports.Failed: "danger",
}

func importRow(imp imports.Import) templates.ImportRow {
	r := templates.ImportRow{
		ID: imp.ID, Link: importLink(imp), CreatedAt: imp.CreatedAt, CreatedBy: imp.CreatedByEmail,
		Scope: imp.Scope.Label(), Status: imp.Status.Label(), StatusKind: importKinds[imp.Status], Progress: imp.Progress(),
		Found: imp.Found, Eligible: imp.Eligible, NotEligible: imp.NotEligible(),
		Ready: imp.Status == imports.Ready, Generating: imp.Status == imports.Generating,
		Finished: imp.Status == imports.Completed || imp.Status == imports.Failed,
		Imported: imp.Imported, NotImported: imp.NotImported(), Error: imp.Error,
		UsersLink: paths.UsersOfImport(imp.ID),
	}
	switch {
	case imp.Status == imports.Generating:
		r.Working = fmt.Sprintf("%d of %s looked at", imp.Found, text.Count(imp.Expected, "user"))
	case imp.Status == imports.Importing:
		r.Working = fmt.Sprintf("%d of %s done", imp.Imported+imp.Skipped, text.Count(imp.Selected, "user"))
	case imp.NotifyRequestedAt != nil && imp.NotifiedAt == nil:
		r.Working, r.Progress = fmt.Sprintf("emailing users: %d of %d", imp.Notified, imp.Selected), imp.Notified*100/max(imp.Selected, 1)
	}
	return r
}

// bulkImportView is the Bulk User Import part of a domain's page.
func (s *Server) bulkImportView(c echo.Context, d domains.Domain, org string) (*templates.BulkImportView, error) {
	if d.Status != domains.Verified && d.Status != domains.Revalidating {
		return nil, nil
	}
	v := &templates.BulkImportView{
		DomainID: d.ID, Unicode: d.UnicodeName, Org: org,
		Verified: d.Status == domains.Verified, Revalidating: d.Status == domains.Revalidating,
	}
	if !organization(c).BulkImport {
		v.Gated = true
		return v, nil
	}
	var err error
	v.Imports, err = s.importsTable(c, d)
	v.Policy = d.SignupPolicy
	return v, err
}

func (s *Server) importsTable(c echo.Context, d domains.Domain) (templates.ImportsTable, error) {
	list, err := s.Imports.List(c.Request().Context(), d.OrganizationID, d.ID)
	t := templates.ImportsTable{DomainID: d.ID}
	for _, imp := range list {
		t.Rows = append(t.Rows, importRow(imp))
		t.Live = t.Live || imp.Active()
	}
	return t, err
}

// importsTableFragment is the table alone, for the page to refresh it.
func (s *Server) importsTableFragment(c echo.Context) error {
	d, err := s.domainParam(c)
	if err != nil {
		return err
	}
	t, err := s.importsTable(c, d)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.ImportsTableView(t))
}

// requestReport records a report from the dialog, or of the new users, or
// of the users left out of earlier imports.
func (s *Server) requestReport(scope imports.Scope) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := idParam(c)
		if err != nil {
			return err
		}
		withoutReview := scope == imports.All && c.FormValue("mode") == "all"
		imp, err := s.Imports.Request(c.Request().Context(), mustUser(c).ID, id, scope, withoutReview)
		if nothing, ok := errors.AsType[imports.NothingNew](err); ok {
			if err := s.inform(c, nothing.Message); err != nil {
				return err
			}
			return redirect(c, paths.Domain(id)+"#bulk-title")
		}
		if apperr.CodeOf(err) == apperr.Conflict {
			return s.renderDomain(c, http.StatusConflict, templates.Form{Message: apperr.MessageOf(err)})
		}
		if err != nil {
			return err
		}
		msg := "The report is being generated. It appears in the table below when it is ready."
		if withoutReview {
			msg = "The report is being generated; every eligible user is then imported without review."
		}
		if err := s.flash(c, msg); err != nil {
			return err
		}
		return redirect(c, paths.Domain(imp.DomainID)+"#bulk-title")
	}
}

func (s *Server) showImport(c echo.Context) error {
	return s.renderImport(c, http.StatusOK, "")
}

func (s *Server) renderImport(c echo.Context, status int, uploadError string) error {
	d, imp, err := s.importParams(c)
	if err != nil {
		return err
	}
	sh, err := s.shell(c, fmt.Sprintf("Report #%d of %s", imp.ID, d.UnicodeName), "domains")
	if err != nil {
		return err
	}
	v, err := s.importView(c, d, imp, uploadError)
	if err != nil {
		return err
	}
	return render(c, status, templates.ImportPage(sh, v))
}

// importLiveFragment is the part of a report's page that follows its
// progress, alone, for the page to refresh it.
func (s *Server) importLiveFragment(c echo.Context) error {
	d, imp, err := s.importParams(c)
	if err != nil {
		return err
	}
	v, err := s.importView(c, d, imp, "")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.ImportLive(v))
}

func (s *Server) importView(c echo.Context, d domains.Domain, imp imports.Import, uploadError string) (templates.ImportView, error) {
	ctx := c.Request().Context()
	v := templates.ImportView{
		Row: importRow(imp), DomainID: d.ID, Unicode: d.UnicodeName, Org: organization(c).Name,
		Live:     imp.Status == imports.Generating || imp.Status == imports.Importing, // a ready report's upload form must stay as chosen
		Selected: imp.Selected, UploadError: uploadError, StartedBy: imp.StartedByEmail, StartedAt: imp.StartedAt,
		FinishedAt: imp.FinishedAt,
	}
	v.Selection = fmt.Sprintf("All %s eligible", text.Count(imp.Selected, "user"))
	if imp.UploadedAt != nil {
		v.Selection = fmt.Sprintf("%s kept in the file uploaded %s", text.Count(imp.Selected, "user"), text.TimeOf(imp.UploadedAt))
	}
	if imp.Status == imports.Generating {
		v.Selection = "Known when the report is ready"
	}
	v.NotifyStatus = notifyStatus(imp)
	if imp.Status == imports.Generating {
		return v, nil
	}
	counts, err := s.Imports.ReasonCounts(ctx, imp)
	if err != nil {
		return v, err
	}
	for _, rc := range counts {
		v.ReasonCounts = append(v.ReasonCounts, templates.ReasonCount{Reason: rc.Reason.Label(), Count: rc.Count})
	}
	p, err := s.Imports.NotImported(ctx, imp, pageParam(c))
	if err != nil {
		return v, err
	}
	for _, r := range p.Items {
		v.NotImported = append(v.NotImported, templates.NotImportedRow{Email: r.Email, Name: r.Name, Reason: r.OutcomeReason.Label()})
	}
	v.Pager = templates.Pager{Number: p.Number, Pages: p.Pages(), Total: p.Total, Noun: "user", Path: importLink(imp)}
	return v, nil
}

func notifyStatus(imp imports.Import) string {
	switch {
	case imp.NotifyRequestedAt == nil:
		return ""
	case imp.NotifiedAt == nil:
		return fmt.Sprintf("Emailing the users, at the request of %s: %d of %d so far.", imp.NotifyRequestedBy, imp.Notified, imp.Selected)
	}
	return fmt.Sprintf("%s emailed on %s, at the request of %s.", text.Count(imp.Notified, "user"), text.TimeOf(imp.NotifiedAt), imp.NotifyRequestedBy)
}

// reportCSV streams the report; its memory stays flat whatever its size.
func (s *Server) reportCSV(c echo.Context) error {
	return s.streamCSV(c, "report", s.Imports.WriteReport)
}

func (s *Server) resultsCSV(c echo.Context) error {
	return s.streamCSV(c, "results", s.Imports.WriteResults)
}

func (s *Server) streamCSV(c echo.Context, kind string, write func(ctx context.Context, w io.Writer, imp imports.Import) error) error {
	d, imp, err := s.importParams(c)
	if err != nil {
		return err
	}
	if imp.Status == imports.Generating {
		return apperr.New(apperr.Conflict, "The report is still being generated: download it when it is ready.")
	}
	startCSV(c, fmt.Sprintf("%s-%s-%d.csv", d.Name, kind, imp.ID))
	return write(c.Request().Context(), c.Response(), imp)
}

// uploadMemory is how much of an upload is held in memory; the rest of the
// file waits in a temporary file.
const uploadMemory = 1 << 20

// readUpload reads an upload of at most imports.UploadLimit (and the form
// around it). A larger one changes nothing and gets the report's page
// with why, without its CSRF token checked: there is nothing to protect,
// and the token may be in the part of the body that is not read.
func (s *Server) readUpload(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		exposeCSRF(c) // for the forms of a refusal's page
		r := c.Request()
		limit := int64(imports.UploadLimit + 64<<10)
		tooLarge := func() error {
			// A browser still sending the file may not show an answer that
			// comes before the end of its request: read the rest away
			// first, as far as reason goes.
			io.Copy(io.Discard, io.LimitReader(r.Body, 4*limit))
			return s.renderImport(c, http.StatusRequestEntityTooLarge, apperr.MessageOf(imports.ErrTooLarge))
		}
		if r.ContentLength > limit {
			return tooLarge()
		}
		body := r.Body
		r.Body = http.MaxBytesReader(c.Response(), body, limit)
		if err := r.ParseMultipartForm(uploadMemory); err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				r.Body = body
				return tooLarge()
			}
			return s.renderImport(c, http.StatusBadRequest, "The upload could not be read: send the file from the form on this page.")
		}
		return next(c)
	}
}

func (s *Server) uploadReport(c echo.Context) error {
	domainID, importID, err := importIDs(c)
	if err != nil {
		return err
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return s.renderImport(c, http.StatusUnprocessableEntity, "Choose the edited CSV file to upload.")
	}
	file, err := fh.Open()
	if err != nil {
		return err
	}
	defer file.Close()
	u := mustUser(c)
	imp, err := s.Imports.Upload(c.Request().Context(), u.ID, u.OrgID(), domainID, importID, file)
	if apperr.CodeOf(err) == apperr.Invalid {
		return s.renderImport(c, http.StatusUnprocessableEntity, apperr.MessageOf(err))
	}
	if err != nil {
		return err
	}
	if err := s.flash(c, fmt.Sprintf("The edited file was accepted: the import takes the %s it kept.", text.Count(imp.Selected, "eligible user"))); err != nil {
		return err
	}
	return redirect(c, importLink(imp))
}

func (s *Server) startImportPanel(c echo.Context) error {
	return s.renderStartPanel(c, http.StatusOK, "")
}

func (s *Server) renderStartPanel(c echo.Context, status int, message string) error {
	d, imp, err := s.importParams(c)
	if err != nil {
		return err
	}
	if imp.Status != imports.Ready && message == "" {
		return redirect(c, importLink(imp))
	}
	sh, err := s.shell(c, "Start import", "domains")
	if err != nil {
		return err
	}
	accounts, err := s.Imports.SelectedAccounts(c.Request().Context(), imp)
	if err != nil {
		return err
	}
	v := templates.StartImportView{
		DomainID: d.ID, Unicode: d.UnicodeName, Org: sh.OrgName, Link: importLink(imp), ID: imp.ID,
		Selected: imp.Selected, Accounts: accounts, Notified: notifyStatus(imp), Message: message,
	}
	return render(c, status, templates.StartImportPage(sh, v))
}

func (s *Server) startImport(c echo.Context) error {
	domainID, importID, err := importIDs(c)
	if err != nil {
		return err
	}
	imp, err := s.Imports.Start(c.Request().Context(), mustUser(c).ID, domainID, importID)
	if apperr.CodeOf(err) == apperr.Conflict {
		return s.renderStartPanel(c, http.StatusConflict, apperr.MessageOf(err))
	}
	if err != nil {
		return err
	}
	if err := s.flash(c, fmt.Sprintf("The import of %s has started. You can leave this page: it goes on in the background.", text.Count(imp.Selected, "user"))); err != nil {
		return err
	}
	return redirect(c, importLink(imp))
}

func (s *Server) notifyForm(c echo.Context) error {
	d, imp, err := s.importParams(c)
	if err != nil {
		return err
	}
	sh, err := s.shell(c, "Notify your users", "domains")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.NotifyPage(sh, s.notifyView(c, d, imp)))
}

// notifyLiveFragment is the part of the notify page that follows the
// emailing, alone, for the page to refresh it.
func (s *Server) notifyLiveFragment(c echo.Context) error {
	d, imp, err := s.importParams(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.NotifyLive(s.notifyView(c, d, imp)))
}

func (s *Server) notifyView(c echo.Context, d domains.Domain, imp imports.Import) templates.NotifyView {
	u := mustUser(c)
	notice := mail.ImportNotice("", organization(c).Name, d.UnicodeName, u.Name+" ("+u.Email+")")
	return templates.NotifyView{
		DomainID: d.ID, Unicode: d.UnicodeName, Link: importLink(imp), ID: imp.ID,
		Subject: notice.Subject, Body: notice.Body, Selected: imp.Selected, Status: notifyStatus(imp),
		CanSend: imp.Status == imports.Ready && imp.Selected > 0,
		Sending: imp.NotifyRequestedAt != nil && imp.NotifiedAt == nil,
	}
}

func (s *Server) notifyUsers(c echo.Context) error {
	domainID, importID, err := importIDs(c)
	if err != nil {
		return err
	}
	imp, err := s.Imports.RequestNotify(c.Request().Context(), mustUser(c).ID, domainID, importID)
	if err != nil {
		return err
	}
	if err := s.flash(c, fmt.Sprintf("We are emailing the %s of this import.", text.Count(imp.Selected, "user"))); err != nil {
		return err
	}
	return redirect(c, importLink(imp)+"/notify")
}

func (s *Server) leftOut(c echo.Context) error {
	d, err := s.domainParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := mustUser(c)
	p, err := s.Imports.LeftOut(ctx, u.OrgID(), d.ID, d.Name, pageParam(c))
	if err != nil {
		return err
	}
	sh, err := s.shell(c, "Users not included in earlier imports", "domains")
	if err != nil {
		return err
	}
	v := templates.LeftOutView{
		DomainID: d.ID, Unicode: d.UnicodeName, Org: sh.OrgName, Verified: d.Status == domains.Verified,
		Pager: templates.Pager{Number: p.Number, Pages: p.Pages(), Total: p.Total, Noun: "user",
			Path: paths.LeftOut(d.ID)},
	}
	for _, r := range p.Items {
		v.Rows = append(v.Rows, templates.NotImportedRow{Email: r.Email, Name: r.Name, Reason: r.Reason.Label()})
	}
	return render(c, http.StatusOK, templates.LeftOutPage(sh, v))
}

func (s *Server) saveDomainSettings(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	err = s.Imports.SetPolicy(c.Request().Context(), mustUser(c).ID, id, imports.SignupPolicy(c.FormValue("policy")))
	if apperr.CodeOf(err) == apperr.Invalid {
		return s.renderDomain(c, http.StatusUnprocessableEntity, templates.Form{Message: apperr.MessageOf(err)})
	}
	if err != nil {
		return err
	}
	if err := s.flash(c, "Domain settings saved: "+imports.SignupPolicy(c.FormValue("policy")).Label()+"."); err != nil {
		return err
	}
	return redirect(c, paths.Domain(id)+"#settings-title")
}

// importFilter is the Users page's filter to one import's users.
func importFilter(c echo.Context) (int64, url.Values) {
	id, err := strconv.ParseInt(c.QueryParam("import"), 10, 64)
	if err != nil || id < 1 {
		return 0, nil
	}
	return id, url.Values{"import": {c.QueryParam("import")}}
}
