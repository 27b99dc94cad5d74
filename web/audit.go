package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"admincenter/internal/audit"
	"admincenter/internal/paths"
	"admincenter/templates"
)

func auditRows(entries []audit.Entry) []templates.AuditRow {
	rows := make([]templates.AuditRow, len(entries))
	for i, e := range entries {
		rows[i] = templates.AuditRow{At: e.CreatedAt, Actor: e.Actor, Action: e.Action, Target: e.Target, Details: e.Details}
	}
	return rows
}

func (s *Server) auditLog(c echo.Context) error {
	p, err := s.Audit.List(c.Request().Context(), mustUser(c).OrgID(), pageParam(c))
	if err != nil {
		return err
	}
	sh, err := s.shell(c, "Audit log", "audit")
	if err != nil {
		return err
	}
	pager := templates.Pager{Number: p.Number, Pages: p.Pages(), Total: p.Total, Noun: "entry", Path: paths.Audit}
	return render(c, http.StatusOK, templates.AuditPage(sh, auditRows(p.Items), pager))
}
