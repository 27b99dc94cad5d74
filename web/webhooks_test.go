package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"gorm.io/gorm"

	"admincenter/internal/testdb"
	"admincenter/internal/webhooks"
)

var webhookSecretPattern = regexp.MustCompile(`whsec_[A-Za-z0-9+/]{43}=`)

// hookURL is an address of the test HTTPS site, which answers what
// a.serve makes it answer, to POST requests too.
func hookURL(a *app, path string) string { return "https://example.test:" + a.site.PortString() + path }

// addWebhook adds an endpoint on the page and returns its page.
func addWebhook(t testing.TB, c *client, form url.Values) string {
	t.Helper()
	r := c.post("/admin/webhooks/new", form)
	r.want(t, http.StatusSeeOther)
	if !regexp.MustCompile(`^/admin/webhooks/\d+$`).MatchString(r.location) {
		t.Fatalf("added, then sent to %q", r.location)
	}
	return r.location
}

// deliver runs the webhook sender as the background loop does.
func (a *app) deliver() {
	a.t.Helper()
	if _, err := a.svc.Webhooks.RunDue(context.Background()); err != nil {
		a.t.Fatal(err)
	}
}

// An administrator adds an endpoint and sees its secret once, sends a test
// event, reads the delivery log, redelivers, rotates the secret, disables
// and enables it, and deletes it after confirming.
func TestWebhookPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		a.serve("/hooks", `{"received":true}`)
		c := a.client()
		c.login("owner@acme.test")
		c.get("/admin/webhooks").want(t, http.StatusOK, "No endpoint yet", "Add endpoint")
		c.get("/admin/webhooks/new").want(t, http.StatusOK, "Only these events:", "domain.users_added_back")

		page := addWebhook(t, c, url.Values{"url": {hookURL(a, "/hooks")}, "events": {"all"}})
		r := c.get(page)
		r.want(t, http.StatusOK, "The endpoint was added.", "Copy the signing secret now", "Receives all events.")
		secret := webhookSecretPattern.FindString(r.body)
		if secret == "" || r.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("no secret shown, or cacheable: %q", r.header.Get("Cache-Control"))
		}
		if again := c.get(page); strings.Contains(again.body, secret) || strings.Contains(again.body, "Copy the signing secret") {
			t.Fatal("the secret is shown a second time")
		}
		if list := c.get("/admin/webhooks"); !strings.Contains(list.body, hookURL(a, "/hooks")) || strings.Contains(list.body, secret) {
			t.Fatalf("list:\n%s", list.body)
		}

		c.post(page+"/test", nil).want(t, http.StatusSeeOther)
		a.deliver()
		log := c.get(page)
		log.want(t, http.StatusOK, "A test event is on its way", "webhook.test", "Delivered", "200 OK", `"{\"received\":true}"`)
		c.get("/admin/webhooks").want(t, http.StatusOK, "Delivered")

		delivery := regexpFind(t, log.body, `action="(/admin/webhooks/\d+/deliveries/\d+/redeliver)"`)
		c.post(delivery, nil).want(t, http.StatusSeeOther)
		a.deliver()
		c.get(page).want(t, http.StatusOK, "The event is sent again, with the same id.", "2 deliveries")

		c.post(page+"/rotate-secret", nil).want(t, http.StatusUnprocessableEntity, "Nothing changed: tick the box")
		c.post(page+"/rotate-secret", url.Values{"ack": {"0"}}).want(t, http.StatusSeeOther)
		rotated := webhookSecretPattern.FindString(c.get(page).body)
		if rotated == "" || rotated == secret {
			t.Fatalf("rotated secret %q", rotated)
		}

		c.post(page+"/disable", nil).want(t, http.StatusSeeOther)
		c.get(page).want(t, http.StatusOK, "The endpoint is disabled", "Enable")
		c.post(page+"/test", nil).want(t, http.StatusConflict, "This endpoint is disabled: enable it first.")
		c.post(page+"/enable", nil).want(t, http.StatusSeeOther)

		c.post(page+"/delete", nil).want(t, http.StatusUnprocessableEntity, "Nothing changed")
		c.post(page+"/delete", url.Values{"ack": {"0"}}).want(t, http.StatusSeeOther)
		c.get("/admin/webhooks").want(t, http.StatusOK, "was deleted: it gets no more events.", "No endpoint yet")
		c.get(page).want(t, http.StatusNotFound)
		c.get("/admin/audit?action=webhook.secret_rotated").want(t, http.StatusOK, hookURL(a, "/hooks"))
	})
}

// Bad input gets its message by the field and changes nothing: an
// address that is not HTTPS, not an address, on a private network, or no
// event chosen.
func TestWebhookFormRefusesBadInput(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db, "ADMINCENTER_VERIFY_ALLOW_PRIVATE", "false")
		a.dns.Add(t, "intranet.test. 300 IN A 192.168.1.20")
		c := a.client()
		c.login("owner@acme.test")
		for _, tt := range []struct {
			form url.Values
			want string
		}{
			{url.Values{"url": {""}, "events": {"all"}}, "Enter the address that receives the events."},
			{url.Values{"url": {"http://example.test/hooks"}, "events": {"all"}}, "The address must start with https://: events are only sent over HTTPS."},
			{url.Values{"url": {"hooks at example"}, "events": {"all"}}, "Enter a full address that starts with https://"},
			{url.Values{"url": {"https://intranet.test/hooks"}, "events": {"all"}}, "Refused to connect to intranet.test: 192.168.1.20 is a private address (RFC 1918)."},
			{url.Values{"url": {"https://127.0.0.1:9/"}, "events": {"all"}}, "Refused to connect to 127.0.0.1: 127.0.0.1 is a loopback address."},
			{url.Values{"url": {"https://example.test/hooks"}, "events": {"chosen"}}, "Choose at least one event, or All events."},
			{url.Values{"url": {"https://example.test/hooks"}, "events": {"chosen"}, "event": {"domain.added", "<script>"}}, `"<script>" is not an event type.`},
			{url.Values{"url": {"https://example.test/" + strings.Repeat("a", 2100)}}, "at most 2000 are allowed."},
		} {
			r := c.post("/admin/webhooks/new", tt.form)
			r.want(t, http.StatusUnprocessableEntity, tt.want, `aria-invalid="true"`)
		}
		for _, h := range hostileText {
			r := c.post("/admin/webhooks/new", url.Values{"url": {"https://example.test/?q=" + h.text}, "events": {"all"}})
			r.want(t, http.StatusUnprocessableEntity, `id="f-url-error">An address `+h.refusal+"</p>")
		}
		var n int64
		db.Model(&webhooks.Endpoint{}).Count(&n)
		if n != 0 {
			t.Errorf("%d endpoints after refused forms", n)
		}
	})
}

// The pages are for the Owner and Administrators of the endpoint's
// organization only, and every change needs the page's CSRF token.
func TestWebhookPagesAreGuarded(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		owner := a.client()
		owner.login("owner@acme.test")
		page := addWebhook(t, owner, url.Values{"url": {hookURL(a, "/hooks")}, "events": {"chosen"}, "event": {"domain.added"}})
		var d webhooks.Delivery
		owner.post(page+"/test", nil).want(t, http.StatusSeeOther)
		db.Take(&d)
		actions := []string{page, page + "/enable", page + "/disable", page + "/rotate-secret", page + "/test", page + "/delete",
			fmt.Sprintf("%s/deliveries/%d/redeliver", page, d.ID)}

		visitor := a.client()
		r := visitor.get("/admin/webhooks")
		r.want(t, http.StatusSeeOther)
		if !strings.HasPrefix(r.location, "/login?next=") {
			t.Errorf("a visitor is sent to %q", r.location)
		}
		visitor.get(page).want(t, http.StatusSeeOther)

		sam := a.client()
		sam.login("sam@acme.test")
		sam.get("/admin/webhooks").want(t, http.StatusForbidden)
		sam.get(page).want(t, http.StatusForbidden)
		sam.post("/admin/webhooks/new", url.Values{"url": {hookURL(a, "/sam")}, "events": {"all"}}).want(t, http.StatusForbidden)

		globex := a.client()
		globex.login("owner@globex.test")
		globex.get(page).want(t, http.StatusNotFound)
		globex.get("/admin/webhooks").want(t, http.StatusOK, "No endpoint yet")
		for _, path := range actions {
			globex.post(path, url.Values{"ack": {"0"}, "url": {hookURL(a, "/globex")}, "events": {"all"}}).want(t, http.StatusNotFound)
			sam.post(path, url.Values{"ack": {"0"}}).want(t, http.StatusForbidden)
			owner.postRaw(path, url.Values{"ack": {"0"}}).want(t, http.StatusForbidden, "This form has expired")
		}
		owner.get("/admin/webhooks/abc").want(t, http.StatusNotFound)
		owner.post(page+"/deliveries/abc/redeliver", nil).want(t, http.StatusNotFound)
		owner.get(page).want(t, http.StatusOK, "Enabled", "1 delivery")
	})
}

// A receiver that redirects has a failed delivery, logged with where it
// pointed; the log says when it is tried again.
func TestWebhookRedirectIsAFailure(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		a.serveStatus("/moved", http.StatusMovedPermanently, "moved")
		c := a.client()
		c.login("owner@acme.test")
		page := addWebhook(t, c, url.Values{"url": {hookURL(a, "/moved")}, "events": {"all"}})
		c.post(page+"/test", nil).want(t, http.StatusSeeOther)
		a.deliver()
		c.get(page).want(t, http.StatusOK, "Retrying", "301 Moved Permanently",
			"a redirect to nowhere (no Location header): deliveries do not follow redirects", "Next ", `"moved"`)
		c.get("/admin/webhooks").want(t, http.StatusOK, "Retrying")
	})
}
