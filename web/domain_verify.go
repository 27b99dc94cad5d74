package web

import (
	"errors"
	"fmt"

	"github.com/labstack/echo/v4"

	"admincenter/internal/apperr"
	"admincenter/internal/domains"
	"admincenter/internal/paths"
	"admincenter/internal/text"
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
	page := paths.DomainTab(id, string(method))
	switch {
	case errors.Is(err, domains.ErrVerifiedElsewhere):
		return s.renderDomain(c, statusOf[apperr.Conflict], templates.Form{Message: apperr.MessageOf(err)})
	case err != nil:
		return err
	case d.Status == domains.Verified:
		notice := s.flash
		if _, proven := report.Proof(); !proven {
			notice = s.warn
		}
		if err := notice(c, s.verifiedNotice(d, report)); err != nil {
			return err
		}
		return redirect(c, paths.Domain(id))
	}
	msg := "Not verified yet. See below what we looked for and what we found."
	if d.Status == domains.Revalidating {
		msg = fmt.Sprintf("The proof of %s is missing. Restore it before %s, or the domain will be deleted from your organization. See below what we looked for and what we found.",
			d.UnicodeName, text.TimeOf(d.DeadlineAt))
	}
	if err := s.warn(c, msg); err != nil {
		return err
	}
	return redirect(c, page+"#last-check")
}

// verifiedNotice says why a domain is verified after a click: the proof
// found, or, when its check could not be completed, that it stays
// verified, why, and from when failing checks would count as a missing
// proof.
func (s *Server) verifiedNotice(d domains.Domain, report domains.Report) string {
	if proof, ok := report.Proof(); ok {
		return d.UnicodeName + " is verified: " + proof.Summary
	}
	check := report.Decisive(d.VerifiedMethod)
	msg := fmt.Sprintf("%s stays verified: the check of its %s could not be completed. %s", d.UnicodeName, check.Method.Label(), check.Summary)
	if from, ok := s.Domains.MissingFrom(d); ok {
		msg += " If the checks keep failing, from " + text.Time(from) +
			" they count as a missing proof and re-validation starts."
	}
	return msg
}
