package web

import (
	"github.com/labstack/echo/v4"

	"admincenter/internal/invites"
	"admincenter/internal/paths"
	"admincenter/internal/text"
)

func (s *Server) resendInvitation(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	inv, err := s.Invites.Resend(c.Request().Context(), mustUser(c).ID, id)
	if err != nil {
		return err
	}
	if err := s.flash(c, "Invitation sent again to "+inv.Email+", with a new link valid for "+text.Duration(invites.TTL)+"."); err != nil {
		return err
	}
	return redirect(c, paths.Invitations)
}

func (s *Server) cancelInvitation(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	inv, err := s.Invites.Cancel(c.Request().Context(), mustUser(c).ID, id)
	if err != nil {
		return err
	}
	if err := s.flash(c, "The invitation to "+inv.Email+" was cancelled; its link no longer works."); err != nil {
		return err
	}
	return redirect(c, paths.Invitations)
}
