package web

import (
	"strings"

	"github.com/labstack/echo/v4"

	"admincenter/internal/paths"
	"admincenter/internal/text"
)

// addBack adds back the users the domain's last expiry removed.
func (s *Server) addBack(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	added, skipped, err := s.Domains.AddBack(c.Request().Context(), mustUser(c).ID, id)
	if err != nil {
		return err
	}
	msg := "Added back and emailed: " + text.Count(len(added), "user") + "."
	if len(skipped) > 0 {
		msg += " Not added back: " + strings.Join(skipped, ", ") + "."
	}
	if err := s.flash(c, msg); err != nil {
		return err
	}
	return redirect(c, paths.Domain(id))
}
