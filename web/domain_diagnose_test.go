package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gorm.io/gorm"

	"admincenter/internal/domains"
	"admincenter/internal/testdb"
	"admincenter/internal/testnet"
)

// delegatedZone is a zone as its three nameservers, on loopback, and the
// resolver know it.
func delegatedZone(domain string) []string {
	zone := []string{domain + ". 3600 IN SOA ns1." + domain + ". hostmaster." + domain + ". 1 7200 900 1209600 600"}
	for i := range 3 {
		ns := fmt.Sprintf("ns%d.%s.", i+1, domain)
		zone = append(zone, domain+". 3600 IN NS "+ns, fmt.Sprintf("%s 3600 IN A 127.0.0.%d", ns, i+2))
	}
	return zone
}

// The domain page shows what each of the zone's nameservers answers, how
// far the record has spread, how long resolvers may keep saying "not
// found", and the mistake it found; once every nameserver serves the
// record, the domain is verified although the resolver has not seen it.
func TestVerifyAsksTheZonesNameservers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		port, nameservers := testnet.StartNameservers(t, 3, delegatedZone("initech.test")...)
		a := newApp(t, db, "ADMINCENTER_DNS_AUTHORITATIVE_PORT", port)
		a.dns.Add(t, delegatedZone("initech.test")...)
		c := a.client()
		c.login("owner@acme.test")
		id := addDomain(t, c, "initech.test")
		d := a.domain(id)
		record := fmt.Sprintf(`_twilio.initech.test. 3600 IN TXT "%s"`, d.Token)
		nameservers[0].Add(t, record)
		nameservers[1].Add(t, record)
		a.dns.Add(t, fmt.Sprintf(`initech.test. 3600 IN TXT "%s"`, d.Token)) // at the apex by mistake

		r := c.post(fmt.Sprintf("/admin/domains/%d/verify", id), url.Values{"method": {"dns"}})
		r.want(t, http.StatusSeeOther)
		if got := a.domain(id); got.Status != domains.Pending {
			t.Fatalf("status %s with 2 of 3 nameservers serving the record", got.Status)
		}
		page := c.get(strings.TrimSuffix(r.location, "#last-check"))
		page.want(t, http.StatusOK, "Your nameservers (zone initech.test)",
			"2 of 3 of your nameservers serve the record; waiting for ns3.initech.test.",
			"127.0.0.4:"+port, "No such name", "Serves the record",
			"Resolvers that asked before may keep saying “not found” until",
			"What to change",
			`The value is at initech.test itself ("`+d.Token+`"), not at _twilio.initech.test.`,
			"Add the TXT record with the host _twilio, so that its full name is _twilio.initech.test.",
			"UDP, direct")
		// Words and times are apart, as people read them.
		page.wantText(t, "Next automatic check: ", "keep saying “not found” until ", " UTC, however soon the record is added.")

		nameservers[2].Add(t, record)
		c.post(fmt.Sprintf("/admin/domains/%d/verify", id), url.Values{"method": {"dns"}}).want(t, http.StatusSeeOther)
		if got := a.domain(id); got.Status != domains.Verified {
			t.Fatalf("status %s with every nameserver serving the record", got.Status)
		}
		c.get(fmt.Sprintf("/admin/domains/%d", id)).want(t, http.StatusOK,
			"All 3 nameservers of initech.test serve the expected TXT record at _twilio.initech.test, though the resolver does not see it yet.")
	})
}

// A value copied from another domain of the organization is named.
func TestVerifyNamesAnotherDomainsToken(t *testing.T) {
	a := newApp(t, testdb.SQLite(t))
	c := a.client()
	c.login("owner@acme.test")
	first := a.domain(addDomain(t, c, "example.test"))
	id := addDomain(t, c, "initech.test")
	a.dns.Add(t, fmt.Sprintf(`_twilio.initech.test. 3600 IN TXT "%s"`, first.Token))
	r := c.post(fmt.Sprintf("/admin/domains/%d/verify", id), url.Values{"method": {"dns"}})
	r.want(t, http.StatusSeeOther)
	page := c.get(strings.TrimSuffix(r.location, "#last-check"))
	page.want(t, http.StatusOK,
		"The record at _twilio.initech.test holds the token of example.test, another domain of this organization.",
		"the token of example.test belongs at _twilio.example.test.")
}

// A certificate the HTML-file check refuses is described: whom it is
// for, who issued it, when it is valid and which names it covers.
func TestVerifyDescribesARefusedCertificate(t *testing.T) {
	a := newApp(t, testdb.SQLite(t))
	c := a.client()
	c.login("owner@acme.test")
	a.dns.Add(t, "initrode.test. 300 IN A 127.0.0.1") // served by the site, whose certificate does not name it
	id := addDomain(t, c, "initrode.test")
	r := c.post(fmt.Sprintf("/admin/domains/%d/verify", id), url.Values{"method": {"https"}})
	r.want(t, http.StatusSeeOther)
	page := c.get(strings.TrimSuffix(r.location, "#last-check"))
	page.want(t, http.StatusOK,
		"The site's certificate", "Names it covers", "acme.test, www.acme.test",
		"The certificate of initrode.test does not cover initrode.test",
		"Add initrode.test to the names of the certificate, or install one that covers it.")
	page.wantText(t, " UTC to ")
}
