package web

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"admincenter/internal/paths"
	"admincenter/internal/users"
	"admincenter/templates"
)

func (s *Server) signUpForm(c echo.Context) error {
	if _, ok := currentUser(c); ok {
		return redirect(c, "/")
	}
	return render(c, http.StatusOK, templates.SignUpPage(templates.Form{}))
}

func (s *Server) signUp(c echo.Context) error {
	f := users.SignUpForm{Name: c.FormValue("name"), Email: c.FormValue("email"), Password: c.FormValue("password")}
	u, err := s.Users.SignUp(c.Request().Context(), f)
	if err != nil {
		values := map[string]string{"name": f.Name, "email": f.Email}
		return renderForm(c, err, values, func(f templates.Form) templ.Component { return templates.SignUpPage(f) })
	}
	if err := s.signIn(c, u, "Welcome! We sent a verification link to "+u.Email+"."); err != nil {
		return err
	}
	return redirect(c, paths.Accounts)
}
