package web_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/audit"
	"admincenter/internal/paths"
	"admincenter/internal/testdb"
)

// The audit log in a browser, at desktop and phone widths, on both
// databases: filtered through its form, its long details wrap rather than
// being clipped or widening the page, the CSV downloads what is shown, and
// a domain's Activity reads the same way.
func TestBrowserAuditLog(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newAuditScene(t, db)
		long := "checked https://acme.test/.well-known/" + strings.Repeat("twilio-domain-verification-", 6) + " token=" + strings.Repeat("9f86d081884c7d65", 8)
		for _, target := range []audit.Target{{Type: "domain", ID: fmt.Sprint(s.acme), Label: "acme.test"}, {Type: "user", ID: "1", Label: "a-very-long-address." + strings.Repeat("x", 60) + "@acme.test"}} {
			if err := audit.Record(db, time.Now().UTC(), s.orgID, audit.Actor{ID: 1, Email: "owner@acme.test"}, "domain.revalidation_required", target, long); err != nil {
				t.Fatal(err)
			}
		}
		today := time.Now().UTC().Format(time.DateOnly)
		for _, width := range []int{1280, 390} {
			t.Run(fmt.Sprint(width), func(t *testing.T) {
				b := newTab(t, s.a)
				if width < 1280 {
					b.narrow()
				}
				b.signIn("owner@acme.test")
				b.open(paths.Audit)
				b.waitText("Every change made in your organization")
				b.fill("actor", "OWNER@")
				eval[bool](b, fmt.Sprintf(`(() => {
					document.getElementById("f-domain").value = %q;
					document.getElementById("f-from").value = %q;
					document.getElementById("f-to").value = %q;
					return true;
				})()`, fmt.Sprint(s.acme), today, today))
				b.press("Apply filters")
				b.waitText("Clear filters")
				// A bookmarkable address: the form's fields, the empty one aside.
				want := paths.AuditFilter{Actor: "OWNER@", Domain: fmt.Sprint(s.acme), From: today, To: today}.Query()
				got, err := url.Parse(b.path())
				if err != nil {
					t.Fatal(err)
				}
				q := got.Query()
				for k, v := range q {
					if v[0] == "" {
						q.Del(k)
					}
				}
				if got.Path != paths.Audit || q.Encode() != want.Encode() {
					t.Fatalf("the filtered log is at %s, want %s?%s", got, paths.Audit, want.Encode())
				}
				b.waitText("Re-validation required")
				b.waitText("domain.revalidation_required")
				b.inspect("audit-filtered")
				checkNotClipped(t, b, ".audit-rows td")

				name, data := b.download("Download CSV")
				if name != "audit-log-acme.test-"+today+".csv" || !strings.HasPrefix(string(data), "time_utc,actor,action,") ||
					!strings.Contains(string(data), "Re-validation required,domain.revalidation_required") {
					t.Errorf("downloaded %s:\n%.300s", name, data)
				}

				b.open(paths.Audit + "?from=2026-02-30&action=domain.stolen")
				b.waitText("“2026-02-30” is not a date")
				b.waitText("There is no such action")
				b.inspect("audit-bad-filter")

				b.open(paths.Domain(s.acme))
				b.waitText("Re-validation required")
				b.inspect("audit-domain-activity")
				checkNotClipped(t, b, ".audit-rows td")
			})
		}
	})
}
