package web

import (
	"github.com/labstack/echo/v4"

	"admincenter/internal/paths"
)

// home sends people where they most likely want to be.
func (s *Server) home(c echo.Context) error {
	u, ok := currentUser(c)
	switch {
	case !ok:
		return redirect(c, paths.Login)
	case u.CanAdminister():
		return redirect(c, paths.Domains)
	}
	return redirect(c, paths.Accounts)
}

func (s *Server) adminHome(c echo.Context) error { return redirect(c, paths.Domains) }
