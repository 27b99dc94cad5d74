package web

import (
	"fmt"
	"time"

	"admincenter/internal/domains"
	"admincenter/internal/paths"
	"admincenter/internal/text"
	"admincenter/templates"
)

// banner warns about a domain in re-validation on every Admin Center page.
func banner(w domains.Warning, now time.Time) templates.Banner {
	b := templates.Banner{LinkText: "Re-validate " + w.Name, Link: paths.Domain(w.DomainID)}
	users := "No managed user would be removed."
	if w.UsersAtRisk > 0 {
		users = text.Count(w.UsersAtRisk, "managed user") + " will be removed then."
		b.Details = templates.Link{Text: "See who", Href: paths.AtRisk(w.DomainID)}
	}
	b.Text = fmt.Sprintf("%s needs re-validation: %s left. Unless it is verified again by %s, it will be deleted from your organization. %s",
		w.Name, text.Left(w.Deadline.Sub(now)), text.Time(w.Deadline), users)
	return b
}
