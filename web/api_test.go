package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"gorm.io/gorm"

	"admincenter/internal/api"
	"admincenter/internal/apikeys"
	"admincenter/internal/testdb"
)

// apiClient calls the API over real HTTP with a key, and validates every
// response against the OpenAPI document.
type apiClient struct {
	t      testing.TB
	a      *app
	key    string
	router routers.Router
}

type apiResponse struct {
	status int
	header http.Header
	body   []byte
}

func (r apiResponse) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%d %s: %v", r.status, r.body, err)
	}
}

// problem decodes a problem and checks its status and type.
func (r apiResponse) problem(t testing.TB, status int, typ string) problemBody {
	t.Helper()
	var p problemBody
	r.json(t, &p)
	if r.status != status || p.Status != status || p.Type != "/api/problems/"+typ || r.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("got %d %s (%s), want %d %s", r.status, r.body, r.header.Get("Content-Type"), status, typ)
	}
	return p
}

type problemBody struct {
	Type, Title, Detail string
	Status              int
	Errors              []struct{ Field, Message string }
}

func (a *app) apiKey(email string, scope apikeys.Scope) (apikeys.Key, string) {
	a.t.Helper()
	k, secret, err := a.svc.APIKeys.Create(context.Background(), a.userID(email), "test "+string(scope), scope, 0)
	if err != nil {
		a.t.Fatal(err)
	}
	return k, secret
}

func (a *app) api(key string) *apiClient {
	a.t.Helper()
	spec, err := api.GetSwagger()
	if err != nil {
		a.t.Fatal(err)
	}
	spec.Servers = openapi3.Servers{{URL: a.url + "/api/v1"}}
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		a.t.Fatal(err)
	}
	return &apiClient{t: a.t, a: a, key: key, router: router}
}

func (c *apiClient) do(method, path string, body any) apiResponse {
	c.t.Helper()
	var reader io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.a.url+"/api/v1"+path, reader)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := apiResponse{status: resp.StatusCode, header: resp.Header, body: raw}
	c.validate(req, r)
	return r
}

// validate checks a response against the document: the operation's
// status, content type and schema.
func (c *apiClient) validate(req *http.Request, r apiResponse) {
	c.t.Helper()
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		if r.status != http.StatusNotFound && r.status != http.StatusMethodNotAllowed {
			c.t.Errorf("%s %s is not in the document: %v", req.Method, req.URL.Path, err)
		}
		return
	}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: r.status, Header: r.header, Body: io.NopCloser(bytes.NewReader(r.body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	})
	if err != nil {
		c.t.Errorf("%s %s answered %d, which does not follow the document: %v\n%s", req.Method, req.URL.Path, r.status, err, r.body)
	}
}

type domainBody struct {
	ID                   int64
	Name, Status, Token  string
	UsersAtRisk          int64      `json:"users_at_risk"`
	RevalidationDeadline *time.Time `json:"revalidation_deadline"`
}

// A script with nothing but a key adds, verifies, follows and deletes a
// domain; every answer follows the document.
func TestAPIDomains(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		_, secret := a.apiKey("owner@acme.test", apikeys.Write)
		c := a.api(secret)

		r := c.do("POST", "/domains", map[string]any{"name": "Initech.TEST"})
		var d domainBody
		r.json(t, &d)
		if r.status != http.StatusCreated || d.Name != "initech.test" || d.Status != "pending" || !strings.HasPrefix(d.Token, "twilio-domain-verification=") {
			t.Fatalf("add: %d %s", r.status, r.body)
		}
		p := c.do("POST", "/domains", map[string]any{"name": "gmail.com"}).problem(t, http.StatusBadRequest, "validation")
		if len(p.Errors) != 1 || p.Errors[0].Field != "name" || !strings.Contains(p.Errors[0].Message, "gmail.com is a common email provider") {
			t.Errorf("a provider's domain: %+v", p)
		}
		for _, body := range []any{map[string]any{}, map[string]any{"name": 5}, map[string]any{"name": "x.test", "extra": true}} {
			if p := c.do("POST", "/domains", body).problem(t, http.StatusBadRequest, "validation"); len(p.Errors) != 1 {
				t.Errorf("%v: %+v", body, p)
			}
		}
		c.do("POST", "/domains", map[string]any{"name": "initech.test"}).problem(t, http.StatusBadRequest, "validation")

		r = c.do("POST", fmt.Sprintf("/domains/%d/verify", d.ID), map[string]any{"method": "dns"})
		var v struct {
			Domain domainBody
			Checks []struct{ Method, Outcome, Summary string }
		}
		r.json(t, &v)
		if r.status != 200 || v.Domain.Status != "pending" || len(v.Checks) != 2 || v.Checks[0].Outcome != "absent" ||
			!strings.Contains(v.Checks[0].Summary, "NXDOMAIN") {
			t.Fatalf("verify without the record: %d %s", r.status, r.body)
		}
		a.dns.Add(t, `_twilio.initech.test. 300 IN TXT "`+d.Token+`"`)
		c.do("POST", fmt.Sprintf("/domains/%d/verify", d.ID), nil).json(t, &v)
		if v.Domain.Status != "verified" || v.Checks[0].Outcome != "found" {
			t.Fatalf("verify with the record: %+v", v)
		}

		// Two clicks, two methods each: four checks, newest first, a page of one at a time.
		var outcomes []string
		for path := fmt.Sprintf("/domains/%d/checks?limit=1", d.ID); path != ""; {
			var checks struct {
				Data       []struct{ Method, Outcome string }
				NextCursor *string `json:"next_cursor"`
			}
			c.do("GET", path, nil).json(t, &checks)
			for _, ch := range checks.Data {
				outcomes = append(outcomes, ch.Method+" "+ch.Outcome)
			}
			path = ""
			if checks.NextCursor != nil {
				path = fmt.Sprintf("/domains/%d/checks?limit=1&cursor=%s", d.ID, *checks.NextCursor)
			}
		}
		if strings.Join(outcomes, ", ") != "https absent, dns found, https absent, dns absent" {
			t.Errorf("checks: %q", outcomes)
		}
		c.do("GET", fmt.Sprintf("/domains/%d/checks?cursor=nonsense", d.ID), nil).problem(t, http.StatusBadRequest, "validation")
		c.do("GET", fmt.Sprintf("/domains/%d/checks?limit=1000", d.ID), nil).problem(t, http.StatusBadRequest, "validation")

		var list struct {
			Data       []domainBody
			NextCursor *string `json:"next_cursor"`
		}
		c.do("GET", "/domains?status=verified", nil).json(t, &list)
		if len(list.Data) != 1 || list.Data[0].ID != d.ID || list.NextCursor != nil {
			t.Fatalf("verified domains: %+v", list)
		}
		c.do("GET", "/domains?status=gone", nil).problem(t, http.StatusBadRequest, "validation")

		// Another organization's ids answer 404, as on the pages.
		_, theirs := a.apiKey("owner@globex.test", apikeys.Write)
		other := a.api(theirs)
		other.do("GET", fmt.Sprintf("/domains/%d", d.ID), nil).problem(t, http.StatusNotFound, "not-found")
		other.do("DELETE", fmt.Sprintf("/domains/%d", d.ID), nil).problem(t, http.StatusNotFound, "not-found")
		other.do("POST", fmt.Sprintf("/domains/%d/verify", d.ID), nil).problem(t, http.StatusNotFound, "not-found")

		var entries struct {
			Data []struct{ Actor, Action string }
		}
		c.do("GET", "/audit?action=domain.added", nil).json(t, &entries)
		if len(entries.Data) != 1 || !strings.HasPrefix(entries.Data[0].Actor, "API key “test write” (ack_") ||
			!strings.HasSuffix(entries.Data[0].Actor, " of owner@acme.test") {
			t.Errorf("audit of the add: %+v", entries)
		}

		// The proof goes missing: the grace period and who is at risk.
		a.dns.Remove("_twilio.initech.test")
		c.do("POST", fmt.Sprintf("/domains/%d/verify", d.ID), nil).json(t, &v)
		if v.Domain.Status != "revalidating" || v.Domain.RevalidationDeadline == nil || v.Domain.UsersAtRisk != 0 {
			t.Fatalf("after the record went missing: %+v", v.Domain)
		}
		var atRisk struct {
			Data       []struct{ Email string }
			NextCursor *string `json:"next_cursor"`
		}
		c.do("GET", fmt.Sprintf("/domains/%d/at-risk", d.ID), nil).json(t, &atRisk)
		if len(atRisk.Data) != 0 || atRisk.NextCursor != nil {
			t.Errorf("nobody is managed at initech.test, yet: %+v", atRisk)
		}

		if r := c.do("DELETE", fmt.Sprintf("/domains/%d", d.ID), nil); r.status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		c.do("GET", fmt.Sprintf("/domains/%d", d.ID), nil).problem(t, http.StatusNotFound, "not-found")
		c.do("GET", "/nowhere", nil).problem(t, http.StatusNotFound, "not-found")
		c.do("PUT", fmt.Sprintf("/domains/%d", d.ID), nil).problem(t, http.StatusMethodNotAllowed, "method-not-allowed")
	})
}

// Only a valid key of the right scope opens the API; a session cookie
// never does.
func TestAPIKeys(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		readKey, read := a.apiKey("owner@acme.test", apikeys.Read)
		writeKey, write := a.apiKey("admin@acme.test", apikeys.Write)

		a.api("").do("GET", "/domains", nil).problem(t, http.StatusUnauthorized, "unauthorized")
		a.api("ack_"+strings.Repeat("a", 52)).do("GET", "/domains", nil).problem(t, http.StatusUnauthorized, "unauthorized")
		a.api("not-a-key").do("GET", "/domains", nil).problem(t, http.StatusUnauthorized, "unauthorized")

		browser := a.client()
		browser.login("owner@acme.test")
		if r := browser.get("/api/v1/domains"); r.status != http.StatusUnauthorized {
			t.Errorf("a session cookie opened the API: %d", r.status)
		}

		if r := a.api(read).do("GET", "/domains", nil); r.status != 200 {
			t.Fatalf("read key: %d %s", r.status, r.body)
		}
		p := a.api(read).do("POST", "/domains", map[string]any{"name": "initech.test"}).problem(t, http.StatusForbidden, "forbidden")
		if !strings.Contains(p.Detail, "may only read") {
			t.Errorf("read key writing: %+v", p)
		}
		if r := a.api(write).do("POST", "/domains", map[string]any{"name": "initech.test"}); r.status != http.StatusCreated {
			t.Fatalf("write key: %d %s", r.status, r.body)
		}

		if _, err := a.svc.APIKeys.Revoke(context.Background(), a.userID("owner@acme.test"), readKey.ID); err != nil {
			t.Fatal(err)
		}
		p = a.api(read).do("GET", "/domains", nil).problem(t, http.StatusUnauthorized, "unauthorized")
		if !strings.Contains(p.Detail, "was revoked on") {
			t.Errorf("revoked key: %+v", p)
		}
		_, expiring := a.apiKey("owner@acme.test", apikeys.Read)
		if err := db.Exec("UPDATE api_keys SET expires_at = ? WHERE name = 'test read' AND revoked_at IS NULL", time.Now().Add(-time.Minute)).Error; err != nil {
			t.Fatal(err)
		}
		if p := a.api(expiring).do("GET", "/domains", nil).problem(t, http.StatusUnauthorized, "unauthorized"); !strings.Contains(p.Detail, "expired on") {
			t.Errorf("expired key: %+v", p)
		}

		// A key stops working when its creator is no longer an administrator.
		var key apikeys.Key
		db.Take(&key, writeKey.ID)
		if key.LastUsedAt == nil || key.LastUsedIP != "127.0.0.1" {
			t.Errorf("last use not recorded: %v %q", key.LastUsedAt, key.LastUsedIP)
		}
		owner := a.client()
		owner.login("owner@acme.test")
		owner.post(fmt.Sprintf("/admin/users/%d/role", a.userID("admin@acme.test")), map[string][]string{"role": {"standard"}}).want(t, http.StatusSeeOther)
		if p := a.api(write).do("GET", "/domains", nil).problem(t, http.StatusUnauthorized, "unauthorized"); !strings.Contains(p.Detail, "no longer an Owner or Administrator") {
			t.Errorf("key of a demoted creator: %+v", p)
		}

		// The rate limit answers 429 with Retry-After.
		_, busy := a.apiKey("owner@acme.test", apikeys.Read)
		limited := 0
		for range 45 {
			if r := a.api(busy).do("GET", "/domains", nil); r.status == http.StatusTooManyRequests {
				limited++
				if r.header.Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
			}
		}
		if limited == 0 {
			t.Error("45 requests at once were never limited")
		}
	})
}

// A script reviews a report, leaves a user out and imports the others.
func TestAPIBulkImport(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		a := newApp(t, db)
		a.bulkImport(true)
		owner := a.client()
		owner.login("owner@acme.test")
		domainID := verifyDomain(t, a, owner, "acme.test")
		_, secret := a.apiKey("owner@acme.test", apikeys.Write)
		c := a.api(secret)

		var imp struct {
			ID                        int64
			Status                    string
			Found, Eligible, Selected int
			Imported, Skipped         int
		}
		r := c.do("POST", fmt.Sprintf("/domains/%d/imports", domainID), map[string]any{"scope": "all"})
		r.json(t, &imp)
		if r.status != http.StatusAccepted || imp.Status != "generating" {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		c.do("POST", fmt.Sprintf("/domains/%d/imports", domainID), map[string]any{"scope": "everyone"}).problem(t, http.StatusBadRequest, "validation")
		if err := a.svc.Imports.RunDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.do("GET", fmt.Sprintf("/imports/%d", imp.ID), nil).json(t, &imp)
		if imp.Status != "ready" || imp.Eligible == 0 {
			t.Fatalf("after generating: %+v", imp)
		}

		var eligible []int64
		seen := 0
		for path := fmt.Sprintf("/imports/%d/users?limit=20", imp.ID); path != ""; {
			var page struct {
				Data []struct {
					UserID   int64 `json:"user_id"`
					Eligible bool
				}
				NextCursor *string `json:"next_cursor"`
			}
			c.do("GET", path, nil).json(t, &page)
			for _, u := range page.Data {
				seen++
				if u.Eligible {
					eligible = append(eligible, u.UserID)
				}
			}
			path = ""
			if page.NextCursor != nil {
				path = fmt.Sprintf("/imports/%d/users?limit=20&cursor=%s", imp.ID, *page.NextCursor)
			}
		}
		if seen != imp.Found || len(eligible) != imp.Eligible {
			t.Fatalf("paged %d users (%d eligible), the report found %d (%d eligible)", seen, len(eligible), imp.Found, imp.Eligible)
		}
		r = c.do("GET", fmt.Sprintf("/imports/%d/csv", imp.ID), nil)
		if r.status != 200 || !strings.HasPrefix(string(r.body), "user_id,") || r.header.Get("Content-Type") != "text/csv" {
			t.Errorf("csv: %d %q %.40q", r.status, r.header.Get("Content-Type"), r.body)
		}

		left := eligible[0]
		p := c.do("POST", fmt.Sprintf("/imports/%d/start", imp.ID), map[string]any{"exclude_user_ids": []int64{left, 999999}}).problem(t, http.StatusBadRequest, "validation")
		if len(p.Errors) != 1 || p.Errors[0].Field != "exclude_user_ids" || !strings.Contains(p.Errors[0].Message, "User 999999 is not in this report") {
			t.Errorf("a user not in the report: %+v", p)
		}
		_, theirs := a.apiKey("owner@globex.test", apikeys.Write)
		a.api(theirs).do("POST", fmt.Sprintf("/imports/%d/start", imp.ID), nil).problem(t, http.StatusNotFound, "not-found")
		a.api(theirs).do("GET", fmt.Sprintf("/imports/%d", imp.ID), nil).problem(t, http.StatusNotFound, "not-found")
		a.api(theirs).do("POST", fmt.Sprintf("/domains/%d/imports", domainID), nil).problem(t, http.StatusNotFound, "not-found")
		a.api(theirs).do("PUT", fmt.Sprintf("/domains/%d/settings", domainID), map[string]any{"signup_policy": "auto"}).problem(t, http.StatusNotFound, "not-found")
		a.api(theirs).do("GET", fmt.Sprintf("/domains/%d/at-risk", domainID), nil).problem(t, http.StatusNotFound, "not-found")

		r = c.do("POST", fmt.Sprintf("/imports/%d/start", imp.ID), map[string]any{"exclude_user_ids": []int64{left}})
		r.json(t, &imp)
		if r.status != http.StatusAccepted || imp.Status != "importing" || imp.Selected != len(eligible)-1 {
			t.Fatalf("start: %d %s", r.status, r.body)
		}
		c.do("POST", fmt.Sprintf("/imports/%d/start", imp.ID), nil).problem(t, http.StatusConflict, "conflict")
		if err := a.svc.Imports.RunDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.do("GET", fmt.Sprintf("/imports/%d", imp.ID), nil).json(t, &imp)
		if imp.Status != "completed" || imp.Imported != len(eligible)-1 {
			t.Fatalf("after importing: %+v", imp)
		}
		imported := 0
		for path := fmt.Sprintf("/users?import=%d", imp.ID); path != ""; {
			var page struct {
				Data       []struct{ ID int64 }
				NextCursor *string `json:"next_cursor"`
			}
			c.do("GET", path, nil).json(t, &page)
			for _, u := range page.Data {
				imported++
				if u.ID == left {
					t.Error("the excluded user was imported")
				}
			}
			path = ""
			if page.NextCursor != nil {
				path = fmt.Sprintf("/users?import=%d&cursor=%s", imp.ID, *page.NextCursor)
			}
		}
		if imported != imp.Imported {
			t.Errorf("users of the import: %d, want %d", imported, imp.Imported)
		}
		var entries struct {
			Data []struct{ Actor, Details string }
		}
		c.do("GET", "/audit?action=import.started", nil).json(t, &entries)
		if len(entries.Data) != 1 || !strings.Contains(entries.Data[0].Details, "1 user excluded") || !strings.HasPrefix(entries.Data[0].Actor, "API key") {
			t.Errorf("audit of the start: %+v", entries)
		}
		var atAcme struct{ Data []struct{ Email string } }
		c.do("GET", "/users?domain=acme.test", nil).json(t, &atAcme)
		if len(atAcme.Data) == 0 {
			t.Error("no user listed at acme.test")
		}
		for _, u := range atAcme.Data {
			if !strings.HasSuffix(u.Email, "acme.test") {
				t.Errorf("%s listed at acme.test", u.Email)
			}
		}
		var atNone struct{ Data []struct{ Email string } }
		c.do("GET", "/users?domain=nobody.example", nil).json(t, &atNone)
		if len(atNone.Data) != 0 {
			t.Errorf("users at a domain nobody is at: %+v", atNone)
		}
		c.do("GET", "/users?domain=https://x", nil).problem(t, http.StatusBadRequest, "validation")
		c.do("GET", "/audit?since=yesterday", nil).problem(t, http.StatusBadRequest, "validation")
		if r := c.do("PUT", fmt.Sprintf("/domains/%d/settings", domainID), map[string]any{"signup_policy": "auto"}); r.status != http.StatusOK {
			t.Errorf("settings: %d %s", r.status, r.body)
		}
		var settings struct {
			SignupPolicy string `json:"signup_policy"`
		}
		c.do("GET", fmt.Sprintf("/domains/%d/settings", domainID), nil).json(t, &settings)
		if settings.SignupPolicy != "auto" {
			t.Errorf("settings: %+v", settings)
		}

		// The imported users are at risk once the proof goes missing, and
		// the count is the list.
		a.dns.Remove("_twilio.acme.test")
		var v struct{ Domain domainBody }
		c.do("POST", fmt.Sprintf("/domains/%d/verify", domainID), nil).json(t, &v)
		listed := 0
		for path := fmt.Sprintf("/domains/%d/at-risk", domainID); path != ""; {
			var page struct {
				Data       []struct{ Email string }
				NextCursor *string `json:"next_cursor"`
			}
			c.do("GET", path, nil).json(t, &page)
			listed += len(page.Data)
			path = ""
			if page.NextCursor != nil {
				path = fmt.Sprintf("/domains/%d/at-risk?cursor=%s", domainID, *page.NextCursor)
			}
		}
		if v.Domain.Status != "revalidating" || v.Domain.UsersAtRisk == 0 || int64(listed) != v.Domain.UsersAtRisk {
			t.Errorf("%s with %d users at risk, %d listed", v.Domain.Status, v.Domain.UsersAtRisk, listed)
		}
	})
}

// The document is served as JSON and as a page that lists every operation.
func TestAPIDocument(t *testing.T) {
	a := newApp(t, testdb.SQLite(t))
	c := a.client()
	r := c.get("/api/openapi.json")
	r.want(t, http.StatusOK, `"openapi":"3.0.3"`)
	spec, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	page := c.get("/api/docs")
	page.want(t, http.StatusOK, "Admin Center — Domains API", "Schemas")
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			page.want(t, http.StatusOK, `id="`+op.OperationID+`"`, method+`</span> <span class="mono break">/api/v1`+path+`</span>`)
		}
	}
}
