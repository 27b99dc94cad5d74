package web_test

import (
	"maps"
	"net/http"
	"net/url"
	"testing"

	"gorm.io/gorm"

	"admincenter/internal/testdb"
)

// hostileText is text that no name, email or search may contain, with the
// end of the message that refuses it.
var hostileText = []struct{ text, refusal string }{
	{"\x00", "cannot contain control characters (found U+0000)."},
	{"\xff", "must be text: it contains bytes that are not valid UTF-8."},
	{"\x1b[31m", "cannot contain control characters (found U+001B)."},
	{"\t", "cannot contain control characters (found U+0009)."},
	{"\x7f", "cannot contain control characters (found U+007F)."},
	{"\u0085", "cannot contain control characters (found U+0085)."},
	{"\u202e", "cannot contain invisible direction characters (found U+202E)."},
	{"\u2066", "cannot contain invisible direction characters (found U+2066)."},
	{"\u200f", "cannot contain invisible direction characters (found U+200F)."},
}

// storedRows counts the rows of every table a refused form could write.
func storedRows(t *testing.T, db *gorm.DB) map[string]int64 {
	t.Helper()
	n := map[string]int64{}
	for _, table := range []string{"users", "accounts", "organizations", "invitations", "login_failures", "user_tokens", "outbox", "audit_log"} {
		var c int64
		if err := db.Table(table).Count(&c).Error; err != nil {
			t.Fatal(err)
		}
		n[table] = c
	}
	return n
}

// TestHostileTextRefused sends each hostile text through every form where
// a name, an email or a search enters: each answers with its message next
// to the field and stores nothing, on both databases.
func TestHostileTextRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		admin := a.client()
		admin.login("admin@acme.test")
		verifyDomain(t, a, admin, "acme.test")
		admin.post("/admin/users/invite", url.Values{"email": {"nina.new@acme.test"}, "role": {"standard"}}).want(t, http.StatusSeeOther)
		link := mailLink(t, admin, "nina.new@acme.test", "You are invited to join Acme Corp")
		token, _ := url.QueryUnescape(regexpFind(t, link, `token=([^&]+)`))
		unmanaged := a.client()
		unmanaged.login("ava.adams@acme.test")
		anon := a.client()

		const password = "long enough pw"
		forms := []struct {
			entry string
			c     *client
			path  string
			form  func(bad string) url.Values
			field string // the id of the field's message
			what  string // how the message names the field
		}{
			{"sign-up name", anon, "/signup", func(bad string) url.Values {
				return url.Values{"name": {"Eve" + bad + "Evil"}, "email": {"eve@example.com"}, "password": {password}}
			}, "f-name", "A name"},
			{"sign-up email", anon, "/signup", func(bad string) url.Values {
				return url.Values{"name": {"Eve"}, "email": {"eve" + bad + "@example.com"}, "password": {password}}
			}, "f-email", "An email address"},
			{"sign-in email", anon, "/login", func(bad string) url.Values {
				return url.Values{"email": {"owner" + bad + "@acme.test"}, "password": {password}}
			}, "f-email", "An email address"},
			{"forgotten password email", anon, "/password/forgot", func(bad string) url.Values {
				return url.Values{"email": {"owner" + bad + "@acme.test"}}
			}, "f-email", "An email address"},
			{"account name", admin, "/accounts", func(bad string) url.Values {
				return url.Values{"name": {"Side" + bad + "Project"}}
			}, "f-name", "An account name"},
			{"organization name", unmanaged, "/organizations", func(bad string) url.Values {
				return url.Values{"name": {"Ava" + bad + "Ventures"}}
			}, "f-name", "An organization name"},
			{"invitation email", admin, "/admin/users/invite", func(bad string) url.Values {
				return url.Values{"email": {"eve" + bad + "@acme.test"}, "role": {"standard"}}
			}, "f-email", "An email address"},
			{"invitation sign-up name", anon, "/invitations/signup", func(bad string) url.Values {
				return url.Values{"token": {token}, "name": {"Nina" + bad + "New"}, "password": {password}}
			}, "f-name", "A name"},
		}
		for _, h := range hostileText {
			for _, f := range forms {
				t.Run(f.entry+"/"+url.QueryEscape(h.text), func(t *testing.T) {
					before := storedRows(t, db)
					f.c.post(f.path, f.form(h.text)).want(t, http.StatusUnprocessableEntity,
						`id="`+f.field+`-error">`+f.what+" "+h.refusal+"</p>")
					if after := storedRows(t, db); !maps.Equal(before, after) {
						t.Fatalf("stored rows: %v, then %v", before, after)
					}
				})
			}
			t.Run("users search/"+url.QueryEscape(h.text), func(t *testing.T) {
				// Listed without the search, which is named as the problem.
				admin.get("/admin/users?q="+url.QueryEscape("sa"+h.text+"m")).want(t, http.StatusOK,
					`aria-describedby="q-error"`, `id="q-error">A search `+h.refusal+"</p>", "Olivia Owner", "Sam Standard", "3 users")
			})
		}

		// The invited person can still sign up with a plain name.
		a.client().post("/invitations/signup", url.Values{"token": {token}, "name": {"Nina New"}, "password": {password}}).want(t, http.StatusSeeOther)
	})
}

// TestPasswordsAreBytes: a password is hashed, never stored nor shown, so
// any bytes may be in it, and none reaches the database as text.
func TestPasswordsAreBytes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		const password = "long\x00enough\xff\u202epw"
		a.client().post("/signup", url.Values{"name": {"Pat"}, "email": {"pat@example.com"}, "password": {password}}).want(t, http.StatusSeeOther)
		a.client().post("/login", url.Values{"email": {"pat@example.com"}, "password": {"long\x00enough"}}).want(t, http.StatusUnauthorized, "Incorrect email or password.")
		a.client().post("/login", url.Values{"email": {"pat@example.com"}, "password": {password}}).want(t, http.StatusSeeOther)
	})
}
