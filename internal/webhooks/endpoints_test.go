package webhooks_test

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
	"admincenter/internal/webhooks"
)

// Bad input gets one clear message per field and changes nothing.
func TestBadInputIsRefusedByField(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		taken := f.endpoint("/taken", webhooks.Input{All: true})
		good := f.recv.url("/events")
		cases := []struct {
			name  string
			in    webhooks.Input
			field string
			msg   string
		}{
			{"empty", webhooks.Input{All: true}, "url", "Enter the address that receives the events."},
			{"plain HTTP", webhooks.Input{URL: "http://hooks.test/events", All: true}, "url", "The address must start with https://: events are only sent over HTTPS."},
			{"no scheme", webhooks.Input{URL: "hooks.test/events", All: true}, "url", "Enter a full address that starts with https://, such as https://hooks.example.com/admin-center."},
			{"not an address", webhooks.Input{URL: "https://exa mple.test/", All: true}, "url", "Enter a full address that starts with https://"},
			{"password", webhooks.Input{URL: "https://me:secret@hooks.test/", All: true}, "url", "Leave the user name and password out of the address"},
			{"no host", webhooks.Input{URL: "https:///events", All: true}, "url", "The address has no host name after https://."},
			{"no such host", webhooks.Input{URL: "https://nowhere.test/events", All: true}, "url", "The host nowhere.test does not exist (NXDOMAIN)."},
			{"too long", webhooks.Input{URL: good + "?" + strings.Repeat("x", 2000), All: true}, "url", "characters long; at most 2000 are allowed."},
			{"taken", webhooks.Input{URL: taken.URL, All: true}, "url", "Another endpoint of your organization has this address"},
			{"no event", webhooks.Input{URL: good}, "events", "Choose at least one event, or All events."},
			{"unknown event", webhooks.Input{URL: good, Events: []string{"domain.added", "domain.exploded"}}, "events", `"domain.exploded" is not an event type.`},
		}
		for _, c := range cases {
			_, _, err := f.hooks.Create(f.ctx, f.owner.ID, c.in)
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.Invalid || !strings.Contains(e.Fields[c.field], c.msg) || len(e.Fields) != 1 {
				t.Errorf("%s: %v, want %s: %q", c.name, err, c.field, c.msg)
			}
		}
		if n := f.count("webhook_endpoints", "1 = 1"); n != 1 {
			t.Errorf("%d endpoints after refusals", n)
		}
		for i := 1; i < webhooks.Limit; i++ {
			if _, _, err := f.hooks.Create(f.ctx, f.owner.ID, webhooks.Input{URL: fmt.Sprintf("%s?n=%d", good, i), All: true}); err != nil {
				t.Fatal(err)
			}
		}
		_, _, err := f.hooks.Create(f.ctx, f.owner.ID, webhooks.Input{URL: good, All: true})
		if e, ok := apperr.As(err); !ok || !strings.Contains(e.Fields["url"], "already has 20 endpoints") {
			t.Errorf("past the limit: %v", err)
		}
		sam := f.Member(t, f.Person(t, "sam@acme.test", true, 0), f.acme.ID, users.Standard)
		if _, _, err := f.hooks.Create(f.ctx, sam.ID, webhooks.Input{URL: good + "/sam", All: true}); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("a Standard user adds an endpoint: %v", err)
		}
	})
}

// An address is refused when its host is, or resolves only to, an
// address the HTTPS-file check never connects to; and a host that
// resolves elsewhere later is refused when a delivery connects to it.
func TestPrivateAddressesAreRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db, "ADMINCENTER_VERIFY_ALLOW_PRIVATE", "false")
		f.dns.Add(t, "intranet.test. 300 IN A 10.1.2.3", "intranet.test. 300 IN AAAA fd00::1")
		for _, c := range []struct{ url, msg string }{
			{f.recv.url("/events"), "Refused to connect to hooks.test: 127.0.0.1 is a loopback address."},
			{"https://intranet.test/hooks", "Refused to connect to intranet.test: 10.1.2.3 is a private address (RFC 1918); fd00::1 is a unique local address (RFC 4193)."},
			{"https://169.254.169.254/latest", "Refused to connect to 169.254.169.254: 169.254.169.254 is a link-local address."},
			{"https://[::1]:8443/", "Refused to connect to ::1: ::1 is a loopback address."},
		} {
			_, _, err := f.hooks.Create(f.ctx, f.owner.ID, webhooks.Input{URL: c.url, All: true})
			if e, ok := apperr.As(err); !ok || e.Fields["url"] != c.msg {
				t.Errorf("%s: %v, want %q", c.url, err, c.msg)
			}
		}
		// An endpoint whose host pointed elsewhere when it was added.
		ep := webhooks.Endpoint{OrganizationID: f.acme.ID, URL: f.recv.url("/events"), Events: "*", Secret: webhooks.NewSecret(),
			Enabled: true, CreatedAt: f.clk.Now(), UpdatedAt: f.clk.Now()}
		if err := db.Create(&ep).Error; err != nil {
			t.Fatal(err)
		}
		f.addDomain("acme.test")
		f.deliver()
		if got := f.recv.take(); len(got) != 0 {
			t.Fatalf("the receiver on loopback got %d requests", len(got))
		}
		log, err := f.hooks.Log(f.ctx, ep, 1)
		if err != nil || len(log.Items) != 1 || len(log.Items[0].History) != 1 {
			t.Fatalf("log: %+v, %v", log, err)
		}
		if a := log.Items[0].History[0]; a.HTTPStatus != 0 || a.Error != "Refused to connect to hooks.test: 127.0.0.1 is a loopback address." {
			t.Errorf("attempt: %+v", a)
		}
	})
}

// Every change of an endpoint is audited; the secret is in the Standard
// Webhooks format, a rotation replaces it, and deliveries are signed with
// the new one.
func TestEndpointChangesAreAudited(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		in := webhooks.Input{URL: f.recv.url("/events"), All: true}
		ep, secret, err := f.hooks.Create(f.ctx, f.owner.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if !strings.HasPrefix(secret, "whsec_") || err != nil || len(key) != 32 {
			t.Fatalf("secret %q", secret)
		}
		if ep, err = f.hooks.Update(f.ctx, f.owner.ID, ep.ID, webhooks.Input{URL: f.recv.url("/new"), Events: []string{"domain.verified", "domain.added"}}); err != nil {
			t.Fatal(err)
		}
		if ep.URL != f.recv.url("/new") || ep.Events != "domain.added domain.verified" {
			t.Errorf("updated: %+v", ep)
		}
		if _, err := f.hooks.SetEnabled(f.ctx, f.owner.ID, ep.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := f.hooks.SetEnabled(f.ctx, f.owner.ID, ep.ID, true); err != nil {
			t.Fatal(err)
		}
		_, rotated, err := f.hooks.RotateSecret(f.ctx, f.owner.ID, ep.ID)
		if err != nil || rotated == secret || !strings.HasPrefix(rotated, "whsec_") {
			t.Fatalf("rotated to %q: %v", rotated, err)
		}
		f.recv.setSecret("/new", rotated)
		f.addDomain("acme.test")
		f.deliver()
		if got := f.recv.take(); len(got) != 1 { // take checks the signature
			t.Fatalf("received %d", len(got))
		}
		if _, err := f.hooks.Delete(f.ctx, f.owner.ID, ep.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.hooks.Get(f.ctx, f.acme.ID, ep.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("deleted endpoint: %v", err)
		}
		if n := f.count("webhook_deliveries", "endpoint_id = ?", ep.ID); n != 0 {
			t.Errorf("%d deliveries left", n)
		}
		var entries []audit.Entry
		db.Where("target_type = ?", "webhook").Order("id").Find(&entries)
		var got []string
		for _, e := range entries {
			got = append(got, e.Action+": "+e.Details)
		}
		want := []string{
			"webhook.created: receives all events",
			"webhook.updated: address " + f.recv.url("/events") + " → " + f.recv.url("/new") + "; receives domain.added, domain.verified",
			"webhook.disabled: ", "webhook.enabled: ", "webhook.secret_rotated: ", "webhook.deleted: ",
		}
		if !slices.Equal(got, want) {
			t.Errorf("audit:\n%q\nwant\n%q", got, want)
		}
		_, gloria := f.Org(t, "Globex", "gloria@globex.test")
		other, _, err := f.hooks.Create(f.ctx, gloria.ID, webhooks.Input{URL: f.recv.url("/globex"), All: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.hooks.Delete(f.ctx, f.owner.ID, other.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("deleting another organization's endpoint: %v", err)
		}
	})
}
