package verify

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// maxNameservers bounds how many of a zone's nameservers are asked; real
// zones have two to six.
const maxNameservers = 8

// What a nameserver answered for the TXT record, in Nameserver.Answer.
const (
	ServesRecord = "record"   // the expected value
	NoSuchName   = "nxdomain" // the name does not exist
	NoTXT        = "nodata"   // the name exists without a TXT record
	OtherValues  = "other"    // TXT records, none of them the expected value
	Alias        = "alias"    // a CNAME: the record is in another zone
	NoAnswer     = "none"     // no usable answer: silent, lame, refused, not asked
)

// Nameserver is what one of the zone's own nameservers answered when asked
// directly, without recursion.
type Nameserver struct {
	Name    string   // e.g. "ns1.example.net"
	Address string   // the IP:port asked; "" when none could be
	Answer  string   // one of ServesRecord, NoSuchName, ...
	Values  []string // the TXT values, or the alias target, it answered
	Detail  string   // why there was no usable answer
}

// authority is what asking the zone's nameservers found.
type authority struct {
	zone        string
	nameservers []Nameserver
	problem     string // why they could not be asked
}

// askAuthorities finds the zone that holds name, its nameservers and their
// addresses through the resolvers, then asks each nameserver for the TXT
// record directly. soa is the SOA the resolver's negative answer carried, if
// any: it names the zone without another query.
func (c *Checker) askAuthorities(ctx context.Context, name, token string, soa *dns.SOA, queries *[]DNSQuery) authority {
	var a authority
	if soa == nil {
		soa = c.findSOA(ctx, name, queries)
	}
	if soa == nil {
		a.problem = "the zone of " + strings.TrimSuffix(name, ".") + " could not be found (no SOA record)"
		return a
	}
	a.zone = dns.CanonicalName(soa.Hdr.Name)
	msg, problem := c.ask(ctx, a.zone, dns.TypeNS, queries)
	if msg == nil {
		a.problem = "its nameservers could not be looked up: " + problem
		return a
	}
	var hosts []string
	for _, rr := range recordsOf(msg.Answer, a.zone, dns.TypeNS) {
		hosts = append(hosts, dns.CanonicalName(rr.(*dns.NS).Ns))
	}
	slices.Sort(hosts)
	hosts = slices.Compact(hosts)
	if len(hosts) == 0 {
		a.problem = "the zone " + strings.TrimSuffix(a.zone, ".") + " has no NS records"
		return a
	}
	a.nameservers = make([]Nameserver, len(hosts))
	var mu sync.Mutex // guards queries
	var wg sync.WaitGroup
	for i, host := range hosts {
		if i >= maxNameservers {
			// Not asked, so never counted as serving: the record is then
			// proven by the resolvers alone.
			a.nameservers[i] = Nameserver{Name: strings.TrimSuffix(host, "."), Answer: NoAnswer,
				Detail: fmt.Sprintf("not asked: only %d nameservers of a zone are asked", maxNameservers)}
			continue
		}
		wg.Go(func() {
			var own []DNSQuery
			a.nameservers[i] = c.askNameserver(ctx, host, name, token, &own)
			mu.Lock()
			*queries = append(*queries, own...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return a
}

// findSOA asks the resolvers for the SOA of name: a zone's apex answers it,
// any other name carries the zone's SOA in its negative answer.
func (c *Checker) findSOA(ctx context.Context, name string, queries *[]DNSQuery) *dns.SOA {
	msg, _ := c.ask(ctx, name, dns.TypeSOA, queries)
	if msg == nil {
		return nil
	}
	for _, rr := range append(msg.Answer, msg.Ns...) {
		if soa, ok := rr.(*dns.SOA); ok && dns.IsSubDomain(soa.Hdr.Name, name) {
			return soa
		}
	}
	return nil
}

// negativeTTL is how long a resolver may keep a "no such record" answer:
// the smaller of the SOA's own TTL and its MINIMUM field (RFC 2308 §5).
func negativeTTL(soa *dns.SOA) time.Duration {
	return time.Duration(min(soa.Hdr.Ttl, soa.Minttl)) * time.Second
}

// askNameserver resolves host and asks the first address the policy allows.
func (c *Checker) askNameserver(ctx context.Context, host, name, token string, queries *[]DNSQuery) Nameserver {
	ns := Nameserver{Name: strings.TrimSuffix(host, "."), Answer: NoAnswer}
	found := c.lookupHost(ctx, host, queries)
	switch {
	case len(found.allowed) == 0 && len(found.refused) > 0:
		ns.Detail = "not asked: " + strings.Join(found.refused, "; ")
		return ns
	case len(found.allowed) == 0:
		ns.Detail = "its address could not be found"
		return ns
	}
	ns.Address = net.JoinHostPort(found.allowed[0].String(), c.authPort)
	msg, reason := c.exchange(ctx, ns.Address, name, dns.TypeTXT, false, queries)
	switch {
	case msg == nil:
		ns.Detail = "no answer: " + strings.TrimPrefix(reason, "failed: ")
	case !msg.Authoritative:
		ns.Detail = "lame: it answered without authority for the zone"
	case msg.Rcode == dns.RcodeNameError:
		ns.Answer = NoSuchName
	default:
		ns.Answer, ns.Values = judgeAuthoritative(msg, name, token)
	}
	return ns
}

// judgeAuthoritative reads a nameserver's own answer for the TXT record.
func judgeAuthoritative(msg *dns.Msg, name, token string) (string, []string) {
	if target := cnameOf(msg.Answer, dns.CanonicalName(name)); target != "" {
		return Alias, []string{strings.TrimSuffix(target, ".")}
	}
	var values []string
	for _, rr := range recordsOf(msg.Answer, dns.CanonicalName(name), dns.TypeTXT) {
		values = append(values, cut(txtValue(rr.(*dns.TXT)), maxValueRunes))
	}
	switch {
	case len(values) == 0:
		return NoTXT, nil
	case slices.ContainsFunc(values, func(v string) bool { return sameValue(v, token) }):
		return ServesRecord, nil
	}
	if len(values) > maxValues {
		values = values[:maxValues]
	}
	return OtherValues, values
}

// serving counts the nameservers that serve the record.
func serving(nameservers []Nameserver) int {
	n := 0
	for _, ns := range nameservers {
		if ns.Answer == ServesRecord {
			n++
		}
	}
	return n
}

// Propagation says how far the record has reached the zone's own
// nameservers, or "" when they were not asked.
func (r *DNSReport) Propagation() string {
	total := len(r.Nameservers)
	if total == 0 {
		return ""
	}
	var waiting []string
	for _, ns := range r.Nameservers {
		if ns.Answer != ServesRecord {
			waiting = append(waiting, ns.Name)
		}
	}
	switch n := total - len(waiting); {
	case n == total && total == 1:
		return "Your nameserver serves the record."
	case n == total:
		return fmt.Sprintf("All %d of your nameservers serve the record.", total)
	case n == 0 && total == 1:
		return "Your nameserver does not serve the record yet."
	case n == 0:
		return fmt.Sprintf("None of your %d nameservers serves the record yet.", total)
	default:
		return fmt.Sprintf("%d of %d of your nameservers serve the record; waiting for %s.", n, total, strings.Join(waiting, ", "))
	}
}
