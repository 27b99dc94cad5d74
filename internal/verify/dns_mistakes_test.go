package verify

import (
	"context"
	"strings"
	"testing"

	"admincenter/internal/testnet"
)

func TestCheckDNSNamesTheMistake(t *testing.T) {
	const code = "0123456789abcdef0123456789abcdef"
	const otherToken = "twilio-domain-verification=ffffffffffffffffffffffffffffffff"
	tests := []struct {
		name   string
		domain string // default example.test
		zone   []string
		kind   string
		found  string // exact
		fix    string // exact
	}{
		{name: "value at the domain itself", kind: "apex", zone: []string{txt("example.test.", "v=spf1 -all"), txt("example.test.", testToken)},
			found: `The value is at example.test itself ("` + testToken + `"), not at _twilio.example.test.`,
			fix:   "Add the TXT record with the host _twilio, so that its full name is _twilio.example.test."},
		{name: "zone typed twice", kind: "zone-twice", zone: []string{txt("_twilio.example.test.example.test.", testToken)},
			found: `The value is at _twilio.example.test.example.test ("` + testToken + `"): the DNS provider added the zone to a host typed in full.`,
			fix:   "Enter only _twilio as the host."},
		{name: "zone typed twice, subdomain", domain: "sub.example.test", kind: "zone-twice",
			zone:  []string{txt("_twilio.sub.example.test.example.test.", testToken)},
			found: `The value is at _twilio.sub.example.test.example.test ("` + testToken + `"): the DNS provider added the zone to a host typed in full.`,
			fix:   "Enter only _twilio.sub as the host."},
		{name: "under www", kind: "subdomain", zone: []string{txt("_twilio.www.example.test.", testToken)},
			found: `The value is at _twilio.www.example.test ("` + testToken + `"), under the subdomain www.`,
			fix:   "Put it at _twilio.example.test: the host is _twilio, without www."},
		{name: "at the parent domain", domain: "sub.example.test", kind: "parent", zone: []string{txt("_twilio.example.test.", testToken)},
			found: `The value is at _twilio.example.test ("` + testToken + `"), the record of the parent domain.`,
			fix:   "Put it at _twilio.sub.example.test, in the zone example.test with the host _twilio.sub."},
		{name: "another domain's token", kind: "other-domain", zone: []string{txt(txtOwner, otherToken)},
			found: "The record at _twilio.example.test holds the token of example.org, another domain of this organization.",
			fix:   "Add a TXT record with this domain's own value, " + testToken + "; the token of example.org belongs at _twilio.example.org."},
		{name: "no prefix", kind: "no-prefix", zone: []string{txt(txtOwner, code)},
			found: `The record at _twilio.example.test holds the code "` + code + `" without its prefix.`,
			fix:   "Set the value to " + testToken + " exactly, prefix included."},
		{name: "prefix twice", kind: "prefix-twice", zone: []string{txt(txtOwner, "twilio-domain-verification="+testToken)},
			found: `The record at _twilio.example.test holds "twilio-domain-verification=` + testToken + `": the prefix twilio-domain-verification= is there twice.`,
			fix:   "Set the value to " + testToken + " exactly, with the prefix once."},
		{name: "alias to a name without TXT", kind: "cname-target",
			zone:  []string{txtOwner + " 3600 IN CNAME verify.provider.test.", "verify.provider.test. 3600 IN A 127.0.0.1"},
			found: "_twilio.example.test is an alias (CNAME) of verify.provider.test, which has no TXT record.",
			fix:   "Remove the CNAME record at _twilio.example.test and add the TXT record there, or add the TXT record at verify.provider.test."},
		{name: "alias to a missing name", kind: "cname-target", zone: []string{txtOwner + " 3600 IN CNAME gone.provider.test."},
			found: "_twilio.example.test is an alias (CNAME) of gone.provider.test, which does not exist.",
			fix:   "Remove the CNAME record at _twilio.example.test and add the TXT record there, or add the TXT record at gone.provider.test."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testnet.StartDNS(t, tt.zone...)
			target := testTarget
			if tt.domain != "" {
				target.Domain = tt.domain
			}
			res := newChecker(t, Config{DNSServers: []string{srv.Addr}}).CheckDNS(context.Background(), target)
			res.NameOtherTokens(testToken, map[string]string{otherToken: "example.org"})
			if res.Outcome != Absent {
				t.Fatalf("got %s: %s, want absent", res.Outcome, res.Summary)
			}
			if len(res.Mistakes) != 1 {
				t.Fatalf("mistakes %+v, want one %s", res.Mistakes, tt.kind)
			}
			m := res.Mistakes[0]
			if m.Kind != tt.kind || m.Found != tt.found || m.Fix != tt.fix {
				t.Errorf("mistake\n got %s: %q %q\nwant %s: %q %q", m.Kind, m.Found, m.Fix, tt.kind, tt.found, tt.fix)
			}
		})
	}
}

func TestCheckDNSLooksForMistakesOnlyWhenMissing(t *testing.T) {
	srv := testnet.StartDNS(t, txt(txtOwner, testToken), txt("example.test.", testToken))
	res := newChecker(t, Config{DNSServers: []string{srv.Addr}}).CheckDNS(context.Background(), testTarget)
	if res.Outcome != Found || len(res.Mistakes) != 0 {
		t.Fatalf("got %s with mistakes %+v", res.Outcome, res.Mistakes)
	}
	if q := srv.Queries(); len(q) != 1 || !strings.HasSuffix(q[0], txtOwner) {
		t.Errorf("a found record asked %q", q)
	}
}
