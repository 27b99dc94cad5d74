package verify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"
	"golang.org/x/net/publicsuffix"
)

// tokenPrefix is what every verification value starts with.
const tokenPrefix = "twilio-domain-verification="

// dnsMistakes names what is wrong with the record people published: a value
// at _twilio that is almost the token, an alias leading nowhere, or the
// token at a name next to the right one.
func (c *Checker) dnsMistakes(ctx context.Context, t Target, l lookup, queries *[]DNSQuery) []Mistake {
	name := TXTName(t.Domain)
	mistakes := valueMistakes(t, name, l)
	if len(l.cnames) > 0 && l.problem == "" && l.broken == "" {
		mistakes = append(mistakes, aliasMistake(name, l))
	}
	places := misplacements(t.Domain)
	found := make([][]Mistake, len(places))
	own := make([][]DNSQuery, len(places))
	var wg sync.WaitGroup
	for i, p := range places {
		wg.Go(func() {
			for _, v := range txtValues(c.resolve(ctx, dns.Fqdn(p.name), dns.TypeTXT, &own[i])) {
				if hasCode(v, t.Token) {
					found[i] = append(found[i], Mistake{Kind: p.kind,
						Found: fmt.Sprintf(p.found, p.name, cut(v, maxValueRunes)), Fix: p.fix})
					return
				}
			}
		})
	}
	wg.Wait()
	for i := range places {
		mistakes = append(mistakes, found[i]...)
		*queries = append(*queries, own[i]...)
	}
	return mistakes
}

// valueMistakes looks at the values found at _twilio for the token spelled
// wrong.
func valueMistakes(t Target, name string, l lookup) []Mistake {
	code := codeOf(t.Token)
	var out []Mistake
	for _, v := range txtValues(l) {
		v = trimTXT(v)
		shown := cut(v, maxValueRunes)
		switch lower := strings.ToLower(v); {
		case lower == code:
			out = append(out, Mistake{Kind: "no-prefix",
				Found: fmt.Sprintf("The record at %s holds the code %q without its prefix.", name, shown),
				Fix:   fmt.Sprintf("Set the value to %s exactly, prefix included.", t.Token)})
		case strings.HasPrefix(lower, tokenPrefix+tokenPrefix):
			out = append(out, Mistake{Kind: "prefix-twice",
				Found: fmt.Sprintf("The record at %s holds %q: the prefix %s is there twice.", name, shown, tokenPrefix),
				Fix:   fmt.Sprintf("Set the value to %s exactly, with the prefix once.", t.Token)})
		}
	}
	return out
}

// NameOtherTokens adds a mistake for each value found at _twilio that is
// the token of another domain of the organization. others maps tokens,
// lower case, to their domains. It is separate from CheckDNS because only
// the caller knows the other domains, and needs to look them up only for a
// DNS check that found other values.
func (r *Result) NameOtherTokens(token string, others map[string]string) {
	if r.DNS == nil || r.Outcome != Absent {
		return
	}
	for _, v := range r.DNS.Values {
		if other := others[strings.ToLower(trimTXT(v))]; other != "" {
			r.Mistakes = append(r.Mistakes, Mistake{Kind: "other-domain",
				Found: fmt.Sprintf("The record at %s holds the token of %s, another domain of this organization.", r.DNS.Name, other),
				Fix:   fmt.Sprintf("Add a TXT record with this domain's own value, %s; the token of %s belongs at %s.", token, other, TXTName(other))})
		}
	}
}

// aliasMistake explains a CNAME at _twilio whose target holds no proof.
func aliasMistake(name string, l lookup) Mistake {
	target := l.cnames[len(l.cnames)-1]
	what := "which has no TXT record"
	switch {
	case l.rcode == dns.RcodeNameError:
		what = "which does not exist"
	case len(l.records) > 0:
		what = "whose TXT records are not the expected value"
	}
	return Mistake{Kind: "cname-target",
		Found: fmt.Sprintf("%s is an alias (CNAME) of %s, %s.", name, target, what),
		Fix:   fmt.Sprintf("Remove the CNAME record at %s and add the TXT record there, or add the TXT record at %s.", name, target)}
}

// misplacement is a name where the record is often put by mistake.
type misplacement struct {
	kind, name string
	found, fix string // found takes the name and the value
}

// misplacements are the names to look at for domain: the domain itself,
// the zone typed twice, a subdomain, and the parent domain.
func misplacements(domain string) []misplacement {
	name := TXTName(domain)
	out := []misplacement{
		{kind: "apex", name: domain,
			found: "The value is at %s itself (%q), not at " + name + ".",
			fix:   fmt.Sprintf("Add the TXT record with the host _twilio, so that its full name is %s.", name)},
		{kind: "subdomain", name: TXTName("www." + domain),
			found: "The value is at %s (%q), under the subdomain www.",
			fix:   fmt.Sprintf("Put it at %s: the host is _twilio, without www.", name)},
	}
	zones := []string{domain}
	site, err := publicsuffix.EffectiveTLDPlusOne(domain)
	if err == nil && site != domain {
		zones = append(zones, site)
		out = append(out, misplacement{kind: "parent", name: TXTName(site),
			found: "The value is at %s (%q), the record of the parent domain.",
			fix:   fmt.Sprintf("Put it at %s, in the zone %s with the host %s.", name, site, hostIn(name, site))})
	}
	for _, zone := range zones {
		out = append(out, misplacement{kind: "zone-twice", name: name + "." + zone,
			found: "The value is at %s (%q): the DNS provider added the zone to a host typed in full.",
			fix:   fmt.Sprintf("Enter only %s as the host.", hostIn(name, zone))})
	}
	return out
}

// hostIn is name relative to zone, as DNS providers' forms ask for it.
func hostIn(name, zone string) string {
	return strings.TrimSuffix(name, "."+zone)
}

// codeOf is the hexadecimal part of a token, lower case.
func codeOf(token string) string {
	token = strings.ToLower(trimTXT(token))
	return token[strings.LastIndexByte(token, '=')+1:]
}

// hasCode reports whether v holds the token's code, with or without its
// prefix: a value at the wrong name is a mistake either way.
func hasCode(v, token string) bool {
	return strings.Contains(strings.ToLower(v), codeOf(token))
}

func txtValues(l lookup) []string {
	var out []string
	for _, rr := range l.records {
		if rr, ok := rr.(*dns.TXT); ok {
			out = append(out, txtValue(rr))
		}
	}
	return slices.Clip(out)
}

// PublishedToken is the value at TXTName(domain) that looks like a token,
// for a diagnosis without the expected one: "published" with it, or two
// empty strings when there is none.
func (c *Checker) PublishedToken(ctx context.Context, domain string) (token, source string) {
	var queries []DNSQuery
	for _, v := range txtValues(c.resolve(ctx, dns.Fqdn(TXTName(domain)), dns.TypeTXT, &queries)) {
		if v = strings.ToLower(trimTXT(v)); strings.HasPrefix(v, tokenPrefix) {
			return v, "published"
		}
	}
	return "", ""
}
