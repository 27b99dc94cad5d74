package verify

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"admincenter/internal/testnet"

	"github.com/miekg/dns"
)

// zoneHead is example.test as the resolver and the nameservers know it: an
// SOA whose negative TTL is 5 minutes, and three nameservers on loopback.
var zoneHead = []string{
	"example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 1 7200 900 1209600 300",
	"example.test. 3600 IN NS ns1.example.test.",
	"example.test. 3600 IN NS ns2.example.test.",
	"example.test. 3600 IN NS ns3.example.test.",
	"ns1.example.test. 3600 IN A 127.0.0.2",
	"ns2.example.test. 3600 IN A 127.0.0.3",
	"ns3.example.test. 3600 IN A 127.0.0.4",
}

// delegation is a resolver that has cached "no such record" for the TXT
// record, and the zone's three nameservers, which all serve it.
func delegation(t *testing.T, cfg Config) (*testnet.DNS, []*testnet.DNS, *Checker) {
	t.Helper()
	resolver := testnet.StartDNS(t, zoneHead...)
	port, nameservers := testnet.StartNameservers(t, 3, append(slices.Clone(zoneHead), txt(txtOwner, testToken))...)
	cfg.DNSServers = []string{resolver.Addr}
	cfg.AuthoritativePort, _ = strconv.Atoi(port)
	return resolver, nameservers, newChecker(t, cfg)
}

func TestCheckDNSAsksTheNameservers(t *testing.T) {
	t.Run("all serve it: proven despite the resolver's cached answer", func(t *testing.T) {
		_, nameservers, c := delegation(t, Config{AllowPrivate: true})
		before := time.Now()
		res := c.CheckDNS(context.Background(), testTarget)
		want := "All 3 nameservers of example.test serve the expected TXT record at _twilio.example.test, though the resolver does not see it yet."
		if res.Outcome != Found || res.Summary != want {
			t.Fatalf("got %s: %q, want found: %q", res.Outcome, res.Summary, want)
		}
		r := res.DNS
		if r.Zone != "example.test" || len(r.Nameservers) != 3 || r.Propagation() != "All 3 of your nameservers serve the record." {
			t.Errorf("zone %q, nameservers %+v, %q", r.Zone, r.Nameservers, r.Propagation())
		}
		for i, ns := range r.Nameservers {
			if ns.Name != fmt.Sprintf("ns%d.example.test", i+1) || ns.Answer != ServesRecord || ns.Address != nameservers[i].Addr {
				t.Errorf("nameserver %d: %+v, want ns%d at %s serving", i, ns, i+1, nameservers[i].Addr)
			}
		}
		if r.NegativeUntil == nil || r.NegativeUntil.Before(before.Add(299*time.Second)) || r.NegativeUntil.After(time.Now().Add(300*time.Second)) {
			t.Errorf("negative answer cached until %v, want 5 minutes from now", r.NegativeUntil)
		}
		if len(res.Mistakes) != 0 {
			t.Errorf("a proven domain shows mistakes: %+v", res.Mistakes)
		}
		for _, ns := range nameservers {
			if q := ns.Queries(); !slices.Equal(q, []string{"udp TXT " + txtOwner}) {
				t.Errorf("nameserver %s was asked %q, want the TXT record once", ns.Addr, q)
			}
		}
	})

	t.Run("partial propagation proves nothing and says who is late", func(t *testing.T) {
		_, nameservers, c := delegation(t, Config{AllowPrivate: true})
		nameservers[2].Remove(txtOwner)
		nameservers[2].Add(t, txt(txtOwner, "twilio-domain-verification=old"))
		res := c.CheckDNS(context.Background(), testTarget)
		if res.Outcome != Absent {
			t.Fatalf("got %s: %s, want absent", res.Outcome, res.Summary)
		}
		want := "2 of 3 of your nameservers serve the record; waiting for ns3.example.test."
		if got := res.DNS.Propagation(); got != want {
			t.Errorf("propagation %q, want %q", got, want)
		}
		if ns := res.DNS.Nameservers[2]; ns.Answer != OtherValues || !slices.Equal(ns.Values, []string{"twilio-domain-verification=old"}) {
			t.Errorf("ns3: %+v, want the other value", ns)
		}
	})

	t.Run("each kind of answer is named", func(t *testing.T) {
		_, nameservers, c := delegation(t, Config{AllowPrivate: true, DNSTimeout: 300 * time.Millisecond})
		nameservers[0].Remove(txtOwner)
		nameservers[1].Lame()
		nameservers[2].Silence(dns.TypeTXT)
		res := c.CheckDNS(context.Background(), testTarget)
		got := res.DNS.Nameservers
		if res.Outcome != Absent || len(got) != 3 {
			t.Fatalf("got %s with %+v", res.Outcome, got)
		}
		if got[0].Answer != NoSuchName || got[1].Answer != NoAnswer || !strings.Contains(got[1].Detail, "lame") ||
			got[2].Answer != NoAnswer || got[2].Detail != "no answer: timeout after 300ms" {
			t.Errorf("nameservers %+v", got)
		}
		if p := res.DNS.Propagation(); p != "None of your 3 nameservers serves the record yet." {
			t.Errorf("propagation %q", p)
		}
	})

	t.Run("refused answers and the address policy", func(t *testing.T) {
		_, nameservers, c := delegation(t, Config{})
		res := c.CheckDNS(context.Background(), testTarget)
		for _, ns := range res.DNS.Nameservers {
			if ns.Answer != NoAnswer || ns.Address != "" || !strings.HasPrefix(ns.Detail, "not asked: 127.0.0.") {
				t.Errorf("nameserver on loopback %+v, want not asked", ns)
			}
		}
		for _, ns := range nameservers {
			if q := ns.Queries(); len(q) != 0 {
				t.Errorf("a nameserver on a refused address was asked %q", q)
			}
		}
		_, nameservers, c = delegation(t, Config{AllowPrivate: true})
		nameservers[0].Set(dns.RcodeRefused, false)
		if ns := c.CheckDNS(context.Background(), testTarget).DNS.Nameservers[0]; ns.Detail != "no answer: answered REFUSED" {
			t.Errorf("REFUSED nameserver %+v", ns)
		}
	})

	t.Run("found by the resolver: nameservers not asked", func(t *testing.T) {
		resolver, nameservers, c := delegation(t, Config{AllowPrivate: true})
		resolver.Add(t, txt(txtOwner, testToken))
		resolver.Authenticate(true)
		res := c.CheckDNS(context.Background(), testTarget)
		if res.Outcome != Found || !res.DNS.Authenticated || len(res.DNS.Nameservers) != 0 || len(res.DNS.Queries) != 1 {
			t.Fatalf("got %s, authenticated %v, %d nameservers, queries %+v", res.Outcome, res.DNS.Authenticated, len(res.DNS.Nameservers), res.DNS.Queries)
		}
		for _, ns := range nameservers {
			if q := ns.Queries(); len(q) != 0 {
				t.Errorf("nameserver asked %q", q)
			}
		}
	})

	t.Run("a resolver's DNSSEC failure is not overruled", func(t *testing.T) {
		resolver, _, c := delegation(t, Config{AllowPrivate: true})
		resolver.Set(dns.RcodeServerFailure, false)
		resolver.Explain(dns.ExtendedErrorCodeSignatureExpired, "RRSIG expired 2026-11-30")
		res := c.CheckDNS(context.Background(), testTarget)
		if res.Outcome != Inconclusive || !strings.Contains(res.Summary, "answered SERVFAIL (Signature Expired: RRSIG expired 2026-11-30)") {
			t.Fatalf("got %s: %q", res.Outcome, res.Summary)
		}
		if q := res.DNS.Queries[0]; q.Explanation != "Signature Expired: RRSIG expired 2026-11-30" {
			t.Errorf("query %+v", q)
		}
	})

	t.Run("at most eight nameservers asked, and then no proof by them", func(t *testing.T) {
		zone := slices.Clone(zoneHead)
		for i := range 12 {
			zone = append(zone, fmt.Sprintf("example.test. 3600 IN NS extra%02d.example.test.", i),
				fmt.Sprintf("extra%02d.example.test. 3600 IN A 127.0.0.2", i))
		}
		resolver := testnet.StartDNS(t, zone...)
		c := newChecker(t, Config{DNSServers: []string{resolver.Addr}, AllowPrivate: true, DNSTimeout: 200 * time.Millisecond})
		asked := 0
		for _, ns := range c.CheckDNS(context.Background(), testTarget).DNS.Nameservers {
			if ns.Address != "" {
				asked++
			}
		}
		if asked != maxNameservers {
			t.Errorf("%d nameservers asked, want %d", asked, maxNameservers)
		}
	})

	t.Run("nine nameservers serving: the one not asked keeps it unproven", func(t *testing.T) {
		zone := []string{zoneHead[0]}
		for i := range 9 {
			zone = append(zone, fmt.Sprintf("example.test. 3600 IN NS ns%d.example.test.", i+1),
				fmt.Sprintf("ns%d.example.test. 3600 IN A 127.0.0.%d", i+1, i+2))
		}
		resolver := testnet.StartDNS(t, zone...)
		port, _ := testnet.StartNameservers(t, 9, append(zone, txt(txtOwner, testToken))...)
		p, _ := strconv.Atoi(port)
		res := newChecker(t, Config{DNSServers: []string{resolver.Addr}, AuthoritativePort: p, AllowPrivate: true}).CheckDNS(context.Background(), testTarget)
		if res.Outcome != Absent || res.DNS.Propagation() != "8 of 9 of your nameservers serve the record; waiting for ns9.example.test." {
			t.Errorf("got %s, %q", res.Outcome, res.DNS.Propagation())
		}
	})

	t.Run("no SOA: said, not guessed", func(t *testing.T) {
		resolver := testnet.StartDNS(t, "example.test. 3600 IN A 127.0.0.1")
		res := newChecker(t, Config{DNSServers: []string{resolver.Addr}}).CheckDNS(context.Background(), testTarget)
		if res.Outcome != Absent || res.DNS.AuthorityProblem != "the zone of _twilio.example.test could not be found (no SOA record)" {
			t.Errorf("got %s, problem %q", res.Outcome, res.DNS.AuthorityProblem)
		}
	})
}
