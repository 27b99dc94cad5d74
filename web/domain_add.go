package web

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"admincenter/internal/paths"
	"admincenter/templates"
)

func (s *Server) newDomainForm(c echo.Context) error {
	sh, err := s.shell(c, "Add Domain", "domains")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.NewDomainPage(sh, templates.Form{}))
}

func (s *Server) addDomain(c echo.Context) error {
	name := c.FormValue("name")
	d, err := s.Domains.Add(c.Request().Context(), mustUser(c).ID, name)
	if err != nil {
		sh, serr := s.shell(c, "Add Domain", "domains")
		if serr != nil {
			return serr
		}
		return renderForm(c, err, map[string]string{"name": name},
			func(f templates.Form) templ.Component { return templates.NewDomainPage(sh, f) })
	}
	if err := s.flash(c, d.UnicodeName+" was added. Now prove that you own it."); err != nil {
		return err
	}
	return redirect(c, paths.Domain(d.ID))
}
