package web

import (
	"fmt"
	"strings"

	"github.com/labstack/echo/v4"
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
	msg := fmt.Sprintf("%d %s added back and emailed.", len(added), pluralWord(len(added), "user was", "users were"))
	if len(skipped) > 0 {
		msg += " Not added back: " + strings.Join(skipped, ", ") + "."
	}
	if err := s.flash(c, msg); err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/admin/domains/%d", id))
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
