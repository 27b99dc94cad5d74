package verify

import (
	"admincenter/internal/testnet"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// onWWW answers with www at hosts under www. and with other elsewhere.
func onWWW(www, other http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Host, "www.") {
			www(w, r)
			return
		}
		other(w, r)
	}
}

func TestCheckHTTPSMistakes(t *testing.T) {
	ca := testnet.NewCA(t, "Test CA")
	goodCert := ca.Issue(t, "example.test", "www.example.test")
	dnsAddr := testnet.StartDNS(t, testZone...).Addr
	past := time.Date(2025, 1, 2, 3, 4, 0, 0, time.UTC)
	future := time.Date(2099, 11, 30, 14, 5, 0, 0, time.UTC)
	// In the wanted mistakes, HERE stands for the file's HTTPS address and
	// PORT for the HTTPS port.
	const here = "https://example.test:PORT" + "/twilio-domain-verification-1a2b3c4d5e6f7a8b.html"
	redirectRefused := func(found, fix string) Mistake {
		return Mistake{Kind: "redirect-refused", Found: found, Fix: fix}
	}
	certificate := func(found, fix string) Mistake { return Mistake{Kind: "certificate", Found: found, Fix: fix} }

	tests := []struct {
		name     string
		site     http.HandlerFunc // the HTTPS site, at every host
		plain    http.HandlerFunc // the plain-HTTP site; nil: none
		cert     *tls.Certificate
		want     Outcome
		mistakes []Mistake
		cert509  *Certificate // the certificate reported; dates are taken from the one served
		requests int          // requests the HTTPS site saw, look-ups included
	}{
		{name: "plain HTTP only", site: routes(nil), plain: serve(200, page), want: Absent, requests: 2,
			mistakes: []Mistake{{Kind: "plain-http",
				Found: "The file is served over plain HTTP at http://example.test:HTTPPORT" + file + ", but not over HTTPS.",
				Fix:   "Serve it over HTTPS at HERE: we only accept HTTPS, so that nobody on the path can forge it."}}},
		{name: "plain HTTP redirecting to HTTPS is not followed", site: routes(nil), plain: to(301, "https://example.test/elsewhere"),
			want: Absent, requests: 2},
		{name: "plain HTTP without the token", site: routes(nil), plain: serve(200, "<p>welcome</p>"), want: Absent, requests: 2},
		{name: "www only", site: onWWW(serve(200, page), http.NotFound), want: Absent, requests: 2,
			mistakes: []Mistake{{Kind: "www-only",
				Found: "The file is served at https://www.example.test:PORT" + file + ", but not at HERE.",
				Fix:   "Put it at HERE too, or redirect https://example.test:PORT/ to https://www.example.test:PORT/: we follow redirects over HTTPS within your domain."}}},
		{name: "plain HTTP and www", site: onWWW(serve(200, page), http.NotFound), plain: serve(200, page), want: Absent, requests: 2,
			mistakes: []Mistake{{Kind: "plain-http",
				Found: "The file is served over plain HTTP at http://example.test:HTTPPORT" + file + ", but not over HTTPS.",
				Fix:   "Serve it over HTTPS at HERE: we only accept HTTPS, so that nobody on the path can forge it."}, {Kind: "www-only",
				Found: "The file is served at https://www.example.test:PORT" + file + ", but not at HERE.",
				Fix:   "Put it at HERE too, or redirect https://example.test:PORT/ to https://www.example.test:PORT/: we follow redirects over HTTPS within your domain."}}},
		{name: "www already asked through a redirect", site: onWWW(http.NotFound, to(302, "https://www.HOST"+file)), want: Absent, requests: 2},
		{name: "server error", site: routes(map[string]http.HandlerFunc{file: serve(503, "")}), plain: serve(200, page), want: Inconclusive, requests: 2,
			mistakes: []Mistake{{Kind: "plain-http",
				Found: "The file is served over plain HTTP at http://example.test:HTTPPORT" + file + ", but not over HTTPS.",
				Fix:   "Serve it over HTTPS at HERE: we only accept HTTPS, so that nobody on the path can forge it."}}},

		{name: "redirect to HTTP at the 2nd hop", want: Absent, requests: 3,
			site: routes(map[string]http.HandlerFunc{file: to(302, "/r1"), "/r1": to(302, "http://HOST/ok.html")}),
			mistakes: []Mistake{redirectRefused(
				"The 2nd redirect, from https://example.test:PORT/r1 to http://example.test:PORT/ok.html, is refused: it is not HTTPS.",
				"Redirect to an https:// address instead, or serve the file at HERE directly: we only follow redirects to HTTPS.")}},
		{name: "redirect to another site", want: Absent, requests: 2,
			site: routes(map[string]http.HandlerFunc{file: to(302, "https://other.test:PORT/ok.html")}),
			mistakes: []Mistake{redirectRefused(
				"The 1st redirect, from HERE to https://other.test:PORT/ok.html, is refused: it leaves the domain example.test.",
				"Serve the file at HERE, or redirect only to addresses under example.test: a file on another site does not prove that you own example.test.")}},
		{name: "redirect to an IP address", want: Absent, requests: 2,
			site: routes(map[string]http.HandlerFunc{file: to(302, "https://127.0.0.1:PORT/ok.html")}),
			mistakes: []Mistake{redirectRefused(
				"The 1st redirect, from HERE to https://127.0.0.1:PORT/ok.html, is refused: it goes to an IP address instead of a name under example.test.",
				"Redirect to a name under example.test instead, or serve the file at HERE directly.")}},
		{name: "redirect to another port", want: Absent, requests: 2,
			site: routes(map[string]http.HandlerFunc{file: to(302, "https://www.example.test:1/ok.html")}),
			mistakes: []Mistake{redirectRefused(
				"The 1st redirect, from HERE to https://www.example.test:1/ok.html, is refused: it is on port 1 instead of PORT.",
				"Redirect to https://www.example.test:PORT/ok.html instead: we only connect to port PORT.")}},
		{name: "a 4th redirect", want: Absent, requests: 5,
			site: routes(map[string]http.HandlerFunc{file: to(301, "/r1"), "/r1": to(302, "/r2"), "/r2": to(303, "/r3"), "/r3": to(308, "/ok.html")}),
			mistakes: []Mistake{redirectRefused(
				"The 4th redirect, from https://example.test:PORT/r3 to https://example.test:PORT/ok.html, is refused: at most 3 redirects are followed.",
				"Redirect to the file's final address in at most 3 steps, or serve the file at HERE directly.")}},
		{name: "redirect without Location", want: Absent, requests: 2, site: routes(map[string]http.HandlerFunc{file: serve(302, "")}),
			mistakes: []Mistake{redirectRefused(
				"The 1st redirect, from HERE, is refused: it has no Location header.",
				"Send a Location header with the file's HTTPS address, or serve the file at HERE directly.")}},
		{name: "redirect to an invalid address", want: Absent, requests: 2,
			site: routes(map[string]http.HandlerFunc{file: to(302, "https://exa mple.test/ok.html")}),
			mistakes: []Mistake{redirectRefused(
				`The 1st redirect, from HERE to "https://exa mple.test/ok.html", is refused: that is not a valid address.`,
				"Correct the Location header, or serve the file at HERE directly.")}},
		{name: "redirect to an invalid host name", want: Absent, requests: 2,
			site: routes(map[string]http.HandlerFunc{file: to(302, "https://a_b.example.test/ok.html")}),
			mistakes: []Mistake{redirectRefused(
				"The 1st redirect, from HERE to https://a_b.example.test/ok.html, is refused: its host name is not valid.",
				"Correct the host name in the Location header, or serve the file at HERE directly.")}},

		{name: "expired certificate", cert: ptr(ca.IssueValid(t, past, past.AddDate(0, 6, 0).Add(11*time.Hour), "example.test", "www.example.test")),
			site: routes(nil), want: Inconclusive,
			mistakes: []Mistake{certificate("The certificate of example.test expired on 2 Jul 2025 14:04 UTC.",
				"Renew the certificate of example.test and install the new one on the server.")},
			cert509: &Certificate{Subject: "CN=example.test", Issuer: "CN=Test CA", Names: []string{"example.test", "www.example.test"}}},
		{name: "certificate not valid yet", cert: ptr(ca.IssueValid(t, future, future.AddDate(1, 0, 0), "example.test")),
			site: routes(nil), want: Inconclusive,
			mistakes: []Mistake{certificate("The certificate of example.test is not valid before 30 Nov 2099 14:05 UTC.",
				"Install a certificate that is valid now, or check again after 30 Nov 2099 14:05 UTC.")},
			cert509: &Certificate{Subject: "CN=example.test", Issuer: "CN=Test CA", Names: []string{"example.test"}}},
		{name: "certificate for other names", cert: ptr(ca.Issue(t, "elsewhere.test", "*.elsewhere.test", "192.0.2.1")),
			site: routes(nil), want: Inconclusive,
			mistakes: []Mistake{certificate(
				"The certificate of example.test does not cover example.test: it covers only elsewhere.test, *.elsewhere.test, 192.0.2.1.",
				"Add example.test to the names of the certificate, or install one that covers it.")},
			cert509: &Certificate{Subject: "CN=elsewhere.test", Issuer: "CN=Test CA", Names: []string{"elsewhere.test", "*.elsewhere.test", "192.0.2.1"}}},
		{name: "certificate for many other names", cert: ptr(ca.Issue(t, "a.test", "b.test", "c.test", "d.test", "e.test", "f.test", "g.test")),
			site: routes(nil), want: Inconclusive,
			mistakes: []Mistake{certificate(
				"The certificate of example.test does not cover example.test: it covers only a.test, b.test, c.test, d.test, e.test and 2 more.",
				"Add example.test to the names of the certificate, or install one that covers it.")}},
		{name: "certificate not covering the host redirected to", cert: ptr(ca.Issue(t, "example.test")), want: Inconclusive, requests: 1,
			site: onWWW(serve(200, page), to(302, "https://www.HOST/ok.html")),
			mistakes: []Mistake{certificate(
				"The certificate of www.example.test does not cover www.example.test: it covers only example.test.",
				"Add www.example.test to the names of the certificate, or install one that covers it.")}},
		{name: "self-signed certificate", cert: ptr(testnet.SelfSigned(t, "example.test")), site: routes(nil), want: Inconclusive,
			mistakes: []Mistake{certificate("The certificate of example.test is self-signed, so no trusted authority vouches for it.",
				"Replace it with a certificate from a public certificate authority, installed with its full chain.")},
			cert509: &Certificate{Subject: "CN=example.test", Issuer: "CN=example.test", Names: []string{"example.test"}}},
		{name: "certificate from an authority not trusted", cert: ptr(testnet.NewCA(t, "Other CA").Issue(t, "example.test")),
			site: routes(nil), want: Inconclusive,
			mistakes: []Mistake{certificate("The certificate of example.test is issued by Other CA, an authority that is not trusted.",
				"Use a certificate from a public certificate authority, and install it with its full chain (the intermediate certificates too).")},
			cert509: &Certificate{Subject: "CN=example.test", Issuer: "CN=Other CA", Names: []string{"example.test"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := goodCert
			if tt.cert != nil {
				cert = *tt.cert
			}
			site := testnet.StartSite(t, cert, tt.site)
			httpPort := closedPort(t)
			var plain *testnet.Site
			if tt.plain != nil {
				plain = testnet.StartHTTP(t, tt.plain)
				httpPort = plain.Port
			}
			c := newChecker(t, Config{DNSServers: []string{dnsAddr}, HTTPSPort: site.Port, HTTPPort: httpPort,
				AllowPrivate: true, RootCAs: ca.Pool, HTTPSTimeout: 5 * time.Second})
			c.dial = loopbackOnly(t)
			res := c.CheckHTTPS(context.Background(), testTarget)
			t.Log(res.Summary)

			if res.Outcome != tt.want {
				t.Fatalf("got %s: %s", res.Outcome, res.Summary)
			}
			want := slices.Clone(tt.mistakes)
			for i, m := range want {
				r := strings.NewReplacer("HERE", strings.ReplaceAll(here, "PORT", site.PortString()),
					"HTTPPORT", strconv.Itoa(httpPort), "PORT", site.PortString())
				want[i] = Mistake{Kind: m.Kind, Found: r.Replace(m.Found), Fix: r.Replace(m.Fix)}
			}
			if !slices.Equal(res.Mistakes, want) {
				t.Errorf("mistakes\n got %q\nwant %q", res.Mistakes, want)
			}
			if tt.cert509 != nil {
				leaf, err := x509.ParseCertificate(cert.Certificate[0])
				if err != nil {
					t.Fatal(err)
				}
				wantCert := *tt.cert509
				wantCert.NotBefore, wantCert.NotAfter = leaf.NotBefore, leaf.NotAfter
				if !reflect.DeepEqual(res.HTTPS.Certificate, &wantCert) {
					t.Errorf("certificate\n got %+v\nwant %+v", res.HTTPS.Certificate, wantCert)
				}
			} else if tt.want != Inconclusive && res.HTTPS.Certificate != nil {
				t.Errorf("certificate %+v, want none", res.HTTPS.Certificate)
			}
			data, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			var stored Result
			if err := json.Unmarshal(data, &stored); err != nil || !reflect.DeepEqual(stored.Mistakes, res.Mistakes) ||
				!reflect.DeepEqual(stored.HTTPS.Certificate, res.HTTPS.Certificate) {
				t.Errorf("stored as %s: %v", data, err)
			}
			if n := len(site.Seen()); n != tt.requests {
				t.Errorf("the HTTPS site saw %d requests, want %d", n, tt.requests)
			}
			if plain != nil && len(plain.Seen()) != 1 {
				t.Errorf("the plain-HTTP site saw %d requests, want 1", len(plain.Seen()))
			}
		})
	}
}

// A proof found ends the check: nobody is asked anything more.
func TestCheckHTTPSFoundLooksNoFurther(t *testing.T) {
	ca := testnet.NewCA(t, "Test CA")
	dnsAddr := testnet.StartDNS(t, testZone...).Addr
	for _, tt := range []struct {
		name     string
		site     http.HandlerFunc
		requests int
	}{
		{"at the domain", routes(map[string]http.HandlerFunc{file: serve(200, page)}), 1},
		{"through a redirect to www", onWWW(serve(200, page), to(302, "https://www.HOST"+file)), 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			site := testnet.StartSite(t, ca.Issue(t, "example.test", "www.example.test"), tt.site)
			plain := testnet.StartHTTP(t, serve(200, page))
			c := newChecker(t, Config{DNSServers: []string{dnsAddr}, HTTPSPort: site.Port, HTTPPort: plain.Port, AllowPrivate: true, RootCAs: ca.Pool})
			c.dial = loopbackOnly(t)
			res := c.CheckHTTPS(context.Background(), testTarget)

			if res.Outcome != Found || res.Mistakes != nil {
				t.Fatalf("got %s: %s, mistakes %q", res.Outcome, res.Summary, res.Mistakes)
			}
			if len(site.Seen()) != tt.requests || plain.Conns.Load() != 0 {
				t.Errorf("the HTTPS site saw %d requests, want %d; the plain-HTTP site %d connections, want none",
					len(site.Seen()), tt.requests, plain.Conns.Load())
			}
		})
	}
}

// The look-ups run at once: each of the two sites answers only when the other
// has been asked too, so that asking one after the other would find neither.
func TestCheckHTTPSLooksInParallel(t *testing.T) {
	ca := testnet.NewCA(t, "Test CA")
	var asked sync.WaitGroup
	asked.Add(2)
	both := make(chan struct{})
	go func() { asked.Wait(); close(both) }()
	meet := func(w http.ResponseWriter, r *http.Request) {
		asked.Done()
		select {
		case <-both:
			serve(200, page)(w, r)
		case <-r.Context().Done():
		}
	}
	site := testnet.StartSite(t, ca.Issue(t, "example.test", "www.example.test"), onWWW(meet, http.NotFound))
	plain := testnet.StartHTTP(t, meet)
	c := newChecker(t, Config{DNSServers: []string{testnet.StartDNS(t, testZone...).Addr}, HTTPSPort: site.Port, HTTPPort: plain.Port,
		AllowPrivate: true, RootCAs: ca.Pool, HTTPSTimeout: 3 * time.Second})
	c.dial = loopbackOnly(t)
	res := c.CheckHTTPS(context.Background(), testTarget)

	var kinds []string
	for _, m := range res.Mistakes {
		kinds = append(kinds, m.Kind)
	}
	if res.Outcome != Absent || !slices.Equal(kinds, []string{"plain-http", "www-only"}) {
		t.Errorf("got %s: %s, mistakes %q", res.Outcome, res.Summary, kinds)
	}
}

// A look-up that gets no answer ends with the check's own time, or as soon
// as the check is stopped, and leaves the outcome as it was.
func TestCheckHTTPSLookupsKeepTheCheckTime(t *testing.T) {
	ca := testnet.NewCA(t, "Test CA")
	dnsAddr := testnet.StartDNS(t, testZone...).Addr
	for _, stop := range []bool{false, true} {
		site := testnet.StartSite(t, ca.Issue(t, "example.test", "www.example.test"), routes(nil))
		plain := testnet.StartHTTP(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		c := newChecker(t, Config{DNSServers: []string{dnsAddr}, HTTPSPort: site.Port, HTTPPort: plain.Port,
			AllowPrivate: true, RootCAs: ca.Pool, HTTPSTimeout: 500 * time.Millisecond})
		c.dial = loopbackOnly(t)
		ctx, cancel := context.WithCancel(context.Background())
		if stop {
			c.httpsTimeout = time.Minute
			go func() {
				for len(plain.Seen()) == 0 {
					time.Sleep(time.Millisecond)
				}
				cancel()
			}()
		}
		done := make(chan Result, 1)
		go func() { done <- c.CheckHTTPS(ctx, testTarget) }()
		var res Result
		select {
		case res = <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("stopped %v: the check is still running after 5s", stop)
		}
		cancel()

		if res.Outcome != Absent || !strings.HasSuffix(res.Summary, "answered 404 Not Found.") || res.Mistakes != nil {
			t.Errorf("stopped %v: got %s: %s, mistakes %q", stop, res.Outcome, res.Summary, res.Mistakes)
		}
	}
}

// The look-ups obey the address policy: they dial the address they checked,
// and never a private one. The test dialer routes the public address 1.2.3.4
// to the local sites, so that no packet leaves the machine.
func TestCheckHTTPSLookupsKeepTheAddressPolicy(t *testing.T) {
	ca := testnet.NewCA(t, "Test CA")
	// Only the look-ups can find the file: the HTTPS site has it at www only.
	site := testnet.StartSite(t, ca.Issue(t, "public.test", "www.public.test"), onWWW(serve(200, page), http.NotFound))
	plain := testnet.StartHTTP(t, serve(200, page))
	dnsAddr := testnet.StartDNS(t, "public.test. 3600 IN A 1.2.3.4", "www.public.test. 3600 IN A 10.0.0.1").Addr
	c := newChecker(t, Config{DNSServers: []string{dnsAddr}, HTTPSPort: site.Port, HTTPPort: plain.Port, RootCAs: ca.Pool})
	var mu sync.Mutex
	var dialed []string
	c.dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		mu.Lock()
		dialed = append(dialed, address)
		mu.Unlock()
		host, port, _ := net.SplitHostPort(address)
		if host != "1.2.3.4" {
			t.Errorf("dialed %s", address)
			return nil, errors.New("test: unexpected address")
		}
		return loopbackOnly(t)(ctx, network, "127.0.0.1:"+port)
	}
	target := testTarget
	target.Domain = "public.test"
	res := c.CheckHTTPS(context.Background(), target)

	var kinds []string
	for _, m := range res.Mistakes {
		kinds = append(kinds, m.Kind)
	}
	if res.Outcome != Absent || !slices.Equal(kinds, []string{"plain-http"}) {
		t.Errorf("got %s: %s, mistakes %q", res.Outcome, res.Summary, kinds)
	}
	want := []string{"1.2.3.4:" + plain.PortString(), "1.2.3.4:" + site.PortString()}
	slices.Sort(dialed)
	slices.Sort(want)
	if !slices.Equal(dialed, want) {
		t.Errorf("dialed %q, want %q", dialed, want)
	}
}
