package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"admincenter/internal/apperr"
	"admincenter/internal/orgs"
	"admincenter/internal/paths"
	"admincenter/templates"
)

func memberRow(m orgs.Member) templates.MemberRow {
	return templates.MemberRow{
		ID: m.ID, Name: m.Name, Email: m.Email, Role: m.Role.Label(), Status: m.Status(),
		Joined: m.JoinedAt, Accounts: m.Accounts,
	}
}

func (s *Server) members(c echo.Context) error {
	u := mustUser(c)
	search := c.QueryParam("q")
	importID, query := importFilter(c)
	filter := orgs.MemberFilter{Search: search}
	if importID != 0 {
		filter.Among = s.Imports.ImportedUserIDs(importID)
	}
	p, err := s.Orgs.Members(c.Request().Context(), u.OrgID(), filter, pageParam(c))
	var searchError string
	if apperr.CodeOf(err) == apperr.Invalid {
		// A search is a GET: say why next to the box and list without it.
		searchError, filter.Search = apperr.MessageOf(err), ""
		p, err = s.Orgs.Members(c.Request().Context(), u.OrgID(), filter, pageParam(c))
	}
	if err != nil {
		return err
	}
	invitations, err := s.invitationRows(c, u.OrgID())
	if err != nil {
		return err
	}
	sh, err := s.shell(c, "Users", "users")
	if err != nil {
		return err
	}
	v := templates.UsersView{Search: search, SearchError: searchError, Invitations: invitations, Pager: templates.Pager{
		Number: p.Number, Pages: p.Pages(), Total: p.Total, Noun: "user", Path: paths.Users,
	}}
	if filter.Search != "" {
		v.Pager.Query = url.Values{"q": {search}}
	}
	if importID != 0 {
		v.Pager.Query, v.ImportID = query, importID
	}
	for _, m := range p.Items {
		v.Members = append(v.Members, memberRow(m))
	}
	return render(c, http.StatusOK, templates.UsersPage(sh, v))
}
