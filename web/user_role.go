package web

import (
	"github.com/labstack/echo/v4"

	"admincenter/internal/paths"
	"admincenter/internal/users"
)

func (s *Server) changeRole(c echo.Context) error {
	role := users.Role(c.FormValue("role"))
	return s.memberChange(c, 0, func(actorID, targetID int64) error {
		return s.Orgs.ChangeRole(c.Request().Context(), actorID, targetID, role)
	}, "Role changed to "+role.Label()+".", paths.Member)
}
