package verify

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestTXTName(t *testing.T) {
	for domain, want := range map[string]string{
		"example.com":           "_twilio.example.com",
		"example.com.":          "_twilio.example.com",
		"xn--bcher-kva.example": "_twilio.xn--bcher-kva.example",
	} {
		if got := TXTName(domain); got != want {
			t.Errorf("TXTName(%q) = %q, want %q", domain, got, want)
		}
	}
}

func TestFileURL(t *testing.T) {
	tests := []struct {
		domain, file string
		port         int
		want         string
	}{
		{"example.com", "f.html", 0, "https://example.com/f.html"},
		{"example.com", "f.html", 443, "https://example.com/f.html"},
		{"example.com", "f.html", 8443, "https://example.com:8443/f.html"},
		{"xn--bcher-kva.example", "twilio-domain-verification-1a2b3c4d5e6f7a8b.html", 0,
			"https://xn--bcher-kva.example/twilio-domain-verification-1a2b3c4d5e6f7a8b.html"},
		{"example.com", "a b.html", 0, "https://example.com/a%20b.html"},
	}
	for _, tt := range tests {
		if got := FileURL(tt.domain, tt.file, tt.port); got != tt.want {
			t.Errorf("FileURL(%q, %q, %d) = %q, want %q", tt.domain, tt.file, tt.port, got, tt.want)
		}
	}
}

func TestNew(t *testing.T) {
	c, err := New(Config{DNSServers: []string{"192.0.2.53", " 192.0.2.54:5353 ", "[2001:db8::53]:53", "resolver.test:53"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"192.0.2.53:53", "192.0.2.54:5353", "[2001:db8::53]:53", "resolver.test:53"}
	if !slices.Equal(c.servers, want) || c.port != 443 || c.dnsTimeout != 3*time.Second || c.httpsTimeout != 10*time.Second {
		t.Errorf("checker %+v", c)
	}
	for _, cfg := range []Config{
		{DNSServers: []string{"resolver.test"}},
		{DNSServers: []string{"192.0.2.53:53"}, HTTPSPort: 70000},
		{DNSServers: []string{"192.0.2.53:53"}, HTTPSPort: -1},
	} {
		if _, err := New(cfg); err == nil || !strings.HasPrefix(err.Error(), "verify: ") {
			t.Errorf("New(%+v) = %v, want an error", cfg, err)
		}
	}
}

func TestEmptyTarget(t *testing.T) {
	c := newChecker(t, Config{DNSServers: []string{"127.0.0.1:1"}})
	for _, res := range []Result{
		c.CheckDNS(context.Background(), Target{Domain: "example.test"}),
		c.CheckHTTPS(context.Background(), Target{Domain: "example.test", Token: testToken}),
	} {
		if res.Outcome != Inconclusive || !strings.Contains(res.Summary, "was not run") {
			t.Errorf("got %s: %s", res.Outcome, res.Summary)
		}
	}
}

// Results are stored as JSON and shown later: every field must survive.
func TestResultJSON(t *testing.T) {
	results := []Result{
		{Method: DNS, Outcome: Absent, Summary: "Found 2 TXT records at _twilio.example.com, but none is the expected value.",
			Duration: 1500 * time.Millisecond, DNS: &DNSReport{Name: "_twilio.example.com", Type: "TXT",
				Queries: []DNSQuery{{Server: "127.0.0.1:53", Name: "_twilio.example.com", Type: "TXT", Transport: "udp",
					Rcode: "NOERROR", Truncated: true, Duration: time.Millisecond}, {Server: "127.0.0.1:53", Error: "timeout after 3s"}},
				CNAMEs: []string{"a.example.net"}, Values: []string{"v=spf1 -all", "café \"x\" …"}, More: 3}},
		{Method: HTTPS, Outcome: Found, Summary: "ok", Duration: time.Second, HTTPS: &HTTPSReport{URL: "https://example.com/f.html",
			BodyBytes: 10, Error: "e", Hops: []HTTPHop{{URL: "https://example.com/f.html", Addresses: []string{"1.2.3.4", "2001:db8::1"},
				Address: "1.2.3.4:443", Status: 302, Location: "/g", Error: "x",
				Queries: []DNSQuery{{Server: "127.0.0.1:53", Name: "example.com", Type: "A"}}}}}},
	}
	for _, want := range results {
		data, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		var got Result
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip\n got %+v\nwant %+v\njson %s", got, want, data)
		}
	}
}
