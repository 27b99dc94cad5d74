package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"gorm.io/gorm"

	"admincenter/internal/apikeys"
	"admincenter/internal/testdb"
)

var secretPattern = regexp.MustCompile(`ack_[a-z2-7]{52}`)

// An administrator creates a key on the page, sees its secret once, uses
// it, and revokes it; bad input is refused by field and changes nothing.
func TestAPIKeysPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		c := a.client()
		c.login("owner@acme.test")
		c.get("/admin/api-keys").want(t, http.StatusOK, "No API key yet.", "Create API key")

		r := c.post("/admin/api-keys", url.Values{"name": {"deploy script"}, "scope": {"write"}, "expiry": {"90"}})
		r.want(t, http.StatusCreated, "deploy script was created.", "it is shown only this once")
		secret := secretPattern.FindString(r.body)
		if secret == "" || r.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("no secret shown, or cacheable: %q", r.header.Get("Cache-Control"))
		}
		if got := a.api(secret).do("GET", "/domains", nil); got.status != http.StatusOK {
			t.Fatalf("the new key: %d %s", got.status, got.body)
		}
		list := c.get("/admin/api-keys")
		list.want(t, http.StatusOK, "deploy script", "Read and write", "by owner@acme.test", "from 127.0.0.1", "Active")
		if strings.Contains(list.body, secret) || strings.Contains(list.body, secret[len(apikeys.SecretPrefix)+6:]) {
			t.Error("the list shows the secret again")
		}

		for _, tt := range []struct {
			form  url.Values
			field string
		}{
			{url.Values{"name": {" "}, "scope": {"read"}, "expiry": {"0"}}, "Enter a name"},
			{url.Values{"name": {"x"}, "scope": {"admin"}, "expiry": {"0"}}, "Choose what the key may do"},
			{url.Values{"name": {"x"}, "scope": {"read"}, "expiry": {"7"}}, "Choose when the key expires"},
			{url.Values{"name": {strings.Repeat("n", 101)}, "scope": {"read"}, "expiry": {"x"}}, "at most 100 characters"},
		} {
			c.post("/admin/api-keys", tt.form).want(t, http.StatusUnprocessableEntity, tt.field)
		}
		var n int64
		db.Model(&apikeys.Key{}).Count(&n)
		if n != 1 {
			t.Errorf("%d keys after refused forms, want 1", n)
		}

		var k apikeys.Key
		db.Take(&k)
		other := a.client()
		other.login("owner@globex.test")
		other.post(fmt.Sprintf("/admin/api-keys/%d/revoke", k.ID), nil).want(t, http.StatusNotFound)
		standard := a.client()
		standard.login("sam@acme.test")
		standard.get("/admin/api-keys").want(t, http.StatusForbidden)
		c.postRaw(fmt.Sprintf("/admin/api-keys/%d/revoke", k.ID), url.Values{}).want(t, http.StatusForbidden) // no CSRF token

		c.post(fmt.Sprintf("/admin/api-keys/%d/revoke", k.ID), nil).want(t, http.StatusSeeOther)
		c.get("/admin/api-keys").want(t, http.StatusOK, "deploy script was revoked", "Revoked", "by owner@acme.test")
		if got := a.api(secret).do("GET", "/domains", nil); got.status != http.StatusUnauthorized {
			t.Errorf("a revoked key: %d", got.status)
		}
		c.get("/admin/audit?action=apikey.revoked").want(t, http.StatusOK, "deploy script")
	})
}
