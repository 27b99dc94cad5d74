package web

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"admincenter/internal/paths"
	"admincenter/internal/text"
	"admincenter/templates"
)

// atRisk lists the managed users whom the domain's expiry would remove if
// it ran now, a page at a time. A domain that is not in re-validation gets
// the same page saying that nobody is at risk, not a 404: the links in the
// emails and banners outlive the re-validation they were about.
func (s *Server) atRisk(c echo.Context) error {
	d, err := s.domainParam(c)
	if err != nil {
		return err
	}
	p, err := s.Domains.AtRisk(c.Request().Context(), d, pageParam(c))
	if err != nil {
		return err
	}
	sh, err := s.shell(c, "Users at risk · "+d.UnicodeName, "domains")
	if err != nil {
		return err
	}
	// This page says it all: no banner about its domain.
	sh.Banners = slices.DeleteFunc(sh.Banners, func(b templates.Banner) bool { return b.Link == paths.Domain(d.ID) })
	v := templates.AtRiskView{
		DomainID: d.ID, Unicode: d.UnicodeName, Org: sh.OrgName, State: string(d.Status), Status: d.Status.Label(),
		Deadline: d.DeadlineAt,
		Pager:    templates.Pager{Number: p.Number, Pages: p.Pages(), Total: p.Total, Noun: "user", Path: paths.AtRisk(d.ID)},
	}
	if d.DeadlineAt != nil {
		v.Status += " · " + text.Left(d.DeadlineAt.Sub(s.Now())) + " left"
	}
	for _, u := range p.Items {
		row := templates.AtRiskRow{ID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role.Label(), Status: u.Status()}
		for _, a := range u.Accounts {
			row.Accounts = append(row.Accounts, templates.AccountRow{ID: a.ID, Name: a.Name, CreatedAt: a.CreatedAt})
		}
		v.Users = append(v.Users, row)
	}
	return render(c, http.StatusOK, templates.AtRiskPage(sh, v))
}

// atRiskCSV streams the same list, all of it.
func (s *Server) atRiskCSV(c echo.Context) error {
	d, err := s.domainParam(c)
	if err != nil {
		return err
	}
	startCSV(c, d.Name+"-at-risk-"+s.Now().UTC().Format("2006-01-02")+".csv")
	return s.Domains.WriteAtRiskCSV(c.Request().Context(), c.Response(), d)
}
