package web

import (
	"fmt"
	"math"
	"time"

	"admincenter/internal/domains"
	"admincenter/templates"
)

// banner warns about a domain in re-validation on every Admin Center page.
func banner(w domains.Warning, now time.Time) templates.Banner {
	users := "No managed user would be removed."
	switch w.UsersAtRisk {
	case 0:
	case 1:
		users = "1 managed user will be removed then."
	default:
		users = fmt.Sprintf("%d managed users will be removed then.", w.UsersAtRisk)
	}
	return templates.Banner{
		Text: fmt.Sprintf("%s needs re-validation: %s left. Unless it is verified again by %s, it will be deleted from your organization. %s",
			w.Name, timeLeft(w.Deadline.Sub(now)), w.Deadline.UTC().Format("2 Jan 2006 15:04 UTC"), users),
		LinkText: "Re-validate " + w.Name,
		Link:     fmt.Sprintf("/admin/domains/%d", w.DomainID),
	}
}

// timeLeft says how long remains, rounded up so that "0 days" never shows
// while time is left: "12 days", "1 day", "5 hours", "3 minutes".
func timeLeft(d time.Duration) string {
	switch {
	case d <= 0:
		return "no time"
	case d >= 24*time.Hour:
		return templates.CountOf(int(math.Ceil(d.Hours()/24)), "day")
	case d >= time.Hour:
		return templates.CountOf(int(math.Ceil(d.Hours())), "hour")
	case d >= time.Minute:
		return templates.CountOf(int(math.Ceil(d.Minutes())), "minute")
	}
	return templates.CountOf(int(math.Ceil(d.Seconds())), "second")
}
