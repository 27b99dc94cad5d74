package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/domains"
	"admincenter/internal/testdb"
	"admincenter/internal/text"
	"admincenter/internal/users"
)

// Counts are written with the one plural helper, and texts give the
// configured durations, not fixed ones.
func TestWordsFollowCountsAndConfiguration(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db, "ADMINCENTER_RECHECK_INTERVAL", "12h", "ADMINCENTER_GRACE_PERIOD", "240h",
			"ADMINCENTER_PROPAGATION_WINDOW", "48h")
		c := a.client()
		c.login("owner@acme.test")

		pending := addDomain(t, c, "initech.test")
		r := c.get(fmt.Sprintf("/admin/domains/%d?tab=dns", pending))
		r.want(t, http.StatusOK, "DNS changes can take up to 48 hours to propagate", "we keep checking automatically for 48 hours")
		if strings.Contains(r.body, "72 hours") {
			t.Error("the pending page still says 72 hours")
		}
		verified := verifyDomain(t, a, c, "acme.test")
		r = c.get(fmt.Sprintf("/admin/domains/%d", verified))
		r.want(t, http.StatusOK, "We check it every 12 hours; if it is removed or altered, you have 10 days to restore it", ", then every 12 hours")
		for _, fixed := range []string{"every day", "30 days"} {
			if strings.Contains(r.body, fixed) {
				t.Errorf("the verified page says %q", fixed)
			}
		}
		c.get(fmt.Sprintf("/admin/domains/%d?tab=unsure", verified)).want(t, http.StatusOK, "it is checked every 12 hours, and removing it")

		// One account, one user at risk, one user to add back.
		sam := a.user("sam@acme.test")
		db.Model(&users.Account{}).Where("owner_id = ?", sam.ID).Delete(&users.Account{})
		if err := db.Create(&users.Account{ID: users.NewAccountID(), Name: "only", OwnerID: sam.ID, OrganizationID: sam.OrganizationID, CreatedAt: time.Now()}).Error; err != nil {
			t.Fatal(err)
		}
		c.get(fmt.Sprintf("/admin/users/%d", sam.ID)).want(t, http.StatusOK, "The accounts they own (1 account) stay with the organization")
		c.post(fmt.Sprintf("/admin/users/%d/remove", sam.ID), url.Values{"ack": {"0", "1"}}).want(t, http.StatusSeeOther)
		r = c.get("/admin/audit")
		r.want(t, http.StatusOK, "1 account now owned by owner@acme.test")
		if !strings.Contains(r.body, " entries · page 1 of") || strings.Contains(r.body, "entrys") {
			t.Errorf("the audit log's count is not in the plural: %s", regexpFind(t, r.body, `\d+ entr\w+ · page`))
		}

		deadline := time.Now().Add(time.Hour)
		db.Model(&domains.Domain{}).Where("id = ?", verified).Updates(map[string]any{
			"status": domains.Revalidating, "deadline_at": deadline, "revalidation_started_at": time.Now()})
		var atRisk int64
		db.Model(&users.User{}).Where("organization_id = ? AND role <> 'owner' AND email LIKE '%@acme.test'", sam.OrganizationID).Count(&atRisk)
		r = c.get(fmt.Sprintf("/admin/domains/%d", verified))
		r.want(t, http.StatusOK, "Re-validation required · 1 hour left")
		r.wantText(t, "the managed users with an address at it ("+text.Count(atRisk, "user")+") are removed")
		c.get("/admin/users").want(t, http.StatusOK, "acme.test needs re-validation: 1 hour left.", text.Count(atRisk, "managed user")+" will be removed then.")
	})
}
