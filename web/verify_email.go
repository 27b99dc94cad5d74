package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"admincenter/internal/apperr"
	"admincenter/internal/paths"
	"admincenter/templates"
)

// verifyEmailForm is the link in the verification email. It only asks to
// confirm: opening a link (as mail scanners do) changes nothing.
func (s *Server) verifyEmailForm(c echo.Context) error {
	token := c.QueryParam("token")
	u, err := s.Users.CheckVerifyToken(c.Request().Context(), token)
	if apperr.CodeOf(err) == apperr.NotFound {
		return render(c, http.StatusNotFound, templates.MessagePage("Email not verified", apperr.MessageOf(err), "Sign in", paths.Login, false))
	}
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.VerifyEmailPage(u.Email, token))
}

func (s *Server) verifyEmail(c echo.Context) error {
	u, err := s.Users.VerifyEmail(c.Request().Context(), c.FormValue("token"))
	if apperr.CodeOf(err) == apperr.NotFound {
		return render(c, http.StatusNotFound, templates.MessagePage("Email not verified", apperr.MessageOf(err), "Sign in", paths.Login, false))
	}
	if err != nil {
		return err
	}
	if cur, ok := currentUser(c); ok && cur.ID == u.ID {
		if err := s.flash(c, "Thank you: your email address "+u.Email+" is verified."); err != nil {
			return err
		}
		return redirect(c, paths.Accounts)
	}
	return render(c, http.StatusOK, templates.MessagePage("Email verified", "Thank you: "+u.Email+" is verified. You can now sign in.", "Sign in", paths.Login, true))
}

func (s *Server) resendVerification(c echo.Context) error {
	u := mustUser(c)
	if err := s.Users.ResendVerification(c.Request().Context(), u.ID); err != nil {
		return err
	}
	if err := s.flash(c, "We sent a new verification link to "+u.Email+"."); err != nil {
		return err
	}
	return redirect(c, paths.Accounts)
}
