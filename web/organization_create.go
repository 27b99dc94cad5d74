package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"admincenter/internal/apperr"
	"admincenter/templates"
)

func (s *Server) newOrganizationForm(c echo.Context) error {
	return s.renderNewOrganization(c, http.StatusOK, templates.Form{})
}

func (s *Server) renderNewOrganization(c echo.Context, status int, f templates.Form) error {
	u := mustUser(c)
	if u.Managed() {
		return apperr.New(apperr.Conflict, "You already belong to an organization. A person can be managed by only one organization.")
	}
	sh, err := s.shell(c, "Create an organization", "accounts")
	if err != nil {
		return err
	}
	if !u.EmailVerified() && f.Message == "" {
		f.Message = "Verify your email address before you create an organization."
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
	if err := flash(c, "Organization “"+org.Name+"” created. You are its Owner."); err != nil {
		return err
	}
	return redirect(c, "/admin/domains")
}
