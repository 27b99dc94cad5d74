package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"admincenter/internal/apperr"
	"admincenter/internal/users"
	"admincenter/templates"
)

func (s *Server) member(c echo.Context) error {
	return s.renderMember(c, http.StatusOK, templates.Form{})
}

func (s *Server) renderMember(c echo.Context, status int, f templates.Form) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	u := mustUser(c)
	m, err := s.Orgs.Member(c.Request().Context(), u.OrgID(), id)
	if err != nil {
		return err
	}
	sh, err := s.shell(c, m.Name, "users")
	if err != nil {
		return err
	}
	if m.Role == users.Owner || m.ID == u.ID {
		// No role form on this page: say at the top why the change failed.
		f.Message += f.Error("role")
	}
	return render(c, status, templates.MemberPage(sh, templates.MemberView{
		Member: memberRow(m), RoleValue: string(m.Role), IsSelf: m.ID == u.ID,
		ViewerIsOwner: u.Role == users.Owner, Form: f,
	}))
}

// memberChange runs one change to a member, once the acks boxes of its
// dialog are ticked, and goes to the next page, given the member's id, with
// a message, or shows the member's page again with the reason it was
// refused.
func (s *Server) memberChange(c echo.Context, acks int, change func(actorID, targetID int64) error, done string, next func(id int64) string) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ok, err := acknowledged(c, acks)
	if err != nil {
		return err
	}
	if !ok {
		return s.renderMember(c, http.StatusUnprocessableEntity, templates.Form{
			Message: "Nothing changed: tick every box to confirm that you understand what this does."})
	}
	if err := change(mustUser(c).ID, id); err != nil {
		f, ferr := formOf(err, nil)
		if ferr != nil || apperr.CodeOf(err) == apperr.Forbidden {
			return err
		}
		return s.renderMember(c, statusOf[apperr.CodeOf(err)], f)
	}
	if err := s.flash(c, done); err != nil {
		return err
	}
	return redirect(c, next(id))
}
