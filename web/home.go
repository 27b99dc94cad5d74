package web

import "github.com/labstack/echo/v4"

// home sends people where they most likely want to be.
func (s *Server) home(c echo.Context) error {
	u, ok := currentUser(c)
	switch {
	case !ok:
		return redirect(c, "/login")
	case u.CanAdminister():
		return redirect(c, "/admin/domains")
	}
	return redirect(c, "/accounts")
}

func (s *Server) adminHome(c echo.Context) error { return redirect(c, "/admin/domains") }
