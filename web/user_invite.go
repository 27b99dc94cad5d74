package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"admincenter/internal/apperr"
	"admincenter/internal/invites"
	"admincenter/internal/paths"
	"admincenter/internal/text"
	"admincenter/internal/users"
	"admincenter/templates"
)

func (s *Server) inviteForm(c echo.Context) error {
	return s.renderInvite(c, http.StatusOK, templates.Form{})
}

func (s *Server) renderInvite(c echo.Context, status int, f templates.Form) error {
	ctx, orgID := c.Request().Context(), mustUser(c).OrgID()
	names, err := s.Domains.VerifiedNames(ctx, orgID)
	if err != nil {
		return err
	}
	warnings, err := s.Domains.Warnings(ctx, orgID)
	if err != nil {
		return err
	}
	sh, err := s.shell(c, "Invite user", "users")
	if err != nil {
		return err
	}
	v := templates.InviteView{Form: f, Domains: names, Valid: text.Duration(invites.TTL)}
	for _, w := range warnings {
		v.Revalidating = append(v.Revalidating, w.Name)
	}
	return render(c, status, templates.InvitePage(sh, v))
}

func (s *Server) invite(c echo.Context) error {
	email, role := c.FormValue("email"), users.Role(c.FormValue("role"))
	inv, err := s.Invites.Invite(c.Request().Context(), mustUser(c).ID, email, role)
	if err != nil {
		f, ferr := formOf(err, map[string]string{"email": email, "role": string(role)})
		if ferr != nil {
			return ferr
		}
		return s.renderInvite(c, statusOf[apperr.CodeOf(err)], f)
	}
	if err := s.flash(c, "Invitation sent to "+inv.Email+". The link is valid for "+text.Duration(invites.TTL)+"."); err != nil {
		return err
	}
	return redirect(c, paths.Invitations)
}

// invitationRows lists the organization's open invitations for the Users page.
func (s *Server) invitationRows(c echo.Context, orgID int64) ([]templates.InvitationRow, error) {
	open, err := s.Invites.Open(c.Request().Context(), orgID)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	rows := make([]templates.InvitationRow, len(open))
	for i, inv := range open {
		rows[i] = templates.InvitationRow{ID: inv.ID, Email: inv.Email, Role: inv.Role.Label(), SentAt: inv.SentAt, Expires: inv.ExpiresAt, Expired: inv.Expired(now)}
	}
	return rows, nil
}
