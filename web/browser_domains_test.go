package web_test

import (
	"strings"
	"testing"

	"gorm.io/gorm"

	"admincenter/internal/testdb"
)

func TestBrowserVerifyByDNS(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		b := newTab(t, a)
		b.signIn("owner@acme.test")
		b.press("Domains")
		b.waitText("0 of 100 domains")
		b.press("Add Domain")
		b.waitText("Verify Domain")
		b.fill("name", "gmail.com")
		b.press("Save & continue")
		b.waitText("gmail.com is a common email provider")
		if invalid := eval[string](b, `document.getElementById("f-name").getAttribute("aria-invalid")`); invalid != "true" {
			t.Fatal("the refused field is not marked invalid")
		}
		b.inspect("domain-add-refused")
		b.fill("name", "acme.test")
		b.press("Save & continue")
		b.waitText("acme.test was added")
		b.waitText("Pending verification")
		b.waitText("_twilio.acme.test")
		token := b.value("txt-value")
		if !strings.HasPrefix(token, "twilio-domain-verification=") || len(token) != len("twilio-domain-verification=")+32 {
			t.Fatalf("token %q", token)
		}
		if host := b.value("txt-host"); host != "_twilio" {
			t.Fatalf("host %q", host)
		}

		// Not there yet: the diagnostics say what was asked and found.
		b.press("Verify Domain")
		b.waitText("Not verified yet")
		b.waitText("NXDOMAIN")
		b.waitText("queries sent")
		eval[bool](b, `[...document.querySelectorAll("details.queries")].every(d => d.open = true)`) // they fold away until asked for
		b.waitText(a.dns.Addr)
		b.waitText("automatic checks continue until")
		b.inspect("domain-not-verified")

		a.dns.Add(t, `_twilio.acme.test. 300 IN TXT "other-service=abc"`, `_twilio.acme.test. 300 IN TXT "`+token+`"`)
		b.press("Verify Domain")
		b.waitText("acme.test is verified")
		b.waitText("Proof in place")
		b.waitText("acme.test is verified by its DNS record at _twilio.acme.test.")
		b.inspect("domain-verified")
		b.press("Domains")
		b.waitText("Verified")
		b.waitText("DNS record")
		b.inspect("domains-list")
	})
}

func TestBrowserVerifyByHTTPSFile(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		b := newTab(t, a)
		b.signIn("admin@acme.test")
		b.open("/admin/domains/new")
		b.fill("name", "example.test")
		b.press("Save & continue")
		b.waitText("example.test was added")
		b.press("HTML file")
		b.waitText("Download HTML File")
		url := "https://example.test:" + a.site.PortString() + "/twilio-domain-verification-"
		b.waitText(url)
		name, content := b.download("Download HTML File")
		if !strings.HasPrefix(name, "twilio-domain-verification-") || !strings.HasSuffix(name, ".html") {
			t.Fatalf("downloaded %q", name)
		}
		if !strings.Contains(string(content), "twilio-domain-verification=") {
			t.Fatalf("the file lacks the token:\n%s", content)
		}
		b.inspect("domain-https-tab")

		a.serve("/"+name, string(content))
		b.press("Verify Domain")
		b.waitText("example.test is verified")
		b.waitText("by HTML file")
	})
}

func TestBrowserUnsureTabGivesAnEmail(t *testing.T) {
	a := newApp(t, testdb.SQLite(t))
	b := newTab(t, a)
	b.signIn("owner@acme.test")
	b.open("/admin/domains/new")
	b.fill("name", "initech.test")
	b.press("Save & continue")
	b.press("I am not sure which option to use")
	b.waitText("Send this email to the person who manages")
	body := b.value("it-body")
	for _, want := range []string{"_twilio.initech.test", "twilio-domain-verification=", "https://initech.test:", "dig +short TXT _twilio.initech.test"} {
		if !strings.Contains(body, want) {
			t.Fatalf("the email lacks %q:\n%s", want, body)
		}
	}
	href := eval[string](b, `[...document.querySelectorAll("a")].find(a => a.innerText.trim() === "Open in your email app").href`)
	if !strings.HasPrefix(href, "mailto:?subject=Please%20help%20us%20verify%20initech.test&body=") {
		t.Fatalf("mailto link %q", href)
	}
	b.inspect("domain-unsure-tab")
}

func TestBrowserInvitations(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		owner := a.client()
		owner.login("owner@acme.test")
		verified := addDomain(t, owner, "acme.test")
		a.dns.Add(t, `_twilio.acme.test. 300 IN TXT "`+a.domain(verified).Token+`"`)
		owner.post("/admin/domains/"+itoa(verified)+"/verify", map[string][]string{"method": {"dns"}})
		addDomain(t, owner, "initech.test") // pending

		b := newTab(t, a)
		b.signIn("admin@acme.test")
		b.open("/admin/users")
		b.press("Invite user")
		b.waitText("You can invite people at your verified domain: acme.test.")
		b.fill("email", "pat@initech.test")
		b.press("Send invitation")
		b.waitText("initech.test is not verified yet")
		b.fill("email", "someone@gmail.com")
		b.press("Send invitation")
		b.waitText("gmail.com is a common email provider")
		b.fill("email", "maya.adams@acme.test")
		b.press("Send invitation")
		b.waitText("managed by another organization")
		b.fill("email", "pat.new@acme.test")
		b.do(chromedpClickID("role-admin"))
		b.press("Send invitation")
		b.waitText("Invitation sent to pat.new@acme.test")
		b.waitText("Resend")
		b.inspect("users-invitations")

		// Pat has no login: the link leads to a sign-up with the email filled in.
		p := newTab(t, a)
		p.open("/dev/mailbox")
		p.do(chromedpClickLink("You are invited to join Acme Corp"))
		p.do(chromedpClickPartialLink("/invitations/accept?token="))
		p.waitText("Adam Admin invited pat.new@acme.test to join Acme Corp as Administrator.")
		if email := p.value("f-email"); email != "pat.new@acme.test" {
			t.Fatalf("email field %q", email)
		}
		p.fill("name", "Pat New")
		p.fill("password", "a long enough password")
		p.press("Create login and join")
		p.waitText("Welcome to Acme Corp: you joined as Administrator.")
		p.screenshot("invitation-accepted")
		if u := a.user("pat.new@acme.test"); !u.Managed() || u.Role != "admin" || !u.EmailVerified() {
			t.Fatalf("after accepting: %+v", u)
		}
	})
}
