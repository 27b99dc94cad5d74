package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"admincenter/internal/apperr"
	"admincenter/internal/orgs"
	"admincenter/internal/paths"
	"admincenter/templates"
)

func (s *Server) newOrganizationForm(c echo.Context) error {
	return s.renderNewOrganization(c, http.StatusOK, templates.Form{})
}

func (s *Server) renderNewOrganization(c echo.Context, status int, f templates.Form) error {
	err := orgs.CanCreate(mustUser(c))
	if apperr.CodeOf(err) == apperr.Conflict {
		return err
	}
	if err != nil && f.Message == "" {
		f.Message = apperr.MessageOf(err)
	}
	sh, err := s.shell(c, "Create an organization", "accounts")
	if err != nil {
		return err
	}
	return render(c, status, templates.NewOrganizationPage(sh, f))
}

func (s *Server) createOrganization(c echo.Context) error {
	name := c.FormValue("name")
	org, err := s.Orgs.Create(c.Request().Context(), mustUser(c).ID, name)
	if err != nil {
		f, ferr := formOf(err, map[string]string{"name": name})
		if ferr != nil {
			return ferr
		}
		return s.renderNewOrganization(c, statusOf[apperr.CodeOf(err)], f)
	}
	if err := s.flash(c, "Organization “"+org.Name+"” created. You are its Owner."); err != nil {
		return err
	}
	return redirect(c, paths.Domains)
}
