package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"gorm.io/gorm"

	"admincenter/internal/testdb"
)

// An error shown to a signed-in person keeps their pages around it; a
// person without an organization who opens the Admin Center is offered to
// create one; a stray address read by a visitor writes nothing.
func TestErrorPagesKeepTheSignedInShell(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		owner := a.client()
		owner.login("owner@acme.test")
		r := owner.get("/admin/nowhere")
		r.want(t, http.StatusNotFound, "There is no page at this address.", "Sign out", `aria-label="Admin Center"`, "Go to your home page")
		if strings.Contains(r.body, `>Sign in<`) {
			t.Error("a signed-in person's 404 offers to sign in")
		}
		owner.get(fmt.Sprintf("/admin/users/%d", 424242)).want(t, http.StatusNotFound, "Sign out")

		loner := a.client()
		loner.login("ava.adams@acme.test") // signed up, in no organization
		loner.get("/admin/domains").want(t, http.StatusForbidden, "<h1>No organization yet</h1>", `<div class="alert info" role="status">You do not belong to an organization yet`,
			`href="/organizations/new"`, "Create an organization", "Sign out", "Your accounts")

		var before, after int64
		db.Table("sessions").Count(&before)
		a.client().get("/admin/nowhere").want(t, http.StatusNotFound, "Sign in")
		db.Table("sessions").Count(&after)
		if after != before {
			t.Errorf("a visitor's stray request wrote %d sessions", after-before)
		}
	})
}

// The invite page says that a domain needs re-validation, not that the
// organization has none.
func TestInvitePageDuringRevalidation(t *testing.T) {
	a := newApp(t, testdb.SQLite(t))
	c := a.client()
	c.login("owner@acme.test")
	id := verifyDomain(t, a, c, "acme.test")
	a.db.Table("domains").Where("id = ?", id).Updates(map[string]any{"status": "revalidating", "deadline_at": a.domain(id).CreatedAt.AddDate(0, 1, 0)})
	r := c.get("/admin/users/invite")
	r.want(t, http.StatusOK, "Re-validation required for acme.test: until the proof is restored, nobody can be invited at acme.test.")
	if strings.Contains(r.body, "it has none yet") {
		t.Error("the invite page says the organization has no verified domain")
	}
}
