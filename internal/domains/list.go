package domains

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/database"
	"admincenter/internal/users"
)

// Statuses are the states of a domain in the order the Domains list
// counts them: the settled ones first, then those that need someone.
var Statuses = []Status{Verified, Pending, Revalidating, Failed}

// Counted writes n domains in this status, as the counts above the list
// do: "3 verified", "1 pending", "2 need re-validation", "0 failed".
func (s Status) Counted(n int64) string {
	switch s {
	case Revalidating:
		if n == 1 {
			return "1 needs re-validation"
		}
		return fmt.Sprintf("%d need re-validation", n)
	case Pending:
		return fmt.Sprintf("%d pending", n)
	case Verified:
		return fmt.Sprintf("%d verified", n)
	case Failed:
		return fmt.Sprintf("%d failed", n)
	}
	return fmt.Sprintf("%d %s", n, s)
}

// Filter narrows the Domains list. The zero Filter keeps every domain.
type Filter struct {
	Name   string // a part of the name, in its A-label or Unicode form, in any case
	Status Status // "" keeps every status
}

// Active reports whether the filter leaves any domain out.
func (f Filter) Active() bool { return f.Name != "" || f.Status != "" }

// check trims the name and clears what no domain could match, saying
// why by field ("name", "status"): a status the product does not have,
// or a name with control characters or bytes that are not text.
func (f *Filter) check() apperr.Fields {
	refused := apperr.Fields{}
	f.Name = strings.TrimSpace(f.Name)
	if msg := users.CheckText("A search", f.Name); msg != "" {
		refused.Add("name", msg)
		f.Name = ""
	}
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		refused.Add("status", fmt.Sprintf("There is no status %q: choose one from the list.", quoted(string(f.Status))))
		f.Status = ""
	}
	return refused
}

// quoted is the start of a value given, as text, to quote in a message.
func quoted(s string) string {
	const most = 30 // characters
	s = strings.ToValidUTF8(s, "\uFFFD")
	if r := []rune(s); len(r) > most {
		return string(r[:most]) + "…"
	}
	return s
}

// Counts is how many of an organization's domains are in each status.
type Counts map[Status]int64

// Total is the number of domains counted.
func (c Counts) Total() int64 {
	var n int64
	for _, k := range c {
		n += k
	}
	return n
}

// Listing is what the Domains list shows.
type Listing struct {
	Domains []Domain // those that pass Filter, by name
	Counts  Counts   // every domain of the organization, whatever the filter
	Filter  Filter   // the filter applied: its name trimmed, the refused parts cleared
	// Refused says, by field, why a part of the filter was not applied.
	// A list is a GET: it is shown without that part rather than refused.
	Refused apperr.Fields
}

// Listing returns the organization's domains that pass the filter, and
// how many it has in each status. The filter is applied by the database.
// Each domain has the columns cols reads.
func (s *Service) Listing(ctx context.Context, orgID int64, f Filter, cols Columns) (Listing, error) {
	l := Listing{Filter: f}
	l.Refused = l.Filter.check()
	db := s.DB.WithContext(ctx)
	var err error
	if l.Domains, err = find(db, orgID, l.Filter, cols); err != nil {
		return l, err
	}
	// Unfiltered, the list holds every domain: count them from it rather
	// than with another statement.
	if !l.Filter.Active() {
		l.Counts = countOf(l.Domains)
		return l, nil
	}
	if l.Counts, err = counts(db, orgID); err != nil {
		return l, err
	}
	return l, nil
}

// countOf counts domains by status, every status present.
func countOf(list []Domain) Counts {
	c := Counts{}
	for _, s := range Statuses {
		c[s] = 0
	}
	for _, d := range list {
		c[d.Status]++
	}
	return c
}

// counts reads the organization's count per status in one query; every
// status is present, at zero if no domain has it.
func counts(db *gorm.DB, orgID int64) (Counts, error) {
	var rows []struct {
		Status Status
		N      int64
	}
	err := db.Model(&Domain{}).Select("status, COUNT(*) AS n").
		Where("organization_id = ?", orgID).Group("status").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("domains: unable to count the domains of %d by status: %w", orgID, err)
	}
	c := countOf(nil)
	for _, r := range rows {
		c[r.Status] = r.N
	}
	return c, nil
}

// likeEscape makes s match itself inside a LIKE pattern with ESCAPE '\'.
var likeEscape = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// find returns the organization's domains that pass f, by name. Names
// are stored in lower case, both forms (see Normalize); the search is
// lowered here, since SQLite's LOWER knows only ASCII.
func find(db *gorm.DB, orgID int64, f Filter, cols Columns) ([]Domain, error) {
	where, args := "organization_id = ?", []any{orgID}
	if f.Name != "" {
		like := "%" + likeEscape.Replace(strings.ToLower(f.Name)) + "%"
		where += ` AND (LOWER(name) LIKE ? ESCAPE '\' OR LOWER(unicode_name) LIKE ? ESCAPE '\')`
		args = append(args, like, like)
	}
	if f.Status != "" {
		where += " AND status = ?"
		args = append(args, string(f.Status))
	}
	// One domain is scanned into and copied out: every column is written
	// on each row, and a moment is read into a new time.Time each time.
	out := make([]Domain, 0, Limit)
	var d Domain
	dest := cols.fields(&d)
	err := database.Read(db, "SELECT "+cols.names+" FROM domains WHERE "+where+" ORDER BY name", args, func(scan func(...any) error) error {
		if err := scan(dest...); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("domains: unable to list the domains of %d: %w", orgID, err)
	}
	return out, nil
}

// Columns are what a listing reads of each domain: their names and where
// each is read into, in the same order. The list of up to a hundred
// domains is read on every Domains page, and scanning it by hand costs a
// fraction of GORM's reflection (see BENCHMARKS.md).
type Columns struct {
	names  string
	fields func(*Domain) []any
}

var (
	Whole = Columns{domainColumns, (*Domain).fields}
	// Shown are the columns the Domains list shows, and its counts and
	// notes need.
	Shown = Columns{shownColumns, (*Domain).shownFields}
)

const shownColumns = `id, name, unicode_name, method, status, verified_at, verified_method, last_checked_at, next_check_at,
	deadline_at, inconclusive_since`

func (d *Domain) shownFields() []any {
	return []any{&d.ID, &d.Name, &d.UnicodeName, (*string)(&d.Method), (*string)(&d.Status), &d.VerifiedAt,
		(*string)(&d.VerifiedMethod), &d.LastCheckedAt, &d.NextCheckAt, &d.DeadlineAt, &d.InconclusiveSince}
}

// domainColumns and fields are every column of a domain.
const domainColumns = `id, organization_id, name, unicode_name, token, file_name, method, status, verified_at,
	verified_method, last_checked_at, next_check_at, window_ends_at, window_step, lease_until, created_by,
	created_at, signup_policy, revalidation_started_at, deadline_at, inconclusive_since, warned_first_at, warned_last_at`

func (d *Domain) fields() []any {
	return []any{&d.ID, &d.OrganizationID, &d.Name, &d.UnicodeName, &d.Token, &d.FileName, (*string)(&d.Method),
		(*string)(&d.Status), &d.VerifiedAt, (*string)(&d.VerifiedMethod), &d.LastCheckedAt, &d.NextCheckAt,
		&d.WindowEndsAt, &d.WindowStep, &d.LeaseUntil, &d.CreatedBy, &d.CreatedAt, &d.SignupPolicy,
		&d.RevalidationStartedAt, &d.DeadlineAt, &d.InconclusiveSince, &d.WarnedFirstAt, &d.WarnedLastAt}
}

// String writes the counts as the head of the list says them: "3 verified
// · 1 pending · 0 need re-validation · 0 failed".
func (c Counts) String() string {
	parts := make([]string, len(Statuses))
	for i, s := range Statuses {
		parts[i] = s.Counted(c[s])
	}
	return strings.Join(parts, " · ")
}
