package verify

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"admincenter/internal/testnet"
)

// CheckURL keeps an address in its normal form, or says in one sentence
// why it cannot be used.
func TestCheckURL(t *testing.T) {
	dns := testnet.StartDNS(t, "hooks.test. 300 IN A 127.0.0.1", "xn--bcher-kva.test. 300 IN A 127.0.0.1",
		"public.test. 300 IN A 192.0.2.10", "mixed.test. 300 IN A 10.0.0.1", "mixed.test. 300 IN A 127.0.0.2")
	strict := newChecker(t, Config{DNSServers: []string{dns.Addr}})
	lax := newChecker(t, Config{DNSServers: []string{dns.Addr}, AllowPrivate: true})
	cases := []struct {
		c        *Checker
		in, want string
		problem  string
	}{
		{lax, " https://HOOKS.test:8443/in?x=1#frag ", "https://hooks.test:8443/in?x=1", ""},
		{lax, "https://bücher.test/", "https://xn--bcher-kva.test/", ""},
		{lax, "https://127.0.0.1/", "https://127.0.0.1/", ""},
		{lax, "https://[::1]/", "https://[::1]/", ""},
		{lax, "http://hooks.test/", "", "The address must start with https://: events are only sent over HTTPS."},
		{lax, "ftp://hooks.test/", "", "The address must start with https://: events are only sent over HTTPS."},
		{lax, "https://nowhere.test/", "", "The host nowhere.test does not exist (NXDOMAIN)."},
		{strict, "https://hooks.test/", "", "Refused to connect to hooks.test: 127.0.0.1 is a loopback address."},
		{strict, "https://public.test/", "", "Refused to connect to public.test: 192.0.2.10 is a documentation address (RFC 5737)."},
		{strict, "https://mixed.test/", "", "Refused to connect to mixed.test: 10.0.0.1 is a private address (RFC 1918); 127.0.0.2 is a loopback address."},
		{strict, "https://[::ffff:127.0.0.1]/", "", "Refused to connect to ::ffff:127.0.0.1: 127.0.0.1 is a loopback address."},
	}
	for _, c := range cases {
		got, err := c.c.CheckURL(context.Background(), c.in)
		problem := ""
		if err != nil {
			problem = err.Error()
		}
		if got != c.want || problem != c.problem {
			t.Errorf("CheckURL(%q) = %q, %q; want %q, %q", c.in, got, problem, c.want, c.problem)
		}
	}
}

// The client dials only addresses the policy allows, by the checker's DNS
// servers, with the checker's roots, over HTTPS only, and follows no
// redirect.
func TestClient(t *testing.T) {
	ca := testnet.NewCA(t, "Client test CA")
	site := testnet.StartSite(t, ca.Issue(t, "hooks.test"), func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			w.Header().Set("Location", "https://elsewhere.test/")
			w.WriteHeader(http.StatusFound)
			return
		}
		io.WriteString(w, "ok")
	})
	dns := testnet.StartDNS(t, "hooks.test. 300 IN A 127.0.0.1")
	url := "https://hooks.test:" + site.PortString()
	post := func(c *Checker, url string) (*http.Response, error) {
		resp, err := c.Client(5*time.Second).Post(url, "application/json", strings.NewReader("{}"))
		if err == nil {
			resp.Body.Close()
		}
		return resp, err
	}

	lax := newChecker(t, Config{DNSServers: []string{dns.Addr}, AllowPrivate: true, RootCAs: ca.Pool})
	lax.dial = loopbackOnly(t)
	if resp, err := post(lax, url+"/"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("allowed: %v %v", resp, err)
	}
	if resp, err := post(lax, url+"/moved"); err != nil || resp.StatusCode != http.StatusFound || len(site.Seen()) != 2 {
		t.Fatalf("a redirect is the answer, not followed: %v %v, %d requests", resp, err, len(site.Seen()))
	}
	if _, err := post(lax, "http://hooks.test:"+site.PortString()+"/"); err == nil || !strings.Contains(err.Error(), "only HTTPS is allowed") {
		t.Errorf("plain HTTP: %v", err)
	}

	strict := newChecker(t, Config{DNSServers: []string{dns.Addr}, RootCAs: ca.Pool})
	strict.dial = loopbackOnly(t)
	if _, err := post(strict, url+"/"); err == nil || !strings.Contains(err.Error(), "Refused to connect to hooks.test: 127.0.0.1 is a loopback address.") {
		t.Errorf("loopback: %v", err)
	}

	untrusted := newChecker(t, Config{DNSServers: []string{dns.Addr}, AllowPrivate: true})
	untrusted.dial = loopbackOnly(t)
	if _, err := post(untrusted, url+"/"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a certificate of an unknown CA: %v", err)
	}
	if n := len(site.Seen()); n != 2 {
		t.Errorf("%d requests reached the site, want the 2 allowed", n)
	}
}
