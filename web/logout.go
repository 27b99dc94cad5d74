package web

import (
	"github.com/labstack/echo/v4"

	"admincenter/internal/paths"
)

func (s *Server) logout(c echo.Context) error {
	if u, ok := currentUser(c); ok {
		if err := s.Users.RecordSignOut(c.Request().Context(), u); err != nil {
			return err
		}
	}
	if err := s.signOut(c); err != nil {
		return err
	}
	return redirect(c, paths.Login)
}
