package web

import (
	"fmt"

	"github.com/labstack/echo/v4"

	"admincenter/internal/apperr"
	"admincenter/internal/domains"
	"admincenter/internal/verify"
	"admincenter/templates"
)

// verifyDomain checks the domain now and shows the domain's page with the
// outcome and, when not proven, the diagnostics.
func (s *Server) verifyDomain(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	method := verify.Method(c.FormValue("method"))
	d, report, err := s.Domains.Verify(c.Request().Context(), mustUser(c).ID, id, method)
	page := fmt.Sprintf("/admin/domains/%d?tab=%s", id, method)
	switch {
	case err == domains.ErrVerifiedElsewhere:
		return s.renderDomain(c, statusOf[apperr.Conflict], templates.Form{Message: apperr.MessageOf(err)})
	case err != nil:
		return err
	case d.Status == domains.Verified:
		proof, _ := report.Proof()
		if err := s.flash(c, d.UnicodeName+" is verified: "+proof.Summary); err != nil {
			return err
		}
		return redirect(c, fmt.Sprintf("/admin/domains/%d", id))
	}
	msg := "Not verified yet. See below what we looked for and what we found."
	if d.Status == domains.Revalidating {
		msg = fmt.Sprintf("The proof of %s is missing. Restore it before %s, or the domain will be deleted from your organization. See below what we looked for and what we found.",
			d.UnicodeName, d.DeadlineAt.UTC().Format("2 Jan 2006 15:04 UTC"))
	}
	if err := s.warn(c, msg); err != nil {
		return err
	}
	return redirect(c, page+"#last-check")
}
