package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	appsvc "admincenter/internal/app"
	"admincenter/internal/clock"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
	"admincenter/web"
)

// Sessions live in the database and every request reads its session with
// its person: a session ended on one instance (signed out, a password
// reset, the person deactivated or demoted) is refused by every other
// instance on its very next request.
func TestASessionEndedOnOneInstanceIsRefusedOnEvery(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		svc, err := appsvc.New(a.svc.Config, db, clock.Now, bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		other := httptest.NewServer(web.New(svc, "test-secret-test-secret-test-secret"))
		t.Cleanup(other.Close)
		// onOther asks the other instance for a page with the session of c.
		onOther := func(c *client, path string) *http.Response {
			t.Helper()
			u, _ := url.Parse(a.url)
			req, _ := http.NewRequest(http.MethodGet, other.URL+path, nil)
			for _, k := range c.http.Jar.Cookies(u) {
				req.AddCookie(k)
			}
			resp, err := c.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		signedOut := func(resp *http.Response) bool {
			return resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/login")
		}

		for _, end := range []struct {
			name  string
			email string
			how   func(c *client)
		}{
			{"signed out", "owner@acme.test", func(c *client) { c.post("/logout", nil).want(t, http.StatusSeeOther) }},
			{"password reset", "owner@acme.test", func(*client) {
				db.Model(&users.User{}).Where("email = ?", "owner@acme.test").Update("sessions_valid_after", time.Now().Add(time.Second))
			}},
			{"deactivated", "admin@acme.test", func(*client) {
				db.Model(&users.User{}).Where("email = ?", "admin@acme.test").Update("deactivated_at", time.Now())
			}},
		} {
			c := a.client()
			c.login(end.email)
			if resp := onOther(c, "/admin/domains"); resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: the other instance answered %s to a live session", end.name, resp.Status)
			}
			end.how(c)
			if resp := onOther(c, "/admin/domains"); !signedOut(resp) {
				t.Errorf("%s: the other instance answered %s, want the sign-in page", end.name, resp.Status)
			}
		}

		// Demoted to Standard User, a person keeps their session but not
		// the Admin Center, on every instance.
		c := a.client()
		c.login("sam@acme.test")
		db.Model(&users.User{}).Where("email = ?", "sam@acme.test").Update("role", users.Admin)
		if resp := onOther(c, "/admin/domains"); resp.StatusCode != http.StatusOK {
			t.Fatalf("promoted: %s", resp.Status)
		}
		db.Model(&users.User{}).Where("email = ?", "sam@acme.test").Update("role", users.Standard)
		if resp := onOther(c, "/admin/domains"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("demoted: the other instance answered %s, want 403", resp.Status)
		}
	})
}
