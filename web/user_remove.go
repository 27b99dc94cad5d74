package web

import (
	"github.com/labstack/echo/v4"

	"admincenter/internal/paths"
)

// removeAcknowledgements is the number of boxes of the Remove user dialog.
const removeAcknowledgements = 2

func (s *Server) removeMember(c echo.Context) error {
	return s.memberChange(c, removeAcknowledgements, func(actorID, targetID int64) error {
		return s.Orgs.Remove(c.Request().Context(), actorID, targetID)
	}, "The user was removed from the organization. Their login still works as an unmanaged user.", func(int64) string { return paths.Users })
}
