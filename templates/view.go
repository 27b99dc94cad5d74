// Package templates renders the product's pages with templ. It knows only
// the view data its components receive, never the services behind them.
package templates

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"admincenter/internal/text"
	"admincenter/internal/token"
)

type csrfKey struct{}

// WithCSRF stores the CSRF token for the forms rendered with ctx, masked
// afresh (token.Mask) so that no two pages carry the same bytes. A page
// repeats the one masked value in each of its forms: masking each copy
// apart would cost a random draw per form and hide nothing more, since
// what must differ is the response, not the forms of one response.
func WithCSRF(ctx context.Context, t string) context.Context {
	if t != "" {
		t = token.Mask(t)
	}
	return context.WithValue(ctx, csrfKey{}, t)
}

// csrfToken is the CSRF token as the page's forms carry it.
func csrfToken(ctx context.Context) string {
	t, _ := ctx.Value(csrfKey{}).(string)
	return t
}

// htmx sends the CSRF token as a header on every request it makes.
func csrfHeaders(ctx context.Context) string {
	return fmt.Sprintf(`{"X-CSRF-Token": %q}`, csrfToken(ctx))
}

// Link is a way on: its text and where it goes.
type Link struct{ Text, Href string }

// Shell is what every signed-in page shows around its content.
type Shell struct {
	Title     string
	UserName  string
	UserEmail string
	OrgName   string
	CanAdmin  bool   // shows the Admin Center
	Nav       string // the current section: domains, users, audit, accounts
	Flashes   []Flash
	Banners   []Banner
}

// Flash is a one-time message about what just happened.
type Flash struct {
	Kind string // ok, warn
	Text string
}

// Banner is a warning shown at the top of every Admin Center page: its
// text, a link to more about it, if any, and a link to act on it.
type Banner struct {
	Text     string
	Details  Link
	LinkText string
	Link     string
}

// Form carries a form's submitted values and its problems back to the page.
type Form struct {
	Values  map[string]string
	Errors  map[string]string
	Message string // a problem not tied to one field
}

// Value returns the submitted value of a field.
func (f Form) Value(name string) string { return f.Values[name] }

// Error returns the problem with a field, if any.
func (f Form) Error(name string) string { return f.Errors[name] }

// Pager is the navigation under a paginated table.
type Pager struct {
	Number, Pages int
	Total         int64
	Noun          string     // "user", "entry"
	Query         url.Values // other parameters to keep in the links
	Path          string
}

func (p Pager) link(n int) string {
	q := url.Values{}
	for k, v := range p.Query {
		q[k] = v
	}
	q.Set("page", strconv.Itoa(n))
	return p.Path + "?" + q.Encode()
}

func (p Pager) summary() string {
	return fmt.Sprintf("%s · page %d of %d", text.Count(p.Total, p.Noun), p.Number, p.Pages)
}

func itoa[T ~int | ~int64](n T) string { return strconv.FormatInt(int64(n), 10) }

type textPart struct {
	text string
	link bool
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// linkify splits plain text into text and http(s) links.
func linkify(s string) []textPart {
	var parts []textPart
	last := 0
	for _, m := range linkPattern.FindAllStringIndex(s, -1) {
		parts = append(parts, textPart{text: s[last:m[0]]}, textPart{text: s[m[0]:m[1]], link: true})
		last = m[1]
	}
	return append(parts, textPart{text: s[last:]})
}

func joinNames(names []string) string { return strings.Join(names, ", ") }
