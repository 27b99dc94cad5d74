package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/domains"
	"admincenter/internal/paths"
	"admincenter/templates"
)

func auditRows(entries []audit.Entry) []templates.AuditRow {
	rows := make([]templates.AuditRow, len(entries))
	for i, e := range entries {
		rows[i] = templates.AuditRow{
			At: e.CreatedAt, Actor: e.Actor, Action: audit.Describe(e.Action), Code: e.Action, Target: e.Target, Details: e.Details,
		}
	}
	return rows
}

// auditLog shows a page of the organization's audit log, filtered by its
// GET form. A filter value that cannot be used is said next to its field
// and filters nothing; it is never an error page.
func (s *Server) auditLog(c echo.Context) error {
	u := mustUser(c)
	ctx := c.Request().Context()
	form := auditForm(c)
	choices, err := s.auditDomains(ctx, u.OrgID())
	if err != nil {
		return err
	}
	checked := form.Check(choices)
	p, err := s.Audit.Page(ctx, u.OrgID(), checked.Filter, pageParam(c))
	if err != nil {
		return err
	}
	sh, err := s.shell(c, "Audit log", "audit")
	if err != nil {
		return err
	}
	applied := paths.AuditFilter(checked.Applied)
	v := templates.AuditView{
		Filter: templates.AuditFilterForm{
			Actor: form.Actor, Action: form.Action, Domain: form.Domain, From: form.From, To: form.To,
			Errors: checked.Problems, Actions: auditActionChoices(), Domains: auditDomainChoices(choices),
		},
		Rows:     auditRows(p.Items),
		Pager:    templates.Pager{Number: p.Number, Pages: p.Pages(), Total: p.Total, Noun: "entry", Path: paths.Audit, Query: applied.Query()},
		Filtered: applied != paths.AuditFilter{},
		CSV:      paths.AuditCSVFiltered(applied),
	}
	return render(c, http.StatusOK, templates.AuditPage(sh, v))
}

// auditCSV streams the organization's entries that the filter keeps, as
// the page's Download CSV link asks. The link carries only values the page
// could use; any other is refused rather than silently dropped, so that a
// file never holds other entries than those asked for.
func (s *Server) auditCSV(c echo.Context) error {
	u := mustUser(c)
	ctx := c.Request().Context()
	choices, err := s.auditDomains(ctx, u.OrgID())
	if err != nil {
		return err
	}
	checked := auditForm(c).Check(choices)
	for _, field := range []string{"actor", "action", "domain", "from", "to"} {
		if msg := checked.Problems[field]; msg != "" {
			return apperr.Field(field, msg)
		}
	}
	name := "audit-log"
	if d := checked.Filter.Domain; d != nil {
		name += "-" + d.Name
	}
	name += "-" + s.Now().UTC().Format("2006-01-02") + ".csv"
	startCSV(c, name)
	return s.Audit.WriteCSV(ctx, c.Response(), u.OrgID(), checked.Filter)
}

// auditForm reads the audit log's filter from the query, as
// paths.AuditFilter writes it.
func auditForm(c echo.Context) audit.Form {
	return audit.Form{
		Actor: c.QueryParam("actor"), Action: c.QueryParam("action"), Domain: c.QueryParam("domain"),
		From: c.QueryParam("from"), To: c.QueryParam("to"),
	}
}

// auditDomains are the organization's domains, as the audit log's filter
// finds the entries about them.
func (s *Server) auditDomains(ctx context.Context, orgID int64) ([]audit.Domain, error) {
	list, err := s.Domains.List(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := make([]audit.Domain, len(list))
	for i, d := range list {
		out[i] = audit.Domain{ID: d.ID, Name: d.Name, Unicode: d.UnicodeName, At: domains.AtDomain}
	}
	return out, nil
}

func auditActionChoices() []templates.AuditOptionGroup {
	groups := make([]templates.AuditOptionGroup, len(audit.Groups))
	for i, g := range audit.Groups {
		groups[i].Label = g.Name
		for _, a := range g.Actions {
			groups[i].Options = append(groups[i].Options, templates.AuditOption{Value: a.Code, Label: a.Words})
		}
	}
	return groups
}

func auditDomainChoices(list []audit.Domain) []templates.AuditOption {
	out := make([]templates.AuditOption, len(list))
	for i, d := range list {
		out[i] = templates.AuditOption{Value: fmt.Sprint(d.ID), Label: d.Unicode}
	}
	return out
}
