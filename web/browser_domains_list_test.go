package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"gorm.io/gorm"

	"admincenter/internal/domains"
	"admincenter/internal/testdb"
)

// longName is a domain whose name cannot fit a phone's width on one line.
const longName = "customer-identity-and-single-sign-on-services.international-holdings.test"

// TestBrowserDomainsList works the Domains list at desktop and phone
// widths: counts, filters, a row's Delete Domain dialog and its Check now,
// each page fitting the screen with no accessibility violation.
func TestBrowserDomainsList(t *testing.T) {
	for _, width := range []int{1280, 390} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, db *gorm.DB) {
				a := newApp(t, db)
				c := a.client()
				c.login("owner@acme.test")
				acme := verifyDomain(t, a, c, "acme.test")
				addDomain(t, c, "bücher.test")
				long := addDomain(t, c, longName)
				failed := addDomain(t, c, "initech.test")
				expiring := verifyDomain(t, a, c, "example.test")
				db.Model(&domains.Domain{}).Where("id = ?", failed).Update("status", domains.Failed)
				db.Model(&domains.Domain{}).Where("id = ?", expiring).Updates(map[string]any{
					"status": domains.Revalidating, "deadline_at": time.Now().Add(12 * 24 * time.Hour), "revalidation_started_at": time.Now()})

				b := newTab(t, a)
				if width < 1280 {
					b.narrow()
				}
				b.signIn("owner@acme.test")
				b.open("/admin/domains")
				b.waitText("5 of 100 domains")
				b.waitText("2 pending")
				b.waitText("1 needs re-validation")
				for _, when := range []string{"Verified", "Last checked", "Next check"} {
					if n := eval[int](b, fmt.Sprintf(`[...document.querySelectorAll(%q)].filter(e => e.checkVisibility()).length`, "td[data-label='"+when+"'] time")); n == 0 {
						t.Errorf("no %s date visible", when)
					}
				}
				b.inspect("domains-list")

				// A part of the Unicode name, in capitals, finds the IDN.
				b.fill("name", "BÜCHER")
				b.press("Filter")
				b.waitText("Showing 1 of 5 domains.")
				if p := b.path(); !strings.Contains(p, "name=B%C3%9CCHER") {
					t.Errorf("the filter is not in the address: %s", p)
				}
				if rows := eval[int](b, `document.querySelectorAll("tbody tr").length`); rows != 1 {
					t.Errorf("%d rows for bücher", rows)
				}
				b.inspect("domains-filtered")

				// Name and status together; then nothing matches.
				b.fill("name", "test")
				eval[bool](b, `document.getElementById("f-status").value = "pending"; true`)
				b.press("Filter")
				b.waitText("Showing 2 of 5 domains.")
				b.fill("name", "nowhere")
				b.press("Filter")
				b.waitText("No domain with the status “Pending verification” has a name containing “nowhere”.")
				b.inspect("domains-no-match")
				b.press("Clear filters")
				b.waitText("5 of 100 domains")
				if p := b.path(); p != "/admin/domains" {
					t.Errorf("cleared to %s", p)
				}

				// A status's count lists its domains.
				b.press("1 failed")
				b.waitText("Showing 1 of 5 domains.")
				b.waitText("initech.test")
				b.open("/admin/domains?status=gone")
				b.waitText(`There is no status "gone"`)
				b.inspect("domains-bad-status")

				// Delete Domain asks first, in the list's dialog filled in
				// with the row's domain.
				b.open("/admin/domains")
				b.waitText(longName)
				dialog := "delete-domain"
				b.do(chromedpClickCSS(fmt.Sprintf(`[data-dialog-action="/admin/domains/%d/delete"]`, long)))
				b.waitText("Delete " + longName + "?")
				b.waitText("The managed users at " + longName + " stay in Acme Corp")
				if got := eval[string](b, `document.querySelector("#delete-domain form").getAttribute("action")`); got != fmt.Sprintf("/admin/domains/%d/delete", long) {
					t.Fatalf("the dialog posts to %s", got)
				}
				if !eval[bool](b, fmt.Sprintf(`document.getElementById(%q).open`, dialog)) {
					t.Fatal("the dialog did not open")
				}
				if !eval[bool](b, fmt.Sprintf(`document.querySelector("#%s button[type=submit]").disabled`, dialog)) {
					t.Error("Delete Domain can be pressed before the box is ticked")
				}
				b.inspect("domains-delete-dialog")
				b.do(chromedpClickID(dialog+"-ack-0"), chromedpClickCSS("#"+dialog+" button[type=submit]"))
				b.waitText(longName + " was deleted.")
				b.waitText("4 of 100 domains")
				if strings.Contains(eval[string](b, `document.querySelector("table").innerText`), longName) {
					t.Error("the deleted domain is still listed")
				}
				b.inspect("domains-deleted")

				// A row's check posts the list's one form; while it runs,
				// the button pressed says so, and only that one. (The post
				// is held back here to look at the page meanwhile.)
				check := fmt.Sprintf(`button[formaction="/admin/domains/%d/verify"]`, acme)
				eval[bool](b, `window.addEventListener("submit", e => e.preventDefault(), {once: true}); true`)
				b.do(chromedpClickCSS(check))
				busy := eval[string](b, `[...document.querySelectorAll("button[form=verify-domain]")].filter(x => x.classList.contains("busy")).map(x => x.getAttribute("formaction") + " " + x.textContent + " (" + x.getAttribute("aria-label") + ")").join("; ")`)
				if want := fmt.Sprintf("/admin/domains/%d/verify Checking… (Checking… acme.test)", acme); busy != want {
					t.Errorf("busy buttons: %q, want %q", busy, want)
				}
				b.inspect("domains-checking")

				// A verified domain's Check now checks it and shows its page.
				b.do(chromedp.Reload())
				b.waitText("4 of 100 domains")
				b.do(chromedpClickCSS(check))
				b.waitText("acme.test is verified")
				if p := b.path(); p != fmt.Sprintf("/admin/domains/%d", acme) {
					t.Errorf("Check now led to %s", p)
				}
			})
		})
	}
}
