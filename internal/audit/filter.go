package audit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Filter narrows the log to the entries a person looks for. Its zero
// value keeps every entry; each field set narrows it further.
type Filter struct {
	// Actor keeps the entries whose actor contains it, in any case:
	// "ada@acme.test", "acme.test", "system".
	Actor string
	// Action keeps the entries of one action code.
	Action string
	// Domain keeps the entries about one domain.
	Domain *Domain
	// From keeps the entries recorded at or after it, Until those
	// recorded before it; zero: no bound.
	From, Until time.Time
}

// Domain is a domain of the organization, as a Filter finds the entries
// about it: those whose target is the domain itself, one of its reports
// and imports ("report #3 of acme.test"), or a person or an invitation
// whose address is at the domain or under it (imported, added at sign-up,
// removed when the domain expired, invited, signed in...).
type Domain struct {
	ID      int64
	Name    string // as stored, an A-label: its reports' labels name it so
	Unicode string // as people read it, for the filter's choices
	// At is the rule "the address in column email is at the domain name,
	// or under it": domains.AtDomain, which this package cannot import
	// (domains records its changes here). Nil leaves people out.
	At func(email, name string) clause.Expr
}

// apply adds the filter's conditions to q; base is a session without
// conditions, for grouping them.
func (f Filter) apply(q, base *gorm.DB) *gorm.DB {
	if f.Actor != "" {
		q = q.Where(`LOWER(actor) LIKE ? ESCAPE '\'`, "%"+escapeLike(strings.ToLower(f.Actor))+"%")
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if d := f.Domain; d != nil {
		about := base.Where("target_type = 'domain' AND target_id = ?", strconv.FormatInt(d.ID, 10)).
			Or(`target_type = 'import' AND target LIKE ? ESCAPE '\'`, "report #% of "+escapeLike(d.Name))
		if d.At != nil {
			about = about.Or(base.Where("target_type IN ('user', 'invitation')").Where(d.At("target", d.Name)))
		}
		q = q.Where(about)
	}
	if !f.From.IsZero() {
		q = q.Where("created_at >= ?", f.From.UTC())
	}
	if !f.Until.IsZero() {
		q = q.Where("created_at < ?", f.Until.UTC())
	}
	return q
}

// escapeLike makes s match itself in a LIKE pattern whose escape
// character is a backslash.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Form is the audit log's filter as a person fills it in: the values of
// the page's GET form, each possibly empty.
type Form struct {
	Actor  string
	Action string
	Domain string // a domain's id
	From   string // a day, YYYY-MM-DD, in UTC
	To     string // the last day included, YYYY-MM-DD, in UTC
}

// maxActor bounds the actor searched for: an email address is at most
// 254 characters.
const maxActor = 254

// dayLayout is how the form's dates are written (what an <input
// type=date> sends).
const dayLayout = "2006-01-02"

// Checked is a form checked: the filter it asks for, as far as its
// values can be used.
type Checked struct {
	Filter  Filter
	Applied Form // the values the filter uses: the form's, without those refused
	// Problems says, by field, why a value cannot be used: that field then
	// narrows nothing (the rest of the filter still applies), and the form
	// says so next to it, so that a bad value never looks like an empty
	// result.
	Problems map[string]string
}

// Check checks the form and returns its filter. domains are the
// organization's: a domain not among them (another organization's, one
// deleted) is refused like any other bad value, saying no more than that.
func (f Form) Check(domains []Domain) Checked {
	c := Checked{Problems: map[string]string{}}
	if actor := strings.TrimSpace(f.Actor); actor != "" {
		if msg := checkActor(actor); msg != "" {
			c.Problems["actor"] = msg
		} else {
			c.Filter.Actor, c.Applied.Actor = actor, actor
		}
	}
	if f.Action != "" {
		if Known(f.Action) {
			c.Filter.Action, c.Applied.Action = f.Action, f.Action
		} else {
			c.Problems["action"] = "There is no such action: choose one from the list. The list below is not filtered by action."
		}
	}
	if f.Domain != "" {
		id, err := strconv.ParseInt(f.Domain, 10, 64)
		for i := range domains {
			if err == nil && domains[i].ID == id {
				c.Filter.Domain, c.Applied.Domain = &domains[i], f.Domain
			}
		}
		if c.Filter.Domain == nil {
			c.Problems["domain"] = "This is not a domain of your organization: choose one from the list. The list below is not filtered by domain."
		}
	}
	from, fromOK := parseDay(f.From, "from", c.Problems)
	to, toOK := parseDay(f.To, "to", c.Problems)
	if fromOK && toOK && !from.IsZero() && !to.IsZero() && to.Before(from) {
		c.Problems["to"] = fmt.Sprintf("The last day, %s, is before the first, %s. The list below is not filtered by date.", f.To, f.From)
		return c
	}
	if fromOK && !from.IsZero() {
		c.Filter.From, c.Applied.From = from, f.From
	}
	if toOK && !to.IsZero() {
		c.Applied.To = f.To
		if until := to.AddDate(0, 0, 1); until.Year() <= 9999 {
			c.Filter.Until = until // else nothing recorded is after it
		}
	}
	return c
}

// parseDay reads a day of the form, in UTC; an empty one is zero. A bad
// one is explained in problems[field], and not ok.
func parseDay(s, field string, problems map[string]string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	day, err := time.Parse(dayLayout, s)
	if err != nil || day.Year() < 1000 {
		problems[field] = fmt.Sprintf("%s is not a date: write it as YYYY-MM-DD. The list below is not filtered by it.", quote(s))
		return time.Time{}, false
	}
	return day, true
}

// checkActor refuses what no actor can contain, and what a database
// would refuse to compare (invalid UTF-8, NUL).
func checkActor(s string) string {
	if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "An actor is an email address or “system”: this text has characters that no actor has. The list below is not filtered by actor."
	}
	if utf8.RuneCountInString(s) > maxActor {
		return fmt.Sprintf("An actor is at most %d characters long. The list below is not filtered by actor.", maxActor)
	}
	return ""
}

// quote shows a value a person typed, briefly and safely.
func quote(s string) string {
	if !utf8.ValidString(s) {
		return "This"
	}
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return "“" + s + "”"
}
