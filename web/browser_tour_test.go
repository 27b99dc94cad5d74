package web_test

import (
	"fmt"
	"net/url"
	"testing"

	"admincenter/internal/testdb"
)

// TestBrowserTour opens every page at desktop and phone widths: each must
// render its content, report no script or CSP error, and fit the screen
// without sideways scrolling (tables scroll inside their own frame).
func TestBrowserTour(t *testing.T) {
	a := newApp(t, testdb.SQLite(t))
	c := a.client()
	c.login("owner@acme.test")
	verifyDomain(t, a, c, "acme.test")
	pending := addDomain(t, c, "bücher.test")
	c.post(fmt.Sprintf("/admin/domains/%d/verify", pending), url.Values{"method": {"dns"}})
	pages := []struct {
		name, path, want string
		signedIn         bool
	}{
		{"login", "/login", "Forgot your password?", false},
		{"signup", "/signup", "Create your login", false},
		{"forgot", "/password/forgot", "Send reset link", false},
		{"reset-invalid", "/password/reset?token=nope", "This password reset link is not valid", false},
		{"verify-invalid", "/verify-email?token=nope", "This verification link is not valid", false},
		{"accounts", "/accounts", "Acme Production", true},
		{"domains", "/admin/domains", "2 of 100 domains", true},
		{"domain-add", "/admin/domains/new", "Save & continue", true},
		{"domain-pending-dns", fmt.Sprintf("/admin/domains/%d", pending), "NXDOMAIN", true},
		{"domain-pending-https", fmt.Sprintf("/admin/domains/%d?tab=https", pending), "Download HTML File", true},
		{"domain-pending-unsure", fmt.Sprintf("/admin/domains/%d?tab=unsure", pending), "Open in your email app", true},
		{"invite", "/admin/users/invite", "You can invite people at your verified domain: acme.test.", true},
		{"users", "/admin/users", "Sam Standard", true},
		{"user", fmt.Sprintf("/admin/users/%d", a.userID("sam@acme.test")), "Transfer ownership", true},
		{"audit", "/admin/audit", "organization.created", true},
		{"mailbox", "/dev/mailbox", "Development mailbox", true},
		{"not-found", "/admin/users/424242", "Page not found", true},
		{"no-route", "/nowhere", "There is no page at this address.", true},
	}
	for _, width := range []int{1280, 390} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			b := newTab(t, a)
			if width < 1280 {
				b.narrow()
			}
			signedIn := false
			for _, p := range pages {
				if p.signedIn && !signedIn {
					b.signIn("owner@acme.test")
					signedIn = true
				}
				b.open(p.path)
				b.waitText(p.want)
				if unlabelled := eval[string](b, unlabelledFields); unlabelled != "" {
					t.Errorf("%s has fields without a label: %s", p.name, unlabelled)
				}
				b.inspect("tour-" + p.name)
			}
		})
	}
}

// unlabelledFields lists visible inputs that no label names.
const unlabelledFields = `[...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
	.filter(e => e.checkVisibility() && !(e.labels && e.labels.length) && !e.getAttribute("aria-label"))
	.map(e => e.name || e.id).join(", ")`
