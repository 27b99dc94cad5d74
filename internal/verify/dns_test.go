package verify

import (
	"admincenter/internal/testnet"
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const (
	testDomain = "example.test"
	testToken  = "twilio-domain-verification=0123456789abcdef0123456789abcdef"
	txtOwner   = "_twilio.example.test."
)

var testTarget = Target{Domain: testDomain, Token: testToken, FileName: "twilio-domain-verification-1a2b3c4d5e6f7a8b.html"}

func newChecker(t *testing.T, cfg Config) *Checker {
	t.Helper()
	if cfg.DNSTimeout == 0 {
		cfg.DNSTimeout = 2 * time.Second
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func txt(owner string, values ...string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = `"` + strings.ReplaceAll(v, `"`, `\"`) + `"`
	}
	return owner + " 3600 IN TXT " + strings.Join(quoted, " ")
}

func TestCheckDNSOneServer(t *testing.T) {
	long := strings.Repeat("x", 300)
	var big, many []string
	for i := range 8 {
		big = append(big, txt(txtOwner, fmt.Sprintf("filler-%d-%s", i, strings.Repeat("y", 200))))
	}
	big = append(big, txt(txtOwner, testToken))
	for i := range 13 {
		many = append(many, txt(txtOwner, fmt.Sprintf("twilio-domain-verification=old%d", i)))
	}
	tests := []struct {
		name       string
		zone       []string
		noRecurse  bool
		rcode      int
		want       Outcome
		summary    string // exact, unless it starts with "~": then a substring
		values     []string
		more       int
		cnames     []string
		transports []string // of the queries sent, in order
	}{
		{name: "found", zone: []string{txt(txtOwner, testToken)}, want: Found,
			summary: "Found the expected TXT record at _twilio.example.test.", transports: []string{"udp"}},
		{name: "NXDOMAIN", zone: []string{"example.test. 3600 IN A 127.0.0.1"}, want: Absent,
			summary: "No TXT record at _twilio.example.test: the name does not exist (NXDOMAIN)."},
		{name: "NODATA", zone: []string{txtOwner + " 3600 IN MX 10 mail.example.test."}, want: Absent,
			summary: "No TXT record at _twilio.example.test: the name exists but has no TXT record."},
		{name: "wrong value", zone: []string{txt(txtOwner, "twilio-domain-verification=ffffffffffffffffffffffffffffffff")}, want: Absent,
			summary: `Found 1 TXT record at _twilio.example.test, but it is not the expected value: "twilio-domain-verification=ffffffffffffffffffffffffffffffff".`,
			values:  []string{"twilio-domain-verification=ffffffffffffffffffffffffffffffff"}},
		{name: "several records, one right", want: Found, values: []string{"v=spf1 -all", "twilio-domain-verification=0ld", testToken},
			zone: []string{txt(txtOwner, "v=spf1 -all"), txt(txtOwner, "twilio-domain-verification=0ld"), txt(txtOwner, testToken)}},
		{name: "one record in several strings", want: Found,
			zone: []string{txt(txtOwner, "twilio-domain-verification=", "0123456789abcdef", "0123456789abcdef")}},
		{name: "quotes, spaces and upper case tolerated", want: Found,
			zone: []string{txt(txtOwner, ` "TWILIO-DOMAIN-VERIFICATION=0123456789ABCDEF0123456789abcdef" `)}},
		{name: "too big for UDP: retried over TCP", zone: big, want: Found, transports: []string{"udp", "tcp"}},
		{name: "CNAME resolved by the server", want: Found, cnames: []string{"verify.provider.test"}, transports: []string{"udp"},
			summary: "Found the expected TXT record at _twilio.example.test (alias of verify.provider.test).",
			zone:    []string{txtOwner + " 3600 IN CNAME verify.provider.test.", txt("verify.provider.test.", testToken)}},
		{name: "CNAME only: target asked", noRecurse: true, want: Found, cnames: []string{"verify.provider.test"}, transports: []string{"udp", "udp"},
			zone: []string{txtOwner + " 3600 IN CNAME verify.provider.test.", txt("verify.provider.test.", testToken)}},
		{name: "CNAME to a missing name", want: Absent, cnames: []string{"gone.provider.test"},
			summary: "No TXT record at _twilio.example.test (alias of gone.provider.test): the name does not exist (NXDOMAIN).",
			zone:    []string{txtOwner + " 3600 IN CNAME gone.provider.test."}},
		{name: "CNAME loop", noRecurse: true, want: Absent, cnames: []string{"a.provider.test"},
			summary: "No TXT record at _twilio.example.test: its CNAME chain loops back to _twilio.example.test.",
			zone:    []string{txtOwner + " 3600 IN CNAME a.provider.test.", "a.provider.test. 3600 IN CNAME _twilio.example.test."}},
		{name: "CNAME loop resolved by the server", want: Absent, cnames: []string{"a.provider.test"},
			summary: "No TXT record at _twilio.example.test: its CNAME chain loops back to _twilio.example.test.",
			zone:    []string{txtOwner + " 3600 IN CNAME a.provider.test.", "a.provider.test. 3600 IN CNAME _twilio.example.test."}},
		{name: "CNAME chain too long", noRecurse: true, want: Absent, zone: chain(9), cnames: chainNames(8),
			summary: "No TXT record at _twilio.example.test: its CNAME chain is longer than 8 aliases."},
		{name: "CNAME chain of 8", noRecurse: true, want: Found, zone: chain(8), cnames: chainNames(8)},
		{name: "SERVFAIL", rcode: dns.RcodeServerFailure, want: Inconclusive, summary: "~answered SERVFAIL."},
		{name: "REFUSED", rcode: dns.RcodeRefused, want: Inconclusive, summary: "~answered REFUSED."},
		{name: "more than ten values", zone: many, want: Absent, more: 3,
			summary: "Found 13 TXT records at _twilio.example.test, but none is the expected value.",
			values: []string{"twilio-domain-verification=old0", "twilio-domain-verification=old1", "twilio-domain-verification=old2",
				"twilio-domain-verification=old3", "twilio-domain-verification=old4", "twilio-domain-verification=old5",
				"twilio-domain-verification=old6", "twilio-domain-verification=old7", "twilio-domain-verification=old8",
				"twilio-domain-verification=old9"}},
		{name: "long value cut", zone: []string{txt(txtOwner, long[:255], long[255:])}, want: Absent,
			values: []string{long[:255] + "…"}},
		{name: "escaped bytes shown as typed", zone: []string{txtOwner + ` 3600 IN TXT "caf\195\169 \"x\" \\"`}, want: Absent,
			values: []string{`café "x" \`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testnet.StartDNS(t, tt.zone...)
			srv.Set(tt.rcode, tt.noRecurse)
			res := newChecker(t, Config{DNSServers: []string{srv.Addr}}).CheckDNS(context.Background(), testTarget)
			t.Log(res.Summary)

			if res.Outcome != tt.want || res.Method != DNS {
				t.Fatalf("got %s/%s (%s), want dns/%s", res.Method, res.Outcome, res.Summary, tt.want)
			}
			checkSummary(t, res.Summary, tt.summary)
			r := res.DNS
			if r.Name != "_twilio.example.test" || r.Type != "TXT" {
				t.Errorf("report names %s %s", r.Name, r.Type)
			}
			if tt.values != nil && !slices.Equal(r.Values, tt.values) || r.More != tt.more {
				t.Errorf("values %q more %d, want %q more %d", r.Values, r.More, tt.values, tt.more)
			}
			if !slices.Equal(r.CNAMEs, tt.cnames) {
				t.Errorf("CNAMEs %q, want %q", r.CNAMEs, tt.cnames)
			}
			if tt.transports != nil && !slices.Equal(transports(r.Queries), tt.transports) {
				t.Errorf("queries %+v, want transports %q", r.Queries, tt.transports)
			}
		})
	}
}

// chain is a zone where _twilio.example.test is the start of n aliases,
// the last of which holds the token.
func chain(n int) []string {
	owner := txtOwner
	var zone []string
	for i := range n {
		next := fmt.Sprintf("hop%d.provider.test.", i)
		zone = append(zone, owner+" 3600 IN CNAME "+next)
		owner = next
	}
	return append(zone, txt(owner, testToken))
}

func chainNames(n int) []string {
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("hop%d.provider.test", i))
	}
	return names
}

func transports(qs []DNSQuery) []string {
	var out []string
	for _, q := range qs {
		out = append(out, q.Transport)
	}
	return out
}

func checkSummary(t *testing.T, got, want string) {
	t.Helper()
	if sub, ok := strings.CutPrefix(want, "~"); ok {
		if !strings.Contains(got, sub) {
			t.Errorf("summary %q does not contain %q", got, sub)
		}
	} else if want != "" && got != want {
		t.Errorf("summary\n got %q\nwant %q", got, want)
	}
}

func TestCheckDNSQueryDetails(t *testing.T) {
	srv := testnet.StartDNS(t, append([]string{txt(txtOwner, testToken)}, func() (z []string) {
		for i := range 10 {
			z = append(z, txt(txtOwner, strings.Repeat(fmt.Sprint(i), 200)))
		}
		return z
	}()...)...)
	res := newChecker(t, Config{DNSServers: []string{srv.Addr}}).CheckDNS(context.Background(), testTarget)
	q := res.DNS.Queries
	if len(q) != 2 {
		t.Fatalf("queries %+v, want UDP then TCP", q)
	}
	if q[0].Transport != "udp" || !q[0].Truncated || q[0].Rcode != "NOERROR" || q[0].Server != srv.Addr ||
		q[0].Name != "_twilio.example.test" || q[0].Type != "TXT" {
		t.Errorf("first query %+v", q[0])
	}
	if q[1].Transport != "tcp" || q[1].Truncated || q[1].Rcode != "NOERROR" {
		t.Errorf("second query %+v", q[1])
	}
	if got := srv.Queries(); !slices.Equal(got, []string{"udp TXT " + txtOwner, "tcp TXT " + txtOwner}) {
		t.Errorf("server saw %q", got)
	}
}

func TestCheckDNSServers(t *testing.T) {
	good := func(t *testing.T) string { return testnet.StartDNS(t, txt(txtOwner, testToken)).Addr }
	failing := func(rcode int) func(t *testing.T) string {
		return func(t *testing.T) string {
			s := testnet.StartDNS(t)
			s.Set(rcode, false)
			return s.Addr
		}
	}
	absent := func(t *testing.T) string { return testnet.StartDNS(t, "example.test. 3600 IN A 127.0.0.1").Addr }
	closed := func(t *testing.T) string {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		pc.Close()
		return pc.LocalAddr().String()
	}
	silent := func(t *testing.T) string { return testnet.SilentDNS(t) }
	tests := []struct {
		name    string
		servers []func(t *testing.T) string
		want    Outcome
		summary string
		rcodes  []string // of the queries, in order
		errs    []string
	}{
		{name: "timeout", servers: []func(*testing.T) string{silent}, want: Inconclusive,
			summary: "~failed: timeout after 200ms.", rcodes: []string{""}, errs: []string{"timeout after 200ms"}},
		{name: "SERVFAIL then an answer", servers: []func(*testing.T) string{failing(dns.RcodeServerFailure), good}, want: Found,
			rcodes: []string{"SERVFAIL", "NOERROR"}, errs: []string{"", ""}},
		{name: "timeout then an answer", servers: []func(*testing.T) string{silent, good}, want: Found,
			rcodes: []string{"", "NOERROR"}, errs: []string{"timeout after 200ms", ""}},
		{name: "NXDOMAIN is final", servers: []func(*testing.T) string{absent, good}, want: Absent,
			rcodes: []string{"NXDOMAIN"}, errs: []string{""}},
		{name: "every server inconclusive", servers: []func(*testing.T) string{failing(dns.RcodeRefused), silent}, want: Inconclusive,
			summary: "~answered REFUSED; ", rcodes: []string{"REFUSED", ""}, errs: []string{"", "timeout after 200ms"}},
		{name: "network error", servers: []func(*testing.T) string{closed}, want: Inconclusive, rcodes: []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var addrs []string
			for _, start := range tt.servers {
				addrs = append(addrs, start(t))
			}
			c := newChecker(t, Config{DNSServers: addrs, DNSTimeout: 200 * time.Millisecond})
			res := c.CheckDNS(context.Background(), testTarget)
			t.Log(res.Summary)
			if res.Outcome != tt.want {
				t.Fatalf("got %s (%s), want %s", res.Outcome, res.Summary, tt.want)
			}
			checkSummary(t, res.Summary, tt.summary)
			var rcodes, errs []string
			for _, q := range res.DNS.Queries {
				if q.Name == "_twilio.example.test" && q.Type == "TXT" && !q.Direct {
					rcodes, errs = append(rcodes, q.Rcode), append(errs, q.Error)
				}
			}
			if !slices.Equal(rcodes, tt.rcodes) || tt.errs != nil && !slices.Equal(errs, tt.errs) {
				t.Errorf("queries %+v, want rcodes %q errors %q", res.DNS.Queries, tt.rcodes, tt.errs)
			}
			if tt.want == Inconclusive && !strings.Contains(res.Summary, addrs[0]) {
				t.Errorf("summary %q does not name the server %s", res.Summary, addrs[0])
			}
		})
	}
}

func TestCheckDNSStopped(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv := testnet.SilentDNS(t)
	done := make(chan Result)
	go func() {
		done <- newChecker(t, Config{DNSServers: []string{srv}, DNSTimeout: time.Minute}).CheckDNS(ctx, testTarget)
	}()
	cancel()
	res := <-done
	if res.Outcome != Inconclusive || !strings.Contains(res.Summary, "stopped") {
		t.Errorf("got %s: %s", res.Outcome, res.Summary)
	}
}
