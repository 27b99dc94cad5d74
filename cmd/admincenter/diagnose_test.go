package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"admincenter/internal/testnet"
	"admincenter/internal/verify"
)

// diagnose runs `domains diagnose` against a resolver and the zone's three
// nameservers on loopback, with a database URL that cannot be opened: the
// diagnosis needs none.
func TestDomainsDiagnose(t *testing.T) {
	const token = "twilio-domain-verification=0123456789abcdef0123456789abcdef"
	zone := []string{
		"example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 1 7200 900 1209600 300",
		"example.test. 3600 IN NS ns1.example.test.",
		"example.test. 3600 IN NS ns2.example.test.",
		"ns1.example.test. 3600 IN A 127.0.0.2",
		"ns2.example.test. 3600 IN A 127.0.0.3",
	}
	resolver := testnet.StartDNS(t, append(zone, `_twilio.www.example.test. 3600 IN TXT "`+token+`"`)...)
	port, nameservers := testnet.StartNameservers(t, 2, zone...)
	nameservers[0].Add(t, `_twilio.example.test. 3600 IN TXT "`+token+`"`)
	vars := env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none", "ADMINCENTER_DNS_SERVERS", resolver.Addr,
		"ADMINCENTER_DNS_AUTHORITATIVE_PORT", port, "ADMINCENTER_VERIFY_ALLOW_PRIVATE", "true")
	diagnose := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), append([]string{"domains", "diagnose"}, args...), vars, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	code, out, errOut := diagnose("Example.TEST", "--token", token)
	for _, want := range []string{
		"example.test, expecting " + token,
		"dns: absent",
		"nameservers of example.test: 1 of 2 of your nameservers serve the record; waiting for ns2.example.test.",
		"ns1.example.test (127.0.0.2:" + port + "): record",
		"ns2.example.test (127.0.0.3:" + port + "): nxdomain",
		"! The value is at _twilio.www.example.test (\"" + token + "\"), under the subdomain www.",
		"Put it at _twilio.example.test: the host is _twilio, without www.",
		"over udp, direct: TXT _twilio.example.test → NXDOMAIN",
		"resolvers that asked before may say \"not found\" until ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code != 1 || !strings.Contains(errOut, "no proof of example.test found") {
		t.Errorf("exit %d, stderr %q; want 1 and why", code, errOut)
	}

	code, out, _ = diagnose("--json", "example.test", "--token", token)
	var d diagnosis
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("--json printed %q: %v", out, err)
	}
	if code != 1 || d.Domain != "example.test" || len(d.Results) != 1 || d.Results[0].Outcome != verify.Absent ||
		len(d.Results[0].DNS.Nameservers) != 2 || d.Results[0].Mistakes[0].Kind != "subdomain" {
		t.Errorf("exit %d, JSON %+v", code, d)
	}

	nameservers[1].Add(t, `_twilio.example.test. 3600 IN TXT "`+token+`"`)
	code, out, _ = diagnose("example.test", "--token", token)
	if code != 0 || !strings.Contains(out, "dns: found") || !strings.Contains(out, "All 2 nameservers of example.test serve the expected TXT record") {
		t.Errorf("exit %d once every nameserver serves the record:\n%s", code, out)
	}

	resolver.Add(t, `_twilio.example.test. 3600 IN TXT "`+token+`"`)
	code, out, _ = diagnose("example.test")
	if code != 0 || !strings.Contains(out, "judging the value published at _twilio.example.test: "+token) {
		t.Errorf("exit %d without --token:\n%s", code, out)
	}

	if code, _, errOut = diagnose("https://example.test/"); code != 2 || !strings.Contains(errOut, "is not a bare domain name") {
		t.Errorf("a URL: exit %d, %q", code, errOut)
	}
	if code, _, errOut = diagnose(); code != 2 || !strings.Contains(errOut, "usage: ") {
		t.Errorf("no domain: exit %d, %q", code, errOut)
	}
}
