package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"admincenter/internal/domains"
	"admincenter/internal/paths"
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

// domains is the Domains list, narrowed by the filters of its address
// (name, status); a filter it cannot apply is named next to its field and
// the list is shown without it.
func (s *Server) domains(c echo.Context) error {
	given := domains.Filter{Name: c.QueryParam("name"), Status: domains.Status(c.QueryParam("status"))}
	l, err := s.Domains.Listing(c.Request().Context(), mustUser(c).OrgID(), given, domains.Shown)
	if err != nil {
		return err
	}
	var expired []domains.ExpiryNotice
	if notices(c).Expired {
		if expired, err = s.Domains.RecentExpiries(c.Request().Context(), mustUser(c).OrgID()); err != nil {
			return err
		}
	}
	sh, err := s.shell(c, "Domains", "domains")
	if err != nil {
		return err
	}
	v := templates.DomainsView{
		Count: int(l.Counts.Total()), Limit: domains.Limit,
		Filter: templates.DomainsFilter{
			// The field shows what was typed, even when refused; bytes that
			// are not text are shown as such.
			Name: strings.ToValidUTF8(given.Name, "\uFFFD"), NameError: l.Refused["name"], StatusError: l.Refused["status"],
			Statuses: statusOptions(l.Filter.Status),
			Given:    given.Active(), Active: l.Filter.Active(), NoMatch: noMatch(l.Filter),
		},
	}
	for _, st := range domains.Statuses {
		v.Counts = append(v.Counts, templates.StatusCount{
			Text: st.Counted(l.Counts[st]), Link: paths.DomainsWhere("", string(st)), Current: l.Filter.Status == st,
		})
	}
	v.Rows = make([]templates.DomainRow, len(l.Domains))
	for i, d := range l.Domains {
		v.Rows[i] = s.domainRow(d)
	}
	for _, e := range expired {
		v.Expired = append(v.Expired, templates.ExpiredDomain{
			Unicode: e.UnicodeName, At: e.At, Removed: e.Removed, NotBack: e.NotBack,
			AgainID: e.AgainID, AgainVerified: e.AgainStatus == domains.Verified,
		})
	}
	return render(c, http.StatusOK, templates.DomainsPage(sh, v))
}

func (s *Server) domainRow(d domains.Domain) templates.DomainRow {
	// A domain is checked, and shown, by the method that proved it; until
	// then by the one chosen last.
	method := d.Method
	if d.VerifiedMethod != "" {
		method = d.VerifiedMethod
	}
	label := "Verify Domain"
	if d.Status == domains.Verified {
		label = "Check now"
	}
	return templates.DomainRow{
		ID: d.ID, Unicode: d.UnicodeName, ASCII: asciiIfDifferent(d),
		Status: d.Status.Label(), StatusKind: statusKinds[d.Status], StatusNote: statusNote(d, s.Now()), Method: method.Label(),
		VerifiedAt: d.VerifiedAt, LastChecked: d.LastCheckedAt, NextCheck: d.NextCheckAt, FailingSince: failingSince(d),
		VerifyMethod: string(method), VerifyLabel: label,
	}
}

// failingSince is when the checks of a verified domain started to fail to
// tell (an outage at its DNS servers or website), nil if they tell.
func failingSince(d domains.Domain) *time.Time {
	if d.Status != domains.Verified {
		return nil
	}
	return d.InconclusiveSince
}

// statusOptions are the choices of the status filter, the applied one
// selected.
func statusOptions(applied domains.Status) []templates.Option {
	out := []templates.Option{{Value: "", Label: "All statuses", Selected: applied == ""}}
	for _, st := range domains.Statuses {
		out = append(out, templates.Option{Value: string(st), Label: st.Label(), Selected: applied == st})
	}
	return out
}

// noMatch says which filter left the list empty.
func noMatch(f domains.Filter) string {
	switch {
	case f.Name != "" && f.Status != "":
		return fmt.Sprintf("No domain with the status “%s” has a name containing “%s”.", f.Status.Label(), f.Name)
	case f.Name != "":
		return fmt.Sprintf("No domain's name contains “%s”.", f.Name)
	case f.Status != "":
		return fmt.Sprintf("No domain has the status “%s”.", f.Status.Label())
	}
	return ""
}

// statusNote adds the time left to a domain in re-validation.
func statusNote(d domains.Domain, now time.Time) string {
	if d.Status != domains.Revalidating || d.DeadlineAt == nil {
		return ""
	}
	return text.Left(d.DeadlineAt.Sub(now)) + " left"
}
