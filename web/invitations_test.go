package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gorm.io/gorm"

	"admincenter/internal/invites"
	"admincenter/internal/testdb"
)

// verifyDomain adds and verifies a domain for c's organization.
func verifyDomain(t testing.TB, a *app, c *client, name string) int64 {
	t.Helper()
	id := addDomain(t, c, name)
	a.dns.Add(t, `_twilio.`+name+`. 300 IN TXT "`+a.domain(id).Token+`"`)
	c.post(fmt.Sprintf("/admin/domains/%d/verify", id), url.Values{"method": {"dns"}}).want(t, http.StatusSeeOther)
	if a.domain(id).Status != "verified" {
		t.Fatalf("%s not verified", name)
	}
	return id
}

func TestInviteExistingUser(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		admin := a.client()
		admin.login("admin@acme.test")
		verifyDomain(t, a, admin, "acme.test")
		admin.post("/admin/users/invite", url.Values{"email": {"ava.adams@acme.test"}, "role": {"standard"}}).want(t, http.StatusSeeOther)
		admin.post("/admin/users/invite", url.Values{"email": {"ava.adams@acme.test"}, "role": {"standard"}}).
			want(t, http.StatusUnprocessableEntity, "already pending")

		// Someone else signed in cannot use Ava's link.
		link := mailLink(t, admin, "ava.adams@acme.test", "You are invited to join Acme Corp")
		other := a.client()
		other.login("ben.adams@acme.test")
		other.get(link).want(t, http.StatusOK, "but you are signed in as ben.adams@acme.test")
		token, _ := url.QueryUnescape(regexpFind(t, link, `token=([^&]+)`))
		other.post("/invitations/accept", url.Values{"token": {token}}).want(t, http.StatusForbidden, "This invitation is for ava.adams@acme.test")

		// Ava signs in through the link and accepts.
		ava := a.client()
		r := ava.get(link)
		r.want(t, http.StatusOK, "Sign in as ava.adams@acme.test to accept")
		login := regexpFind(t, r.body, `href="(/login\?next=[^"]+)"`)
		page := ava.get(login)
		r = ava.post("/login", url.Values{"email": {"ava.adams@acme.test"}, "password": {"demo-password"},
			"next": {regexpFind(t, page.body, `name="next" value="([^"]+)"`)}})
		next := r.location
		if !strings.HasPrefix(next, "/invitations/accept?token=") {
			t.Fatalf("after sign-in: %s", r.location)
		}
		ava.get(next).want(t, http.StatusOK, "Accept invitation")
		ava.post("/invitations/accept", url.Values{"token": {token}}).want(t, http.StatusSeeOther)
		u := a.user("ava.adams@acme.test")
		if !u.Managed() || u.Role != "standard" {
			t.Fatalf("after accepting: %+v", u)
		}
		var accounts int64
		db.Table("accounts").Where("owner_id = ? AND organization_id = ?", u.ID, u.OrgID()).Count(&accounts)
		if accounts == 0 {
			t.Fatal("Ava's accounts did not join the organization")
		}
		ava.get(link).want(t, http.StatusNotFound, "already accepted")
		admin.get("/admin/audit").want(t, http.StatusOK, "invitation.accepted", "invitation.sent")
	})
}

func TestInvitationRoutesAuthorization(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		globex := a.client()
		globex.login("owner@globex.test")
		verifyDomain(t, a, globex, "globex.test")
		globex.post("/admin/users/invite", url.Values{"email": {"new@globex.test"}, "role": {"admin"}}).want(t, http.StatusSeeOther)
		var inv invites.Invitation
		db.Where("email = ?", "new@globex.test").Take(&inv)

		owner := a.client()
		owner.login("owner@acme.test")
		for _, action := range []string{"resend", "cancel"} {
			owner.post(fmt.Sprintf("/admin/invitations/%d/%s", inv.ID, action), nil).want(t, http.StatusNotFound)
		}
		std := a.client()
		std.login("sam@acme.test")
		std.get("/admin/users/invite").want(t, http.StatusForbidden)
		std.post("/admin/users/invite", url.Values{"email": {"x@acme.test"}, "role": {"standard"}}).want(t, http.StatusForbidden)

		globex.post(fmt.Sprintf("/admin/invitations/%d/cancel", inv.ID), nil).want(t, http.StatusSeeOther)
		link := mailLink(t, globex, "new@globex.test", "You are invited to join Globex")
		a.client().get(link).want(t, http.StatusNotFound, "cancelled")
	})
}
