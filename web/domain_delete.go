package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"admincenter/internal/paths"
	"admincenter/templates"
)

// deleteDomains needs every acknowledgement box of the dialog ticked.
const deleteAcknowledgements = 3

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
			Message: "Nothing was deleted: tick every box to confirm that you understand what deleting the domain does."})
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
