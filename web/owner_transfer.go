package web

import (
	"github.com/labstack/echo/v4"

	"admincenter/internal/paths"
)

// transferAcknowledgements is the number of boxes of the Transfer
// ownership dialog.
const transferAcknowledgements = 2

func (s *Server) transferOwnership(c echo.Context) error {
	return s.memberChange(c, transferAcknowledgements, func(actorID, targetID int64) error {
		return s.Orgs.TransferOwnership(c.Request().Context(), actorID, targetID)
	}, "Ownership transferred. You are now an Administrator.", func(int64) string { return paths.Users })
}
