package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"admincenter/templates"
)

func (s *Server) domains(c echo.Context) error {
	sh, err := s.shell(c, "Domains", "domains")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.DomainsEmptyPage(sh))
}
