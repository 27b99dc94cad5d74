package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"admincenter/internal/paths"
	"admincenter/templates"
)

// deleteAcknowledgements is the number of boxes of the Delete Domain
// dialog: one, under the list of what deleting does.
const deleteAcknowledgements = 1

func (s *Server) deleteDomain(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ok, err := acknowledged(c, deleteAcknowledgements)
	if err != nil {
		return err
	}
	if !ok {
		return s.renderDomain(c, http.StatusUnprocessableEntity, templates.Form{
			Message: "Nothing was deleted: tick the box to confirm that you understand what deleting the domain does."})
	}
	d, err := s.Domains.Delete(c.Request().Context(), mustUser(c).ID, id)
	if err != nil {
		return err
	}
	if err := s.flash(c, d.UnicodeName+" was deleted. Managed users at it stay in the organization."); err != nil {
		return err
	}
	return redirect(c, paths.Domains)
}
