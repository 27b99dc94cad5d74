package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"admincenter/internal/testdb"
	"admincenter/internal/testnet"
)

// tourStop is one page of the tour in one state: who looks at it ("" for
// nobody signed in), its address, and a text that says the page is in that
// state. act, when set, brings the page there (a form sent, a dialog open).
type tourStop struct {
	name, as, path, want string
	act                  func(b *tab)
}

// TestBrowserTour opens every page, in each of its states, at desktop and
// phone widths: each must render its content, report no script or CSP
// error, have a label for every field, pass axe-core and fit the screen
// without sideways scrolling. The tour goes through the life of a Bulk
// User Import in stages, each set up before the pages that show it.
func TestBrowserTour(t *testing.T) {
	port, nameservers := testnet.StartNameservers(t, 3, delegatedZone("initrode.test")...)
	a := newApp(t, testdb.SQLite(t), "ADMINCENTER_DNS_AUTHORITATIVE_PORT", port)
	c := a.client()
	c.login("owner@acme.test")
	org := a.user("owner@acme.test").OrgID()
	acme := verifyDomain(t, a, c, "acme.test")
	domain := func(id int64, query string) string { return fmt.Sprintf("/admin/domains/%d%s", id, query) }

	pending := addDomain(t, c, "bücher.test")
	c.post(domain(pending, "/verify"), url.Values{"method": {"dns"}})

	wrong := addDomain(t, c, "wrong.test")
	a.dns.Add(t, `_twilio.wrong.test. 300 IN TXT "twilio-domain-verification=0000"`)
	c.post(domain(wrong, "/verify"), url.Values{"method": {"dns"}})

	// Two of three nameservers serve the record, and its value is at the
	// domain itself too.
	spreading := addDomain(t, c, "initrode.test")
	a.dns.Add(t, delegatedZone("initrode.test")...)
	for _, ns := range nameservers[:2] {
		ns.Add(t, `_twilio.initrode.test. 300 IN TXT "`+a.domain(spreading).Token+`"`)
	}
	a.dns.Add(t, `initrode.test. 300 IN TXT "`+a.domain(spreading).Token+`"`)
	a.dns.Add(t, "initrode.test. 300 IN A 127.0.0.1") // a site whose certificate does not name it
	c.post(domain(spreading, "/verify"), url.Values{"method": {"dns"}})

	outage := addDomain(t, c, "initech.test")
	file := a.domain(outage)
	a.serve("/"+file.FileName, string(file.FileContent()))
	c.post(domain(outage, "/verify"), url.Values{"method": {"https"}}).want(t, http.StatusSeeOther)
	a.serveStatus("/"+file.FileName, http.StatusServiceUnavailable, "down for maintenance")
	c.post(domain(outage, "/verify"), url.Values{"method": {"dns"}}).want(t, http.StatusSeeOther)

	lapsed := verifyDomain(t, a, c, "labs.test")
	a.dns.Remove("_twilio.labs.test")
	c.post(domain(lapsed, "/verify"), url.Values{"method": {"dns"}}).want(t, http.StatusSeeOther)

	a.expired(org, "old.test", time.Now().Add(-3*time.Hour), "ava.adams@acme.test", "ben.adams@acme.test")
	back := addDomain(t, c, "old.test")
	a.expired(org, "gone.test", time.Now().Add(-2*time.Hour), "chloe.adams@acme.test")

	var report string
	var reportID int64
	var hooks tourHooks
	stages := []struct {
		name  string
		setup func()
		stops func() []tourStop // after setup
	}{
		{"signed-out", nil, func() []tourStop {
			return []tourStop{
				{name: "login", path: "/login", want: "Forgot your password?"},
				{name: "login-refused", path: "/login", want: "Incorrect email or password.", act: func(b *tab) {
					b.fill("email", "owner@acme.test")
					b.fill("password", "not the password")
					b.press("Sign in")
				}},
				{name: "signup", path: "/signup", want: "Create your login"},
				{name: "signup-refused", path: "/signup", want: "Enter your name.", act: func(b *tab) { b.press("Sign up") }},
				{name: "forgot", path: "/password/forgot", want: "Send reset link"},
				{name: "reset-invalid", path: "/password/reset?token=nope", want: "This password reset link is not valid"},
				{name: "verify-invalid", path: "/verify-email?token=nope", want: "This verification link is not valid"},
				{name: "invitation-invalid", path: "/invitations/accept?token=nope", want: "Invitation not valid"},
			}
		}},
		{"not-admins", nil, func() []tourStop {
			return []tourStop{
				{name: "no-organization-accounts", as: "ava.adams@acme.test", path: "/accounts", want: "Ava's project 1"},
				{name: "no-organization-admin", as: "ava.adams@acme.test", path: "/admin/domains", want: "You do not belong to an organization yet"},
				{name: "organization-new", as: "ava.adams@acme.test", path: "/organizations/new", want: "Create organization"},
				{name: "standard-accounts", as: "sam@acme.test", path: "/accounts", want: "Sam's Sandbox"},
				{name: "standard-admin", as: "sam@acme.test", path: "/admin/users", want: "The Admin Center is only for the Owner and Administrators"},
			}
		}},
		{"domains", nil, func() []tourStop {
			return []tourStop{
				{name: "accounts", as: "owner@acme.test", path: "/accounts", want: "Acme Production"},
				{name: "domains", as: "owner@acme.test", path: "/admin/domains", want: "gone.test was deleted"},
				{name: "domains-no-match", as: "owner@acme.test", path: "/admin/domains?name=nothing-like-it", want: "No domains match"},
				{name: "domain-add", as: "owner@acme.test", path: "/admin/domains/new", want: "Save & continue"},
				{name: "domain-add-refused", as: "owner@acme.test", path: "/admin/domains/new", want: "gmail.com is a common email provider, shared by many people.", act: func(b *tab) {
					b.fill("name", "gmail.com")
					b.press("Save & continue")
				}},
				{name: "domain-pending-dns", as: "owner@acme.test", path: domain(pending, ""), want: "NXDOMAIN"},
				{name: "domain-pending-https", as: "owner@acme.test", path: domain(pending, "?tab=https"), want: "Download HTML File"},
				{name: "domain-pending-unsure", as: "owner@acme.test", path: domain(pending, "?tab=unsure"), want: "Open in your email app"},
				{name: "domain-wrong-record", as: "owner@acme.test", path: domain(wrong, ""), want: "twilio-domain-verification=0000"},
				{name: "domain-propagating", as: "owner@acme.test", path: domain(spreading, ""), want: "2 of 3 of your nameservers serve the record"},
				{name: "domain-certificate", as: "owner@acme.test", path: domain(spreading, "?tab=https"), want: "Names it covers", act: func(b *tab) {
					eval[bool](b, `[...document.querySelectorAll("details.diagnostic")].every(d => d.open = true)`)
				}},
				{name: "domain-verified-gated", as: "owner@acme.test", path: domain(acme, ""), want: "This is a gated feature."},
				{name: "domain-outage", as: "owner@acme.test", path: domain(outage, ""), want: "503 Service Unavailable"},
				{name: "domain-revalidating", as: "owner@acme.test", path: domain(lapsed, ""), want: "Restore the proof"},
				{name: "domain-add-back", as: "owner@acme.test", path: domain(back, ""), want: "Add back the users removed before"},
				{name: "at-risk-nobody", as: "owner@acme.test", path: domain(lapsed, "/at-risk"), want: "and nobody is removed"},
				{name: "at-risk-pending", as: "owner@acme.test", path: domain(pending, "/at-risk"), want: "Nobody is at risk"},
				{name: "domain-delete-dialog", as: "owner@acme.test", path: domain(lapsed, ""), want: "I understand", act: func(b *tab) {
					b.press("Delete Domain")
				}},
			}
		}},
		{"users", nil, func() []tourStop {
			return []tourStop{
				{name: "invite", as: "owner@acme.test", path: "/admin/users/invite", want: "You can invite people at your verified domains"},
				{name: "invite-refused", as: "owner@acme.test", path: "/admin/users/invite", want: "gmail.com is a common email provider.", act: func(b *tab) {
					b.fill("email", "pat@gmail.com")
					b.press("Send invitation")
				}},
				{name: "users", as: "owner@acme.test", path: "/admin/users", want: "Sam Standard"},
				{name: "users-search-refused", as: "owner@acme.test", path: "/admin/users?q=" + url.QueryEscape("sam\x00"), want: "A search"},
				{name: "user", as: "owner@acme.test", path: fmt.Sprintf("/admin/users/%d", a.userID("sam@acme.test")), want: "Transfer ownership"},
				{name: "user-owner", as: "owner@acme.test", path: fmt.Sprintf("/admin/users/%d", a.userID("owner@acme.test")), want: "Olivia Owner"},
				{name: "audit", as: "owner@acme.test", path: "/admin/audit", want: "organization.created"},
				{name: "api-keys", as: "owner@acme.test", path: "/admin/api-keys", want: "Create an API key"},
				{name: "api-key-created", as: "owner@acme.test", path: "/admin/api-keys", want: "it is shown only this once", act: func(b *tab) {
					b.fill("name", "deploy script")
					b.press("Create API key")
				}},
				{name: "api-key-revoke", as: "owner@acme.test", path: "/admin/api-keys", want: "Scripts using it stop working at once.", act: func(b *tab) {
					eval[bool](b, `[...document.querySelectorAll("details.confirm")].every(d => d.open = true)`)
				}},
				{name: "api-docs", as: "owner@acme.test", path: "/api/docs", want: "Schemas"},
				{name: "mailbox", as: "owner@acme.test", path: "/dev/mailbox", want: "Development mailbox"},
				{name: "mailbox-message", as: "owner@acme.test", path: "/dev/mailbox/1", want: "Written"},
				{name: "not-found", as: "owner@acme.test", path: "/admin/users/424242", want: "Page not found"},
				{name: "no-route", as: "owner@acme.test", path: "/nowhere", want: "There is no page at this address."},
			}
		}},
		{"report", func() {
			a.bulkImport(true)
			latestReport(t, a, c, acme) // two ready reports: the table's actions must fit twice
			report, reportID = latestReport(t, a, c, acme)
		}, func() []tourStop {
			return []tourStop{
				{name: "domain-bulk-ready", as: "owner@acme.test", path: domain(acme, ""), want: "Ready"},
				{name: "report-ready", as: "owner@acme.test", path: report, want: "Review, notify, import"},
				{name: "notify", as: "owner@acme.test", path: report + "/notify", want: "Here is a template you can use"},
				{name: "notify-confirm", as: "owner@acme.test", path: report + "/notify", want: "gets the email above", act: func(b *tab) {
					b.press("Email 54 users")
				}},
				{name: "start-panel", as: "owner@acme.test", path: report + "/start", want: "Before you continue: inform your users"},
			}
		}},
		{"importing", func() { c.post(report+"/start", nil).want(t, http.StatusSeeOther) }, func() []tourStop {
			return []tourStop{
				{name: "report-importing", as: "owner@acme.test", path: report, want: "Importing"},
				{name: "domain-bulk-importing", as: "owner@acme.test", path: domain(acme, ""), want: "Importing"},
			}
		}},
		{"imported", func() {
			if err := a.svc.Imports.RunDue(context.Background()); err != nil {
				t.Fatal(err)
			}
		}, func() []tourStop {
			return []tourStop{
				{name: "report-imported", as: "owner@acme.test", path: report, want: "54 users imported"},
				{name: "users-of-import", as: "owner@acme.test", path: fmt.Sprintf("/admin/users?import=%d", reportID), want: "Showing the 54 users imported by report #"},
				{name: "left-out", as: "owner@acme.test", path: domain(acme, "/imports/left-out"), want: "Users not included in earlier imports"},
			}
		}},
		{"at-risk", func() {
			a.dns.Remove("_twilio.acme.test")
			c.post(domain(acme, "/verify"), url.Values{"method": {"dns"}}).want(t, http.StatusSeeOther)
		}, func() []tourStop {
			return []tourStop{
				{name: "domain-revalidating-at-risk", as: "owner@acme.test", path: domain(acme, ""), want: "(56 users) are removed"},
				{name: "banner-at-risk", as: "owner@acme.test", path: "/admin/users", want: "See who"},
				{name: "at-risk", as: "owner@acme.test", path: domain(acme, "/at-risk"), want: "managed users below are removed from it"},
				{name: "at-risk-last-page", as: "owner@acme.test", path: domain(acme, "/at-risk?page=3"), want: "page 3 of 3"},
			}
		}},
		{"webhooks-none", nil, func() []tourStop {
			return []tourStop{
				{name: "webhooks-empty", as: "owner@acme.test", path: "/admin/webhooks", want: "No endpoint yet"},
				{name: "webhook-add", as: "owner@acme.test", path: "/admin/webhooks/new", want: "Only these events:"},
				{name: "webhook-add-refused", as: "owner@acme.test", path: "/admin/webhooks/new", want: "events are only sent over HTTPS", act: func(b *tab) {
					b.fill("url", "http://hooks.example.test/admin-center")
					b.press("Add endpoint")
				}},
			}
		}},
		{"webhooks", func() { hooks = tourWebhooks(t, a, c) }, func() []tourStop {
			return []tourStop{
				{name: "webhooks", as: "owner@acme.test", path: "/admin/webhooks", want: "Disabled after failing"},
				{name: "webhook-added", as: "owner@acme.test", path: "/admin/webhooks/new", want: "Copy the signing secret now", act: func(b *tab) {
					b.fill("url", hookURL(a, fmt.Sprintf("/new-%d", b.width)))
					b.press("Add endpoint")
				}},
				{name: "webhook-log", as: "owner@acme.test", path: hooks.healthy, want: "All 2 attempts", act: func(b *tab) {
					eval[bool](b, `[...document.querySelectorAll("details")].every(d => d.open = true)`)
				}},
				{name: "webhook-retrying", as: "owner@acme.test", path: hooks.failing, want: "Retrying"},
				{name: "webhook-disabled", as: "owner@acme.test", path: hooks.disabled, want: "This endpoint was disabled"},
				{name: "webhook-edit-refused", as: "owner@acme.test", path: hooks.healthy, want: "Choose at least one event", act: func(b *tab) {
					b.do(chromedp.Click(chromedp.CSS("details.setup > summary"), chromedp.NodeVisible),
						chromedp.Click(chromedp.ID("events-chosen"), chromedp.NodeVisible))
					b.press("Save changes")
				}},
				{name: "webhook-rotate-dialog", as: "owner@acme.test", path: hooks.healthy, want: "Rotate the signing secret?", act: func(b *tab) {
					b.press("Rotate secret")
				}},
				{name: "webhook-delete-dialog", as: "owner@acme.test", path: hooks.failing, want: "gets no more events, and that its delivery log is deleted", act: func(b *tab) {
					b.press("Delete endpoint")
				}},
			}
		}},
	}
	for _, stage := range stages {
		if stage.setup != nil {
			stage.setup()
		}
		stops := stage.stops()
		for _, width := range []int{1280, 390} {
			t.Run(fmt.Sprintf("%s/%d", stage.name, width), func(t *testing.T) {
				b := newTab(t, a)
				if width < 1280 {
					b.narrow()
				}
				signedIn := ""
				for _, stop := range stops {
					if stop.as != signedIn {
						if signedIn != "" {
							b.press("Sign out")
							b.waitText("Sign in")
						}
						if stop.as != "" {
							b.signIn(stop.as)
						}
						signedIn = stop.as
					}
					b.open(stop.path)
					if stop.act != nil {
						stop.act(b)
					}
					b.waitText(stop.want)
					if unlabelled := eval[string](b, unlabelledFields); unlabelled != "" {
						t.Errorf("%s has fields without a label: %s", stop.name, unlabelled)
					}
					if stray := eval[string](b, strayPunctuation); stray != "" {
						t.Errorf("%s reads %q: a space before the punctuation", stop.name, stray)
					}
					b.inspect("tour-" + stop.name)
					checkNotClipped(t, b, "td")
				}
			})
		}
	}
}

// latestReport asks for a report on the domain and makes it ready, as
// the background work does; it returns the report's page.
func latestReport(t testing.TB, a *app, c *client, domainID int64) (string, int64) {
	t.Helper()
	base := fmt.Sprintf("/admin/domains/%d/imports", domainID)
	c.post(base, url.Values{"mode": {"review"}}).want(t, http.StatusSeeOther)
	if err := a.svc.Imports.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	list, err := a.svc.Imports.List(context.Background(), a.user("owner@acme.test").OrgID(), domainID)
	if err != nil || len(list) == 0 {
		t.Fatalf("reports: %+v, %v", list, err)
	}
	return fmt.Sprintf("%s/%d", base, list[0].ID), list[0].ID
}

// strayPunctuation finds a comma or semicolon after a space in the page's
// text, the mark of words and a time joined with a space too many.
const strayPunctuation = `(document.body.innerText.match(/\S[ \t]+[,;](\s|$)/) || [""])[0]`

// unlabelledFields lists visible inputs that no label names.
const unlabelledFields = `[...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
	.filter(e => e.checkVisibility() && !(e.labels && e.labels.length) && !e.getAttribute("aria-label"))
	.map(e => e.name || e.id).join(", ")`

// A page that refreshes itself keeps the keyboard where the person left
// it: the focused link is focused again after each refresh.
func TestBrowserLiveRefreshKeepsFocus(t *testing.T) {
	a := newApp(t, testdb.SQLite(t))
	c := a.client()
	c.login("owner@acme.test")
	report, _ := readyReport(t, a, c)
	c.post(report+"/start", nil).want(t, http.StatusSeeOther) // nothing runs it: it stays in progress

	b := newTab(t, a)
	b.signIn("owner@acme.test")
	b.open(report)
	b.waitText("0 of 54 users done")
	eval[bool](b, `document.getElementById("report-csv").focus(); document.getElementById("import-live").dataset.before = "1"; true`)
	deadline := time.Now().Add(10 * time.Second)
	for eval[bool](b, `document.getElementById("import-live").dataset.before === "1"`) {
		if time.Now().After(deadline) {
			t.Fatal("the report's page did not refresh itself")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if id := eval[string](b, `document.activeElement ? document.activeElement.id : ""`); id != "report-csv" {
		t.Fatalf("after a refresh the focus is on %q, not on Download CSV", id)
	}
}

// tourHooks are the pages of the tour's webhook endpoints: one that
// delivers, after a failure; one whose receiver keeps failing; one the
// sender disabled.
type tourHooks struct{ healthy, failing, disabled string }

// tourWebhooks adds the endpoints and sends them events, each tried a few
// times as time would.
func tourWebhooks(t *testing.T, a *app, c *client) tourHooks {
	t.Helper()
	a.serveStatus("/hooks", http.StatusServiceUnavailable, "Service Unavailable: try again later")
	a.serveStatus("/failing", http.StatusInternalServerError, "<html><body>Internal error\x00</body></html>")
	h := tourHooks{
		healthy: addWebhook(t, c, url.Values{"url": {hookURL(a, "/hooks")}, "events": {"all"}}),
		failing: addWebhook(t, c, url.Values{"url": {hookURL(a, "/failing")}, "events": {"chosen"},
			"event": {"domain.added", "domain.verified", "domain.revalidation_required", "import.completed"}}),
		disabled: addWebhook(t, c, url.Values{"url": {hookURL(a, "/gone")}, "events": {"all"}}),
	}
	for _, page := range []string{h.healthy, h.failing, h.disabled} {
		c.post(page+"/test", nil).want(t, http.StatusSeeOther)
	}
	addDomain(t, c, "hooks.test")
	retry := func() {
		a.deliver()
		if err := a.db.Exec("UPDATE webhook_deliveries SET next_attempt_at = ? WHERE status = 'pending'", time.Now()).Error; err != nil {
			t.Fatal(err)
		}
	}
	retry()
	a.serve("/hooks", `{"received":true}`)
	retry()
	retry()
	err := a.db.Exec("UPDATE webhook_endpoints SET enabled = ?, disabled_reason = ? WHERE url = ?", false,
		"Every delivery failed for 72 hours. The last: Answered 404 Not Found.", hookURL(a, "/gone")).Error
	if err != nil {
		t.Fatal(err)
	}
	return h
}
