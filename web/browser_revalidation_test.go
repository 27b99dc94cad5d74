package web_test

import (
	"net/http"
	"strings"
	"testing"

	"gorm.io/gorm"

	"admincenter/internal/testdb"
)

// A verified domain whose record disappears needs re-validation: every
// Admin Center page warns, inviting at it is refused, and restoring the
// record restores the domain.
func TestBrowserRevalidationBannerAndRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		owner := a.client()
		owner.login("owner@acme.test")
		id := verifyDomain(t, a, owner, "acme.test")
		token := a.domain(id).Token

		a.dns.Remove("_twilio.acme.test")
		b := newTab(t, a)
		b.signIn("admin@acme.test")
		b.open("/admin/domains/" + itoa(id))
		b.press("Check now")
		b.waitText("Re-validation required · 30 days left")
		b.waitText("Restore the proof")
		b.waitText("The domain is deleted from Acme Corp, and the managed users with an address at it (2 users) are removed.")
		b.inspect("domain-revalidating")

		b.press("Users")
		b.waitText("acme.test needs re-validation: 30 days left.")
		b.waitText("2 managed users will be removed then.")
		b.inspect("users-banner")
		b.press("Invite user")
		b.fill("email", "pat@acme.test")
		b.press("Send invitation")
		b.waitText("acme.test needs re-validation: until it is verified again, nobody with an acme.test address can be added.")
		b.waitText("If it is not verified by")
		b.press("Domains")
		b.waitText("30 days left")

		box := owner.get("/dev/mailbox")
		box.want(t, http.StatusOK)
		for _, to := range []string{"owner@acme.test", "admin@acme.test"} {
			if !strings.Contains(box.body, "<td>"+to+"</td><td><a href=\"") || !strings.Contains(box.body, "Action needed: re-validate acme.test") {
				t.Fatalf("no re-validation email to %s", to)
			}
		}

		a.dns.Add(t, `_twilio.acme.test. 300 IN TXT "`+token+`"`)
		b.press("Re-validate acme.test")
		b.waitText("Restore the proof") // on the domain's page, not the list with its own Verify Domain buttons
		b.press("Verify Domain")
		b.waitText("acme.test is verified")
		if strings.Contains(eval[string](b, "document.body.innerText"), "needs re-validation") {
			t.Fatal("the banner stayed after the domain was restored")
		}
		owner.get("/dev/mailbox").want(t, http.StatusOK, "acme.test is verified again")
	})
}
