package web

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"admincenter/templates"
)

func (s *Server) loginForm(c echo.Context) error {
	next := localPath(c.QueryParam("next"), "/")
	if _, ok := currentUser(c); ok {
		return redirect(c, next)
	}
	return render(c, http.StatusOK, templates.LoginPage(templates.Form{}, next))
}

func (s *Server) login(c echo.Context) error {
	email, next := c.FormValue("email"), localPath(c.FormValue("next"), "/")
	u, err := s.Users.SignIn(c.Request().Context(), email, c.FormValue("password"), c.RealIP())
	if err != nil {
		return renderForm(c, err, map[string]string{"email": email},
			func(f templates.Form) templ.Component { return templates.LoginPage(f, next) })
	}
	if err := s.signIn(c, u, ""); err != nil {
		return err
	}
	return redirect(c, next)
}
