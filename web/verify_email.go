package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"admincenter/internal/apperr"
	"admincenter/templates"
)

// verifyEmail is the link in the verification email.
func (s *Server) verifyEmail(c echo.Context) error {
	u, err := s.Users.VerifyEmail(c.Request().Context(), c.QueryParam("token"))
	if apperr.CodeOf(err) == apperr.NotFound {
		return render(c, http.StatusNotFound, templates.MessagePage("Email not verified", apperr.MessageOf(err), "Sign in", "/login", false))
	}
	if err != nil {
		return err
	}
	if cur, ok := currentUser(c); ok && cur.ID == u.ID {
		if err := flash(c, "Thank you: your email address "+u.Email+" is verified."); err != nil {
			return err
		}
		return redirect(c, "/accounts")
	}
	return render(c, http.StatusOK, templates.MessagePage("Email verified", "Thank you: "+u.Email+" is verified. You can now sign in.", "Sign in", "/login", true))
}

func (s *Server) resendVerification(c echo.Context) error {
	u := mustUser(c)
	if err := s.Users.ResendVerification(c.Request().Context(), u.ID); err != nil {
		return err
	}
	if err := flash(c, "We sent a new verification link to "+u.Email+"."); err != nil {
		return err
	}
	return redirect(c, "/accounts")
}
