package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"admincenter/internal/domains"
	"admincenter/internal/text"
	"admincenter/templates"
)

var statusKinds = map[domains.Status]string{
	domains.Pending: "info", domains.Verified: "ok", domains.Revalidating: "warn", domains.Failed: "danger",
}

// asciiIfDifferent returns the punycode form when it differs from the shown one.
func asciiIfDifferent(d domains.Domain) string {
	if d.Name == d.UnicodeName {
		return ""
	}
	return d.Name
}

func (s *Server) domains(c echo.Context) error {
	list, err := s.Domains.List(c.Request().Context(), mustUser(c).OrgID())
	if err != nil {
		return err
	}
	sh, err := s.shell(c, "Domains", "domains")
	if err != nil {
		return err
	}
	v := templates.DomainsView{Count: len(list), Limit: domains.Limit}
	for _, d := range list {
		method := d.Method
		if d.VerifiedMethod != "" {
			method = d.VerifiedMethod
		}
		v.Rows = append(v.Rows, templates.DomainRow{
			ID: d.ID, Unicode: d.UnicodeName, ASCII: asciiIfDifferent(d),
			Status: d.Status.Label(), StatusKind: statusKinds[d.Status], StatusNote: statusNote(d, s.Now()), Method: method.Label(),
			VerifiedAt: text.TimeOf(d.VerifiedAt), LastChecked: text.TimeOf(d.LastCheckedAt), NextCheck: text.TimeOf(d.NextCheckAt),
		})
	}
	return render(c, http.StatusOK, templates.DomainsPage(sh, v))
}

// statusNote adds the time left to a domain in re-validation.
func statusNote(d domains.Domain, now time.Time) string {
	if d.Status != domains.Revalidating || d.DeadlineAt == nil {
		return ""
	}
	return text.Left(d.DeadlineAt.Sub(now)) + " left"
}
