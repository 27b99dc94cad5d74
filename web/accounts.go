package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"admincenter/internal/orgs"
	"admincenter/internal/paths"
	"admincenter/templates"
)

func (s *Server) accounts(c echo.Context) error {
	return s.renderAccounts(c, http.StatusOK, templates.Form{})
}

func (s *Server) renderAccounts(c echo.Context, status int, f templates.Form) error {
	u := mustUser(c)
	list, err := s.Users.Accounts(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	sh, err := s.shell(c, "Your accounts", "accounts")
	if err != nil {
		return err
	}
	v := templates.AccountsView{
		EmailVerified: u.EmailVerified(), Email: u.Email, Managed: u.Managed(),
		CanCreateOrg: orgs.CanCreate(u) == nil, Form: f,
	}
	for _, a := range list {
		v.Accounts = append(v.Accounts, templates.AccountRow{ID: a.ID, Name: a.Name, CreatedAt: a.CreatedAt})
	}
	return render(c, status, templates.AccountsPage(sh, v))
}

func (s *Server) createAccount(c echo.Context) error {
	name := c.FormValue("name")
	a, err := s.Users.CreateAccount(c.Request().Context(), mustUser(c).ID, name)
	if err != nil {
		f, ferr := formOf(err, map[string]string{"name": name})
		if ferr != nil {
			return ferr
		}
		return s.renderAccounts(c, http.StatusUnprocessableEntity, f)
	}
	if err := s.flash(c, "Account “"+a.Name+"” created."); err != nil {
		return err
	}
	return redirect(c, paths.Accounts)
}
