package web

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"admincenter/internal/apperr"
	"admincenter/internal/paths"
	"admincenter/templates"
)

func (s *Server) forgotPasswordForm(c echo.Context) error {
	return render(c, http.StatusOK, templates.ForgotPasswordPage(templates.Form{}, false))
}

func (s *Server) forgotPassword(c echo.Context) error {
	email := c.FormValue("email")
	values := map[string]string{"email": email}
	if err := s.Users.RequestPasswordReset(c.Request().Context(), email); err != nil {
		return renderForm(c, err, values, func(f templates.Form) templ.Component { return templates.ForgotPasswordPage(f, false) })
	}
	return render(c, http.StatusOK, templates.ForgotPasswordPage(templates.Form{Values: values}, true))
}

func (s *Server) resetPasswordForm(c echo.Context) error {
	token := c.QueryParam("token")
	if err := s.Users.CheckResetToken(c.Request().Context(), token); err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			return render(c, http.StatusNotFound, templates.MessagePage("Link not valid", apperr.MessageOf(err), "Ask for a new link", paths.ForgotPassword, false))
		}
		return err
	}
	return render(c, http.StatusOK, templates.ResetPasswordPage(templates.Form{}, token))
}

func (s *Server) resetPassword(c echo.Context) error {
	token := c.FormValue("token")
	u, err := s.Users.ResetPassword(c.Request().Context(), token, c.FormValue("password"))
	if apperr.CodeOf(err) == apperr.NotFound {
		return render(c, http.StatusNotFound, templates.MessagePage("Link not valid", apperr.MessageOf(err), "Ask for a new link", paths.ForgotPassword, false))
	}
	if err != nil {
		return renderForm(c, err, nil, func(f templates.Form) templ.Component { return templates.ResetPasswordPage(f, token) })
	}
	if err := s.signIn(c, u, "Your password was changed. Other sessions were signed out."); err != nil {
		return err
	}
	return redirect(c, "/")
}
