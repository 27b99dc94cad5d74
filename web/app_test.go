package web_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	appsvc "admincenter/internal/app"
	"admincenter/internal/clock"
	"admincenter/internal/config"
	"admincenter/internal/demo"
	"admincenter/internal/testdb"
	"admincenter/internal/testnet"
	"admincenter/internal/users"
	"admincenter/web"
)

func TestMain(m *testing.M) {
	code := testdb.Main(m)
	closeBrowser()
	os.Exit(code)
}

// app is a real Admin Center on a loopback port with the demo data, a DNS
// server and an HTTPS site that stand for the public Internet, all set up
// through the documented environment variables only.
type app struct {
	t    testing.TB
	db   *gorm.DB
	srv  *httptest.Server
	url  string
	web  *web.Server
	svc  *appsvc.Services
	dns  *testnet.DNS
	site *testnet.Site
	// files are what the HTTPS site serves, by path, for any of siteNames,
	// with status 200 unless codes says otherwise.
	mu    sync.Mutex
	files map[string]string
	codes map[string]int
}

// siteNames are the test domains whose websites the HTTPS site serves.
var siteNames = []string{"acme.test", "www.acme.test", "initech.test", "xn--bcher-kva.test", "example.test"}

func newApp(t testing.TB, db *gorm.DB, env ...string) *app {
	t.Helper()
	a := &app{t: t, db: db, files: map[string]string{}, codes: map[string]int{}}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.web.ServeHTTP(w, r) }))
	t.Cleanup(a.srv.Close)
	a.url = a.srv.URL

	ca := testnet.NewCA(t, "Admin Center test CA")
	a.dns = testnet.StartDNS(t)
	for _, name := range siteNames {
		a.dns.Add(t, name+". 300 IN A 127.0.0.1")
	}
	a.site = testnet.StartSite(t, ca.Issue(t, siteNames...), func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		body, ok := a.files[r.URL.Path]
		code := a.codes[r.URL.Path]
		a.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		if code != 0 {
			w.WriteHeader(code)
		}
		io.WriteString(w, body)
	})

	vars := map[string]string{
		"ADMINCENTER_BASE_URL":             a.url,
		"ADMINCENTER_DEV":                  "true",
		"ADMINCENTER_DNS_SERVERS":          a.dns.Addr,
		"ADMINCENTER_VERIFY_HTTPS_PORT":    a.site.PortString(),
		"ADMINCENTER_VERIFY_ALLOW_PRIVATE": "true",
		"SSL_CERT_FILE":                    ca.WriteFile(t),
	}
	for i := 0; i+1 < len(env); i += 2 {
		vars[env[i]] = env[i+1]
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(context.Background(), db, clock.Now(), bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	if a.svc, err = appsvc.New(cfg, db, clock.Now, bcrypt.MinCost); err != nil {
		t.Fatal(err)
	}
	a.web = web.New(a.svc, "test-secret-test-secret-test-secret")
	return a
}

// serve makes the HTTPS site serve body at path.
func (a *app) serve(path, body string) { a.serveStatus(path, http.StatusOK, body) }

// serveStatus makes the HTTPS site answer path with status and body.
func (a *app) serveStatus(path string, status int, body string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.files[path], a.codes[path] = body, status
}

// userID returns the id of the user with this email.
func (a *app) userID(email string) int64 {
	a.t.Helper()
	var u users.User
	if err := a.db.Where("email = ?", email).Take(&u).Error; err != nil {
		a.t.Fatal(err)
	}
	return u.ID
}

func (a *app) user(email string) users.User {
	a.t.Helper()
	var u users.User
	if err := a.db.Where("email = ?", email).Take(&u).Error; err != nil {
		a.t.Fatal(err)
	}
	return u
}

// client is one browser-like visitor: it keeps cookies and does not follow
// redirects, so tests see them.
type client struct {
	t    testing.TB
	app  *app
	http *http.Client
	csrf string
}

func (a *app) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: a.t, app: a, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	status   int
	body     string
	location string
	header   http.Header
}

var csrfPattern = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	if m := csrfPattern.FindStringSubmatch(body); m != nil {
		c.csrf = m[1]
	}
	return response{status: resp.StatusCode, body: html.UnescapeString(body), location: resp.Header.Get("Location"), header: resp.Header}
}

func (c *client) get(path string) response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.app.url+path, nil)
	return c.do(req)
}

// post sends a form with the CSRF token of the last page seen.
func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if c.csrf == "" {
		c.get("/login")
	}
	if form.Get("_csrf") == "" {
		form.Set("_csrf", c.csrf)
	}
	return c.postRaw(path, form)
}

// postRaw sends a form exactly as given.
func (c *client) postRaw(path string, form url.Values) response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.app.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *client) login(email string) {
	c.t.Helper()
	r := c.post("/login", url.Values{"email": {email}, "password": {demo.Password}})
	if r.status != http.StatusSeeOther {
		c.t.Fatalf("login %s: %d %s", email, r.status, r.body)
	}
	// As a browser would, and to pick up the new session's CSRF token.
	for r.status == http.StatusSeeOther {
		r = c.get(r.location)
	}
}

func (r response) want(t testing.TB, status int, fragments ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body:\n%s", r.status, status, r.body)
	}
	for _, f := range fragments {
		if !strings.Contains(r.body, f) {
			t.Fatalf("body lacks %q:\n%s", f, r.body)
		}
	}
}
