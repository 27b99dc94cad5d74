package verify

import (
	"admincenter/internal/testnet"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

var testZone = []string{
	"example.test. 3600 IN A 127.0.0.1",
	"www.example.test. 3600 IN A 127.0.0.1",
	"other.test. 3600 IN A 127.0.0.1",
	"private.test. 3600 IN A 10.0.0.1",
	"mixed.example.test. 3600 IN A 10.0.0.1",
	"mixed.example.test. 3600 IN A 1.2.3.4", // never dialed: see TestCheckHTTPSDialsCheckedAddress
	"cdn.example.test. 3600 IN CNAME edge.cdn.test.",
	"edge.cdn.test. 3600 IN A 127.0.0.1",
	"nodata.test. 3600 IN TXT \"no address here\"",
}

const page = `<!doctype html><title>Domain verification</title><p>` + testToken + `</p>`

// to answers with a redirect to location, where "HOST" stands for the host
// and port the request was sent to, and "PORT" for the port alone.
func to(status int, location string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "must-not-come-back"})
		_, port, _ := net.SplitHostPort(r.Host)
		location = strings.ReplaceAll(strings.ReplaceAll(location, "HOST", r.Host), "PORT", port)
		w.Header().Set("Location", location)
		w.WriteHeader(status)
	}
}

func serve(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		strings.NewReader(body).WriteTo(w)
	}
}

// routes answers by path, and the token page at /ok.html on every host.
func routes(paths map[string]http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h, ok := paths[r.URL.Path]; ok {
			h(w, r)
			return
		}
		if r.URL.Path == "/ok.html" {
			serve(200, page)(w, r)
			return
		}
		http.NotFound(w, r)
	}
}

var file = "/" + testTarget.FileName

func TestCheckHTTPS(t *testing.T) {
	ca := testnet.NewCA(t, "Test CA")
	goodCert := ca.Issue(t, "example.test", "www.example.test", "other.test", "mixed.example.test", "cdn.example.test")
	dnsAddr := testnet.StartDNS(t, testZone...).Addr
	big := strings.Repeat("a", 70000)
	exact := page + strings.Repeat(" ", maxBodyBytes-len(page))
	noHTTP := closedPort(t) // the plain-HTTP look-up finds nothing here

	tests := []struct {
		name     string
		domain   string // default example.test
		handler  http.HandlerFunc
		cert     *tls.Certificate
		config   func(*Config)
		want     Outcome
		summary  string // "PORT" stands for the site's port; "~" prefix: substring
		hops     int
		requests int // requests of the check itself the site must have seen
	}{
		{name: "found", handler: routes(map[string]http.HandlerFunc{file: serve(200, page)}), want: Found, hops: 1, requests: 1,
			summary: "https://example.test:PORT" + file + " answered 200 OK with the token."},
		{name: "404", handler: routes(nil), want: Absent, hops: 1, requests: 1,
			summary: "https://example.test:PORT" + file + " answered 404 Not Found."},
		{name: "403", handler: routes(map[string]http.HandlerFunc{file: serve(403, page)}), want: Absent, hops: 1, requests: 1,
			summary: "~answered 403 Forbidden."},
		{name: "wrong content", handler: routes(map[string]http.HandlerFunc{file: serve(200, "<p>twilio-domain-verification=ffff</p>")}),
			want: Absent, hops: 1, requests: 1,
			summary: "https://example.test:PORT" + file + ` answered 200 OK, but the page (38 bytes, text/html; charset=utf-8) does not contain the token ` +
				testToken + `. It begins: "<p>twilio-domain-verification=ffff</p>"`},
		{name: "long page quoted escaped and cut", want: Absent, hops: 1, requests: 1,
			handler: routes(map[string]http.HandlerFunc{file: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Write([]byte("\x00\xffnot\u202eyours\n" + strings.Repeat("é", 200)))
			}}),
			summary: "https://example.test:PORT" + file + ` answered 200 OK, but the page (414 bytes, text/plain) does not contain the token ` +
				testToken + `. It begins: "\x00\xffnot\u202eyours\n` + strings.Repeat("é", 120-12) + `"…`},
		{name: "empty page", handler: routes(map[string]http.HandlerFunc{file: serve(200, "")}), want: Absent, hops: 1, requests: 1,
			summary: "~answered 200 OK with an empty page (0 bytes"},
		{name: "meta refresh not followed", want: Absent, hops: 1, requests: 1, summary: "~does not contain the token",
			handler: routes(map[string]http.HandlerFunc{file: serve(200, `<meta http-equiv="refresh" content="0; url=/ok.html">`)})},
		{name: "redirect to www", handler: routes(map[string]http.HandlerFunc{file: to(302, "https://www.HOST/ok.html")}),
			want: Found, hops: 2, requests: 2, summary: "https://www.example.test:PORT/ok.html answered 200 OK with the token."},
		{name: "relative redirect", handler: routes(map[string]http.HandlerFunc{file: to(301, "/ok.html")}), want: Found, hops: 2, requests: 2},
		{name: "redirect through a CNAME", handler: routes(map[string]http.HandlerFunc{file: to(307, "https://cdn.HOST/ok.html")}),
			want: Found, hops: 2, requests: 2},
		{name: "three redirects", want: Found, hops: 4, requests: 4, handler: routes(map[string]http.HandlerFunc{
			file: to(301, "/r1"), "/r1": to(302, "/r2"), "/r2": to(303, "/ok.html")})},
		{name: "fourth redirect refused", want: Absent, hops: 4, requests: 4,
			summary: "https://example.test:PORT/r3 redirects a 4th time (to https://example.test:PORT/ok.html): at most 3 redirects are followed.",
			handler: routes(map[string]http.HandlerFunc{file: to(301, "/r1"), "/r1": to(302, "/r2"), "/r2": to(303, "/r3"), "/r3": to(308, "/ok.html")})},
		{name: "redirect to another domain", handler: routes(map[string]http.HandlerFunc{file: to(302, "https://other.test:PORT/ok.html")}),
			want: Absent, hops: 1, requests: 1,
			summary: "https://example.test:PORT" + file + " redirects to https://other.test:PORT/ok.html, outside the domain example.test."},
		{name: "redirect to http", handler: routes(map[string]http.HandlerFunc{file: to(302, "http://HOST/ok.html")}),
			want: Absent, hops: 1, requests: 1,
			summary: "https://example.test:PORT" + file + " redirects to http://example.test:PORT/ok.html, which is not HTTPS."},
		{name: "redirect to another port", handler: routes(map[string]http.HandlerFunc{file: to(302, "https://www.example.test:1/ok.html")}),
			want: Absent, hops: 1, requests: 1, summary: "~, on port 1 instead of PORT."},
		{name: "redirect to an IP address", handler: routes(map[string]http.HandlerFunc{file: to(302, "https://127.0.0.1:PORT/ok.html")}),
			want: Absent, hops: 1, requests: 1, summary: "~, an IP address instead of a name under example.test."},
		{name: "redirect without Location", handler: routes(map[string]http.HandlerFunc{file: serve(302, "")}),
			want: Absent, hops: 1, requests: 1, summary: "~answered 302 Found without a Location header."},
		{name: "body over 64 KiB", handler: routes(map[string]http.HandlerFunc{file: serve(200, page+big)}), want: Absent, hops: 1, requests: 1,
			summary: "https://example.test:PORT" + file + " is larger than 64 KiB (" + strconv.Itoa(len(page+big)) + " bytes)."},
		{name: "body over 64 KiB without length", want: Absent, hops: 1, requests: 1, summary: "~ is larger than 64 KiB.",
			handler: routes(map[string]http.HandlerFunc{file: func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(page))
				w.(http.Flusher).Flush() // no Content-Length: the limit must hold while reading
				w.Write([]byte(big))
			}})},
		{name: "exactly 64 KiB", handler: routes(map[string]http.HandlerFunc{file: serve(200, exact)}), want: Found, hops: 1, requests: 1},
		{name: "slow server", want: Inconclusive, hops: 1, requests: 1,
			config:  func(c *Config) { c.HTTPSTimeout = 300 * time.Millisecond },
			summary: "Could not fetch https://example.test:PORT" + file + ": no complete answer within 300ms.",
			handler: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }},
		{name: "500", handler: routes(map[string]http.HandlerFunc{file: serve(500, "oops")}), want: Inconclusive, hops: 1, requests: 1,
			summary: "https://example.test:PORT" + file + " answered 500 Internal Server Error."},
		{name: "429", handler: routes(map[string]http.HandlerFunc{file: serve(429, "")}), want: Inconclusive, hops: 1, requests: 1},
		{name: "untrusted certificate", cert: ptr(testnet.NewCA(t, "Other CA").Issue(t, "example.test")), handler: routes(nil),
			want: Inconclusive, hops: 1,
			summary: "The certificate of example.test is not trusted: x509: certificate signed by unknown authority."},
		{name: "certificate for another name", cert: ptr(ca.Issue(t, "elsewhere.test")), handler: routes(nil), want: Inconclusive, hops: 1,
			summary: "The certificate of example.test is not trusted: x509: certificate is valid for elsewhere.test, not example.test."},
		{name: "loopback refused", config: func(c *Config) { c.AllowPrivate = false }, handler: routes(nil), want: Absent, hops: 1,
			summary: "Refused to connect to example.test: 127.0.0.1 is a loopback address."},
		{name: "private address refused", domain: "private.test", config: func(c *Config) { c.AllowPrivate = false },
			handler: routes(nil), want: Absent, hops: 1,
			summary: "Refused to connect to private.test: 10.0.0.1 is a private address (RFC 1918)."},
		{name: "host does not exist", domain: "missing.test", handler: routes(nil), want: Absent, hops: 1,
			summary: "The host missing.test does not exist (NXDOMAIN)."},
		{name: "host has no address", domain: "nodata.test", handler: routes(nil), want: Absent, hops: 1,
			summary: "The host nodata.test has no A or AAAA record."},
		{name: "DNS failure", handler: routes(nil), want: Inconclusive, hops: 1, summary: "~Could not resolve example.test: ",
			config: func(c *Config) {
				failing := testnet.StartDNS(t)
				failing.Set(dns.RcodeServerFailure, false)
				c.DNSServers = []string{failing.Addr}
			}},
		{name: "connection refused", handler: routes(nil), want: Inconclusive, hops: 1,
			config:  func(c *Config) { c.HTTPSPort = closedPort(t) },
			summary: "~connect: connection refused."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := goodCert
			if tt.cert != nil {
				cert = *tt.cert
			}
			site := testnet.StartSite(t, cert, tt.handler)
			cfg := Config{DNSServers: []string{dnsAddr}, HTTPSPort: site.Port, HTTPPort: noHTTP, AllowPrivate: true, RootCAs: ca.Pool, HTTPSTimeout: 5 * time.Second}
			if tt.config != nil {
				tt.config(&cfg)
			}
			c := newChecker(t, cfg)
			c.dial = loopbackOnly(t)
			target := testTarget
			if tt.domain != "" {
				target.Domain = tt.domain
			}
			res := c.CheckHTTPS(context.Background(), target)
			t.Log(res.Summary)

			if res.Outcome != tt.want || res.Method != HTTPS {
				t.Fatalf("got %s/%s: %s\nhops %+v", res.Method, res.Outcome, res.Summary, res.HTTPS.Hops)
			}
			checkSummary(t, res.Summary, strings.ReplaceAll(tt.summary, "PORT", site.PortString()))
			if len(res.HTTPS.Hops) != tt.hops {
				t.Errorf("%d hops, want %d: %+v", len(res.HTTPS.Hops), tt.hops, res.HTTPS.Hops)
			}
			seen := checkRequests(site.Seen(), "www.example.test:"+site.PortString())
			if len(seen) != tt.requests {
				t.Errorf("the site saw %d requests, want %d", len(seen), tt.requests)
			}
			if tt.requests == 0 && tt.want == Absent && site.Conns.Load() != 0 {
				t.Errorf("the site saw %d connections, want none", site.Conns.Load())
			}
			for _, r := range seen {
				if r.UserAgent() != userAgent || r.Header.Get("Cookie") != "" {
					t.Errorf("request with User-Agent %q and Cookie %q", r.UserAgent(), r.Header.Get("Cookie"))
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// checkRequests leaves out the look-up of the file at www, which a missing
// proof sends to the same site (TestCheckHTTPSMistakes counts those).
func checkRequests(seen []*http.Request, www string) []*http.Request {
	return slices.DeleteFunc(seen, func(r *http.Request) bool { return r.Host == www && r.URL.Path == file })
}

func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// The checker must dial the address it checked, not the name: a second
// resolution could return another address (DNS rebinding). The test dialer
// plays the network: it routes the public address 1.2.3.4 to the local site,
// so that no packet leaves the machine.
func TestCheckHTTPSDialsCheckedAddress(t *testing.T) {
	ca := testnet.NewCA(t, "Test CA")
	site := testnet.StartSite(t, ca.Issue(t, "mixed.example.test"), routes(map[string]http.HandlerFunc{file: to(302, "/ok.html")}))
	c := newChecker(t, Config{DNSServers: []string{testnet.StartDNS(t, testZone...).Addr}, HTTPSPort: site.Port, RootCAs: ca.Pool})
	var dialed []string
	c.dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		dialed = append(dialed, address)
		if address != "1.2.3.4:"+site.PortString() {
			t.Errorf("dialed %s", address)
			return nil, errors.New("test: unexpected address")
		}
		return loopbackOnly(t)(ctx, network, "127.0.0.1:"+site.PortString())
	}
	target := testTarget
	target.Domain = "mixed.example.test"
	res := c.CheckHTTPS(context.Background(), target)

	if res.Outcome != Found {
		t.Fatalf("got %s: %s", res.Outcome, res.Summary)
	}
	base := "https://mixed.example.test:" + site.PortString()
	r := res.HTTPS
	if r.URL != base+file || r.BodyBytes != len(page) || r.Error != "" || len(r.Hops) != 2 {
		t.Fatalf("report %+v", r)
	}
	first, second := r.Hops[0], r.Hops[1]
	if first.URL != base+file || first.Status != 302 || first.Location != "/ok.html" ||
		!slices.Equal(first.Addresses, []string{"10.0.0.1", "1.2.3.4"}) || first.Address != "1.2.3.4:"+site.PortString() {
		t.Errorf("first hop %+v", first)
	}
	if second.URL != base+"/ok.html" || second.Status != 200 || second.Location != "" {
		t.Errorf("second hop %+v", second)
	}
	if len(first.Queries) != 2 || first.Queries[0].Type != "A" || first.Queries[1].Type != "AAAA" {
		t.Errorf("first hop queries %+v", first.Queries)
	}
	if len(dialed) != 2 {
		t.Errorf("dialed %q, want one connection per hop", dialed)
	}
}

func TestCheckHTTPSStopped(t *testing.T) {
	ca := testnet.NewCA(t, "Test CA")
	site := testnet.StartSite(t, ca.Issue(t, "example.test"), func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	c := newChecker(t, Config{DNSServers: []string{testnet.StartDNS(t, testZone...).Addr}, HTTPSPort: site.Port, RootCAs: ca.Pool, AllowPrivate: true})
	c.dial = loopbackOnly(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result)
	go func() { done <- c.CheckHTTPS(ctx, testTarget) }()
	for len(site.Seen()) == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	res := <-done
	if res.Outcome != Inconclusive || !strings.Contains(res.Summary, "the check was stopped (context canceled)") {
		t.Errorf("got %s: %s", res.Outcome, res.Summary)
	}
}
