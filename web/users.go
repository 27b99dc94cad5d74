package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"admincenter/internal/apperr"
	"admincenter/internal/orgs"
	"admincenter/internal/users"
	"admincenter/templates"
)

func memberRow(m orgs.Member) templates.MemberRow {
	joined := "—"
	if m.JoinedAt != nil {
		joined = m.JoinedAt.Format("2 Jan 2006")
	}
	return templates.MemberRow{
		ID: m.ID, Name: m.Name, Email: m.Email, Role: m.Role.Label(), Status: m.Status(),
		Joined: joined, Accounts: m.Accounts,
	}
}

// pageParam reads ?page=, treating anything odd as the first page.
func pageParam(c echo.Context) int {
	n, err := strconv.Atoi(c.QueryParam("page"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// idParam reads a numeric id from the path; anything else is not found.
func idParam(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, apperr.New(apperr.NotFound, "There is no page at this address.")
	}
	return id, nil
}

func (s *Server) members(c echo.Context) error {
	u := mustUser(c)
	search := c.QueryParam("q")
	p, err := s.Orgs.Members(c.Request().Context(), u.OrgID(), search, pageParam(c))
	if err != nil {
		return err
	}
	sh, err := s.shell(c, "Users", "users")
	if err != nil {
		return err
	}
	v := templates.UsersView{Search: search, Pager: templates.Pager{
		Number: p.Number, Pages: p.Pages(), Total: p.Total, Noun: "user", Path: "/admin/users",
		Query: url.Values{"q": {search}},
	}}
	if search == "" {
		v.Pager.Query = nil
	}
	for _, m := range p.Items {
		v.Members = append(v.Members, memberRow(m))
	}
	return render(c, http.StatusOK, templates.UsersPage(sh, v))
}

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

// memberChange runs one change to a member and returns to their page with
// a message, or shows the page again with the reason it was refused.
func (s *Server) memberChange(c echo.Context, change func(actorID, targetID int64) error, done string, then string) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	if err := change(mustUser(c).ID, id); err != nil {
		f, ferr := formOf(err, nil)
		if ferr != nil || apperr.CodeOf(err) == apperr.Forbidden {
			return err
		}
		return s.renderMember(c, statusOf[apperr.CodeOf(err)], f)
	}
	if err := flash(c, done); err != nil {
		return err
	}
	return redirect(c, then)
}

func (s *Server) changeRole(c echo.Context) error {
	role := users.Role(c.FormValue("role"))
	return s.memberChange(c, func(actorID, targetID int64) error {
		return s.Orgs.ChangeRole(c.Request().Context(), actorID, targetID, role)
	}, "Role changed to "+role.Label()+".", c.Request().URL.Path[:len(c.Request().URL.Path)-len("/role")])
}

func (s *Server) removeMember(c echo.Context) error {
	return s.memberChange(c, func(actorID, targetID int64) error {
		return s.Orgs.Remove(c.Request().Context(), actorID, targetID)
	}, "The user was removed from the organization. Their login still works as an unmanaged user.", "/admin/users")
}

func (s *Server) transferOwnership(c echo.Context) error {
	return s.memberChange(c, func(actorID, targetID int64) error {
		return s.Orgs.TransferOwnership(c.Request().Context(), actorID, targetID)
	}, "Ownership transferred. You are now an Administrator.", "/admin/users")
}
