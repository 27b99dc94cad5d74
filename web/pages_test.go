package web_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gorm.io/gorm"

	"admincenter/internal/testdb"
	"admincenter/internal/users"
)

func TestOperationsEndpoints(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		c := a.client()
		c.get("/healthz").want(t, http.StatusOK, "ok")
		c.get("/readyz").want(t, http.StatusOK, "ready")
		c.get("/login")
		c.get("/metrics").want(t, http.StatusOK, `admincenter_http_requests_total{method="GET",route="/login",status="200"} 1`,
			"admincenter_http_request_duration_seconds_bucket", "admincenter_db_transactions_retried_total")
	})
}

func TestStaticAssetsAreCacheBusted(t *testing.T) {
	a := newApp(t, testdb.SQLite(t))
	c := a.client()
	page := c.get("/login")
	path := regexpFind(t, page.body, `href="(/static/[0-9a-f]{12}/app\.css)"`)
	r := c.get(path)
	r.want(t, http.StatusOK, "--accent")
	if r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") {
		t.Fatalf("headers %v", r.header)
	}
	c.get("/static/000000000000/app.css").want(t, http.StatusNotFound)
}

func TestSecurityHeadersAndCookies(t *testing.T) {
	a := newApp(t, testdb.SQLite(t), "ADMINCENTER_BASE_URL", "https://admin.example.com")
	c := a.client()
	r := c.get("/login")
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("CSP %q", csp)
	}
	if r.header.Get("X-Frame-Options") != "DENY" || r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("headers %v", r.header)
	}
	cookie := r.header.Get("Set-Cookie")
	for _, want := range []string{"admincenter_session=", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(cookie, want) {
			t.Fatalf("cookie %q lacks %s", cookie, want)
		}
	}
}

func TestCSRFRequired(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		c := a.client()
		c.login("owner@acme.test")
		sam := a.userID("sam@acme.test")
		path := fmt.Sprintf("/admin/users/%d/role", sam)
		c.postRaw(path, url.Values{"role": {"admin"}}).want(t, http.StatusForbidden, "did not come from this site")
		c.postRaw(path, url.Values{"role": {"admin"}, "_csrf": {"forged"}}).want(t, http.StatusForbidden)
		if a.user("sam@acme.test").Role != users.Standard {
			t.Fatal("a forged POST changed the role")
		}
		other := a.client()
		other.get("/login")
		c.post(path, url.Values{"role": {"admin"}, "_csrf": {other.csrf}}).want(t, http.StatusForbidden)
		c.post(path, url.Values{"role": {"admin"}}).want(t, http.StatusSeeOther)
		if a.user("sam@acme.test").Role != users.Admin {
			t.Fatal("a genuine POST did not change the role")
		}
	})
}

func TestSignInRenewsSessionAndSignOutEndsIt(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		c := a.client()
		c.get("/login")
		u, _ := url.Parse(a.url)
		before := c.http.Jar.Cookies(u)[0].Value
		c.login("owner@acme.test")
		after := c.http.Jar.Cookies(u)[0].Value
		if before == after {
			t.Fatal("the session cookie did not change at sign-in")
		}
		c.get("/admin/users").want(t, http.StatusOK, "Olivia Owner")
		stolen := a.client()
		stolen.http.Jar.SetCookies(u, []*http.Cookie{{Name: "admincenter_session", Value: after}})
		stolen.get("/admin/users").want(t, http.StatusOK)
		c.post("/logout", nil).want(t, http.StatusSeeOther)
		if r := stolen.get("/admin/users"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/login") {
			t.Fatalf("a signed-out session still works: %d %s", r.status, r.location)
		}
	})
}

func TestSignUpFormErrors(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		var before int64
		db.Model(&users.User{}).Count(&before)
		cases := []struct {
			form url.Values
			want string
		}{
			{url.Values{"name": {""}, "email": {"new@example.com"}, "password": {"long enough pw"}}, "Enter your name."},
			{url.Values{"name": {"New"}, "email": {"not-an-email"}, "password": {"long enough pw"}}, "Enter a valid email address"},
			{url.Values{"name": {"New"}, "email": {"new@example.com"}, "password": {"short"}}, "at least 10 characters"},
			{url.Values{"name": {"New"}, "email": {"owner@acme.test"}, "password": {"long enough pw"}}, "already exists"},
		}
		for _, tc := range cases {
			c := a.client()
			r := c.post("/signup", tc.form)
			r.want(t, http.StatusUnprocessableEntity, tc.want, `aria-invalid="true"`)
			if tc.form.Get("email") != "" && !strings.Contains(r.body, `value="`+tc.form.Get("email")+`"`) {
				t.Fatalf("the form lost the email")
			}
		}
		var after int64
		db.Model(&users.User{}).Count(&after)
		if after != before {
			t.Fatalf("refused sign-ups created %d users", after-before)
		}
	})
}

func TestLoginErrorsAndThrottle(t *testing.T) {
	a := newApp(t, testdb.SQLite(t))
	c := a.client()
	c.post("/login", url.Values{"email": {"owner@acme.test"}, "password": {""}}).want(t, http.StatusUnprocessableEntity, "Enter your password.")
	for range 5 {
		c.post("/login", url.Values{"email": {"owner@acme.test"}, "password": {"wrong password"}}).want(t, http.StatusUnauthorized, "Incorrect email or password.")
	}
	c.post("/login", url.Values{"email": {"owner@acme.test"}, "password": {"demo-password"}}).want(t, http.StatusTooManyRequests, "Too many failed sign-in attempts")
	a.client().post("/login", url.Values{"email": {"ava.adams@acme.test"}, "password": {"demo-password"}}).want(t, http.StatusSeeOther)
}

func TestLoginRedirectStaysOnSite(t *testing.T) {
	a := newApp(t, testdb.SQLite(t))
	c := a.client()
	r := c.get("/admin/users?page=2")
	if r.status != http.StatusSeeOther || r.location != "/login?next=%2Fadmin%2Fusers%3Fpage%3D2" {
		t.Fatalf("%d %s", r.status, r.location)
	}
	c.get("/login")
	r = c.post("/login", url.Values{"email": {"owner@acme.test"}, "password": {"demo-password"}, "next": {"/admin/users?page=2"}})
	if r.location != "/admin/users?page=2" {
		t.Fatalf("next: %s", r.location)
	}
	for _, evil := range []string{"https://evil.example", "//evil.example", `/\evil.example`} {
		c := a.client()
		r := c.post("/login", url.Values{"email": {"owner@acme.test"}, "password": {"demo-password"}, "next": {evil}})
		if r.location != "/" {
			t.Fatalf("next=%s redirected to %s", evil, r.location)
		}
	}
}

func TestAdminCenterAuthorization(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		globexUser := a.userID("maya.adams@acme.test") // managed by Globex
		sam := a.userID("sam@acme.test")

		std := a.client()
		std.login("sam@acme.test")
		for _, path := range []string{"/admin/domains", "/admin/users", "/admin/audit", fmt.Sprintf("/admin/users/%d", sam)} {
			std.get(path).want(t, http.StatusForbidden, "only for the Owner and Administrators")
		}
		std.post(fmt.Sprintf("/admin/users/%d/role", sam), url.Values{"role": {"admin"}}).want(t, http.StatusForbidden)

		owner := a.client()
		owner.login("owner@acme.test")
		owner.get(fmt.Sprintf("/admin/users/%d", globexUser)).want(t, http.StatusNotFound)
		owner.get("/admin/users/99999").want(t, http.StatusNotFound)
		owner.get("/admin/users/abc").want(t, http.StatusNotFound)
		for _, action := range []string{"role", "remove", "transfer-ownership"} {
			owner.post(fmt.Sprintf("/admin/users/%d/%s", globexUser, action), url.Values{"role": {"admin"}, "ack": {"0", "1"}}).want(t, http.StatusNotFound)
		}
		if u := a.user("maya.adams@acme.test"); u.Role != users.Standard || !u.Managed() {
			t.Fatal("another organization's user changed")
		}

		anon := a.client()
		if r := anon.get("/admin/domains"); r.status != http.StatusSeeOther {
			t.Fatalf("anonymous: %d", r.status)
		}
	})
}

func TestUsersPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		c := a.client()
		c.login("admin@acme.test")
		r := c.get("/admin/users")
		r.want(t, http.StatusOK, "Olivia Owner", "Owner", "Adam Admin", "Administrator", "Sam Standard", "Standard User", "3 users")
		if strings.Contains(r.body, "ava.adams@acme.test") {
			t.Fatal("an unmanaged user is listed")
		}
		c.get("/admin/users?q=sam").want(t, http.StatusOK, "Sam Standard", "1 user ")
		c.get("/admin/users?q=nobody").want(t, http.StatusOK, "No users found")
		c.get("/admin/users?page=-3").want(t, http.StatusOK, "page 1 of 1")
	})
}

func TestChangeRoleAndRemoveFromPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		c := a.client()
		c.login("admin@acme.test")
		sam := a.userID("sam@acme.test")
		owner := a.userID("owner@acme.test")
		page := fmt.Sprintf("/admin/users/%d", sam)

		c.post(page+"/role", url.Values{"role": {"owner"}}).want(t, http.StatusUnprocessableEntity, "transfer ownership")
		c.post(fmt.Sprintf("/admin/users/%d/role", owner), url.Values{"role": {"standard"}}).want(t, http.StatusUnprocessableEntity, "The Owner's role cannot be changed")
		c.post(page+"/role", url.Values{"role": {"admin"}}).want(t, http.StatusSeeOther)
		c.get(page).want(t, http.StatusOK, "Role changed to Administrator.")

		acks := url.Values{"ack": {"0", "1"}}
		c.post(fmt.Sprintf("/admin/users/%d/remove", owner), acks).want(t, http.StatusConflict, "The Owner cannot be removed")
		c.post(page+"/remove", acks).want(t, http.StatusSeeOther)
		if a.user("sam@acme.test").Managed() {
			t.Fatal("still managed after removal")
		}
		c.get("/admin/audit").want(t, http.StatusOK, "member.removed", "member.role_changed", "sam@acme.test")
		c.get(page).want(t, http.StatusNotFound)
		// The login survives as an unmanaged user.
		sc := a.client()
		sc.login("sam@acme.test")
		sc.get("/accounts").want(t, http.StatusOK, "No accounts yet", "Create an organization") // the accounts stayed with the organization
	})
}

func TestOwnershipTransferFromPage(t *testing.T) {
	a := newApp(t, testdb.SQLite(t))
	admin := a.userID("admin@acme.test")
	ac := a.client()
	ac.login("admin@acme.test")
	acks := func() url.Values { return url.Values{"ack": {"0", "1"}} }
	ac.post(fmt.Sprintf("/admin/users/%d/transfer-ownership", a.userID("sam@acme.test")), acks()).want(t, http.StatusForbidden, "Only the Owner")

	oc := a.client()
	oc.login("owner@acme.test")
	oc.get(fmt.Sprintf("/admin/users/%d", admin)).want(t, http.StatusOK, "Transfer ownership")
	oc.post(fmt.Sprintf("/admin/users/%d/transfer-ownership", admin), acks()).want(t, http.StatusSeeOther)
	if a.user("admin@acme.test").Role != users.Owner || a.user("owner@acme.test").Role != users.Admin {
		t.Fatal("ownership did not move")
	}
}

// Remove user and Transfer ownership need every box of their dialog
// ticked, on the server too: a request without them changes nothing.
func TestMemberDialogsNeedEveryAcknowledgement(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		c := a.client()
		c.login("owner@acme.test")
		sam, admin := a.userID("sam@acme.test"), a.userID("admin@acme.test")
		for _, acks := range [][]string{nil, {"0"}, {"1"}, {"0", "0"}, {"1", "2"}} {
			form := url.Values{"ack": acks}
			c.post(fmt.Sprintf("/admin/users/%d/remove", sam), form).
				want(t, http.StatusUnprocessableEntity, "Nothing changed: tick every box", "Remove user")
			c.post(fmt.Sprintf("/admin/users/%d/transfer-ownership", admin), form).
				want(t, http.StatusUnprocessableEntity, "Nothing changed: tick every box", "Transfer ownership")
		}
		if !a.user("sam@acme.test").Managed() || a.user("admin@acme.test").Role != users.Admin || a.user("owner@acme.test").Role != users.Owner {
			t.Fatal("a request without every acknowledgement changed a member")
		}
		var n int64
		db.Table("audit_log").Where("action IN ?", []string{"member.removed", "ownership.transferred"}).Count(&n)
		if n != 0 {
			t.Fatalf("%d audit entries of changes that were refused", n)
		}
	})
}

func TestCreateOrganizationErrors(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		c := a.client()
		c.login("ava.adams@acme.test")
		c.post("/organizations", url.Values{"name": {"   "}}).want(t, http.StatusUnprocessableEntity, "Enter a name for your organization.")
		var n int64
		db.Table("organizations").Count(&n)
		c.post("/organizations", url.Values{"name": {"Ava Ventures"}}).want(t, http.StatusSeeOther)
		c.get("/admin/domains").want(t, http.StatusOK, "Ava Ventures", "No domains yet")
		c.get("/organizations/new").want(t, http.StatusConflict, "already belong")

		member := a.client()
		member.login("sam@acme.test")
		member.post("/organizations", url.Values{"name": {"Breakaway"}}).want(t, http.StatusConflict, "already belong")

		unverified := a.client()
		unverified.login("felix.adams@acme.test") // index 5: email not verified
		unverified.post("/organizations", url.Values{"name": {"Sneaky"}}).want(t, http.StatusForbidden, "Verify your email")
		var after int64
		db.Table("organizations").Count(&after)
		if after != n+1 {
			t.Fatalf("%d organizations created, want 1", after-n)
		}
	})
}

func TestAccountsPage(t *testing.T) {
	a := newApp(t, testdb.SQLite(t))
	c := a.client()
	c.login("sam@acme.test")
	c.post("/accounts", url.Values{"name": {""}}).want(t, http.StatusUnprocessableEntity, "Enter a name for the account.")
	c.post("/accounts", url.Values{"name": {"Sam's Second"}}).want(t, http.StatusSeeOther)
	c.get("/accounts").want(t, http.StatusOK, "Account “Sam's Second” created.", "Sam's Sandbox")
}

func TestPasswordResetPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		c := a.client()
		c.post("/password/forgot", url.Values{"email": {"bad"}}).want(t, http.StatusUnprocessableEntity, "valid email")
		c.post("/password/forgot", url.Values{"email": {"nobody@example.com"}}).want(t, http.StatusOK, "If nobody@example.com belongs to a login")
		c.post("/password/forgot", url.Values{"email": {"sam@acme.test"}}).want(t, http.StatusOK, "If sam@acme.test belongs to a login")
		link := mailLink(t, c, "sam@acme.test", "Reset your password")
		c.get(link).want(t, http.StatusOK, "Choose a new password")
		token := regexpFind(t, link, `token=([^&]+)`)
		tok, _ := url.QueryUnescape(token)
		c.post("/password/reset", url.Values{"token": {tok}, "password": {"short"}}).want(t, http.StatusUnprocessableEntity, "at least 10")
		c.post("/password/reset", url.Values{"token": {tok}, "password": {"a brand new secret"}}).want(t, http.StatusSeeOther)
		c.get("/password/reset?token="+token).want(t, http.StatusNotFound, "expired or was already used")
		d := a.client()
		d.post("/login", url.Values{"email": {"sam@acme.test"}, "password": {"a brand new secret"}}).want(t, http.StatusSeeOther)
	})
}

func TestMailboxOnlyInDevelopment(t *testing.T) {
	a := newApp(t, testdb.SQLite(t), "ADMINCENTER_DEV", "false")
	a.client().get("/dev/mailbox").want(t, http.StatusNotFound)
}

// Pages, styles and scripts are served compressed to browsers that ask,
// and the CSRF token a page repeats differs on every page.
func TestPagesAreCompressed(t *testing.T) {
	a := newApp(t, testdb.SQLite(t))
	c := a.client()
	c.login("owner@acme.test")
	page := c.get("/admin/domains")
	css := regexpFind(t, page.body, `(/static/[0-9a-f]+/app\.css)`)
	js := regexpFind(t, page.body, `(/static/[0-9a-f]+/htmx\.min\.js)`)
	for _, path := range []string{"/admin/domains", css, js} {
		req, _ := http.NewRequest(http.MethodGet, a.url+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ContentLength != -1 && resp.ContentLength != int64(len(raw)) {
			t.Errorf("%s: compressed to %d bytes with a Content-Length of %d", path, len(raw), resp.ContentLength)
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if resp.Header.Get("Content-Encoding") != "gzip" || err != nil {
			t.Fatalf("%s: Content-Encoding %q, %v", path, resp.Header.Get("Content-Encoding"), err)
		}
		plain, _ := io.ReadAll(zr)
		if len(raw)*4 > len(plain)*3 {
			t.Errorf("%s: %d bytes compressed to %d", path, len(plain), len(raw))
		}
	}
	// Uncompressed, a page says its length: it goes out in one write, not
	// in chunks.
	req, _ := http.NewRequest(http.MethodGet, a.url+"/admin/domains", nil)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
		t.Errorf("the page of %d bytes came with a Content-Length of %d, %v", len(body), resp.ContentLength, resp.TransferEncoding)
	}
	second := c.get("/admin/domains")
	first, again := csrfPattern.FindStringSubmatch(page.body), csrfPattern.FindStringSubmatch(second.body)
	if first == nil || again == nil || first[1] == again[1] {
		t.Error("two pages repeat the same CSRF token bytes")
	}
}

// A member page without actions says why there are none.
func TestMemberPageSaysWhyItHasNoActions(t *testing.T) {
	a := newApp(t, testdb.SQLite(t))
	owner, admin := a.client(), a.client()
	owner.login("owner@acme.test")
	admin.login("admin@acme.test")
	ownerPage, adminPage := fmt.Sprintf("/admin/users/%d", a.userID("owner@acme.test")), fmt.Sprintf("/admin/users/%d", a.userID("admin@acme.test"))
	owner.get(ownerPage).wantText(t, "This is you. Nobody can change the Owner's role or remove the Owner")
	admin.get(adminPage).wantText(t, "This is you. Your role can be changed, and you can be removed, only by another Administrator or the Owner.")
	admin.get(ownerPage).wantText(t, "Olivia Owner is the Owner: nobody can change their role or remove them.")
	if r := owner.get(adminPage); strings.Contains(r.body, "member-why-no-actions") {
		t.Error("a page with actions explains why it has none")
	}
}
