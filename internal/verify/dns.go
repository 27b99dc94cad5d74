package verify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/miekg/dns"
)

const (
	// ednsUDPSize is the DNS Flag Day 2020 buffer size: large enough for
	// most TXT answers, small enough to avoid IP fragmentation.
	ednsUDPSize = 1232
	// maxCNAMEs bounds an alias chain; real ones are one or two long.
	maxCNAMEs     = 8
	maxValues     = 10
	maxValueRunes = 255
	// summaryRunes bounds a value quoted inside a one-sentence summary.
	summaryRunes = 80
)

// CheckDNS looks for a TXT record equal to t.Token at TXTName(t.Domain):
// through the resolvers first and, when they do not find it, by asking the
// zone's own nameservers and the places people put the record by mistake.
func (c *Checker) CheckDNS(ctx context.Context, t Target) Result {
	start := time.Now()
	name := TXTName(t.Domain)
	report := &DNSReport{Name: name, Type: "TXT"}
	if t.Domain == "" || trimTXT(t.Token) == "" {
		return Result{Method: DNS, Outcome: Inconclusive, DNS: report,
			Summary: "The DNS check was not run: the domain or the token is empty."}
	}
	l := c.resolve(ctx, name, dns.TypeTXT, &report.Queries)
	report.CNAMEs, report.Authenticated = l.cnames, l.authenticated
	r := Result{Method: DNS, DNS: report}
	r.Outcome, r.Summary = judgeTXT(l, name, t.Token, report)
	if r.Outcome == Absent || r.Outcome == Inconclusive && resolverAnswered(report.Queries) {
		c.lookFurther(ctx, t, l, &r)
	}
	r.Duration = time.Since(start)
	return r
}

// resolverAnswered reports whether a resolver answered at all, if only to
// say it failed: then the zone's nameservers may tell why.
func resolverAnswered(queries []DNSQuery) bool {
	return slices.ContainsFunc(queries, func(q DNSQuery) bool { return q.Rcode != "" })
}

// lookFurther asks the zone's nameservers and, when the record is absent,
// looks for the usual mistakes, at once and within a bounded time. Every nameserver serving the record
// proves it as well as a resolver finding it: a resolver's cached "no such
// record" must not keep a correct domain pending. An inconclusive resolver
// answer stays inconclusive, because a validating resolver's SERVFAIL may
// be the DNSSEC failure that asking without validation would hide.
func (c *Checker) lookFurther(ctx context.Context, t Target, l lookup, r *Result) {
	ctx, cancel := context.WithTimeout(ctx, 3*c.dnsTimeout)
	defer cancel()
	report := r.DNS
	name := dns.CanonicalName(report.Name)
	var soa *dns.SOA
	if len(l.cnames) == 0 {
		soa = l.soa // a CNAME's SOA is the zone of its target
	}
	negative := l.problem == "" && l.broken == "" && len(l.records) == 0
	if negative && l.soa != nil {
		until := time.Now().Add(negativeTTL(l.soa)).Truncate(time.Second)
		report.NegativeUntil = &until
	}
	var a authority
	var mistakes []Mistake
	var authQueries, mistakeQueries []DNSQuery
	var wg sync.WaitGroup
	wg.Go(func() { a = c.askAuthorities(ctx, name, t.Token, soa, &authQueries) })
	if r.Outcome == Absent {
		wg.Go(func() { mistakes = c.dnsMistakes(ctx, t, l, &mistakeQueries) })
	}
	wg.Wait()
	report.Queries = append(append(report.Queries, authQueries...), mistakeQueries...)
	report.Zone, report.Nameservers, report.AuthorityProblem = strings.TrimSuffix(a.zone, "."), a.nameservers, a.problem
	r.Mistakes = mistakes
	if n := serving(a.nameservers); r.Outcome == Absent && n > 0 && n == len(a.nameservers) {
		r.Outcome = Found
		r.Summary = fmt.Sprintf("%s of %s serve%s the expected TXT record at %s, though the resolver does not see it yet.",
			allNameservers(n), report.Zone, map[bool]string{true: "s"}[n == 1], report.Name)
		r.Mistakes = nil
	}
}

func allNameservers(n int) string {
	if n == 1 {
		return "The nameserver"
	}
	return fmt.Sprintf("All %d nameservers", n)
}

func judgeTXT(l lookup, name, token string, report *DNSReport) (Outcome, string) {
	where := name
	if len(l.cnames) > 0 {
		where = fmt.Sprintf("%s (alias of %s)", name, l.cnames[len(l.cnames)-1])
	}
	switch {
	case l.problem != "":
		return Inconclusive, fmt.Sprintf("Could not look up the TXT record at %s: %s.", where, l.problem)
	case l.broken != "":
		return Absent, fmt.Sprintf("No TXT record at %s: %s.", name, l.broken)
	case l.rcode == dns.RcodeNameError:
		return Absent, fmt.Sprintf("No TXT record at %s: the name does not exist (NXDOMAIN).", where)
	case len(l.records) == 0:
		return Absent, fmt.Sprintf("No TXT record at %s: the name exists but has no TXT record.", where)
	}
	var values []string
	for _, rr := range l.records {
		if rr, ok := rr.(*dns.TXT); ok {
			values = append(values, txtValue(rr))
		}
	}
	for i, v := range values {
		if i == maxValues {
			report.More = len(values) - maxValues
			break
		}
		report.Values = append(report.Values, cut(v, maxValueRunes))
	}
	for _, v := range values {
		if sameValue(v, token) {
			return Found, fmt.Sprintf("Found the expected TXT record at %s.", where)
		}
	}
	if len(values) == 1 {
		return Absent, fmt.Sprintf("Found 1 TXT record at %s, but it is not the expected value: %q.", where, cut(values[0], summaryRunes))
	}
	return Absent, fmt.Sprintf("Found %d TXT records at %s, but none is the expected value.", len(values), where)
}

// txtValue joins the strings of one record, as RFC 7208 §3.3 does, after
// undoing the presentation escapes miekg/dns adds (\" \\ \DDD), so that what
// we compare and show is what the owner typed. Bytes that are not UTF-8 are
// replaced so the value survives JSON.
func txtValue(rr *dns.TXT) string {
	var b strings.Builder
	for _, s := range rr.Txt {
		b.WriteString(unescapeTXT(s))
	}
	return strings.ToValidUTF8(b.String(), "\uFFFD")
}

func unescapeTXT(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b = append(b, s[i])
			continue
		}
		if i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 10, 8); err == nil {
				b = append(b, byte(n))
				i += 3
				continue
			}
		}
		b = append(b, s[i+1])
		i++
	}
	return string(b)
}

// sameValue reports whether a TXT value is the token, forgiving case and
// what trimTXT drops.
func sameValue(v, token string) bool {
	return strings.EqualFold(trimTXT(v), trimTXT(token))
}

// trimTXT drops the whitespace and double quotes that DNS control panels
// often keep around a pasted value.
func trimTXT(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '"' })
}

// lookup is what resolving one name and type ended with, after following
// CNAMEs. Exactly one of problem, broken or rcode tells how it ended.
type lookup struct {
	rcode         int      // rcode of the last definitive answer
	records       []dns.RR // records of the asked type at the end of the chain
	cnames        []string // aliases followed, in order, without trailing dots
	problem       string   // set when no server gave a definitive answer
	broken        string   // set when the CNAME chain loops or is too long
	soa           *dns.SOA // the zone's SOA a negative answer carried
	authenticated bool     // the last answer's AD bit
}

// resolve asks for name and type qtype and follows a CNAME chain: through the
// answer section when the server resolved it, and by asking for the alias
// target itself when the answer stops at a CNAME (a server that does not
// recurse). Every query is appended to queries.
func (c *Checker) resolve(ctx context.Context, name string, qtype uint16, queries *[]DNSQuery) lookup {
	var l lookup
	owner := dns.CanonicalName(name)
	seen := map[string]bool{owner: true}
	for {
		asked := owner
		msg, problem := c.ask(ctx, asked, qtype, queries)
		if msg == nil {
			l.problem = problem
			return l
		}
		l.rcode, l.authenticated, l.soa = msg.Rcode, msg.AuthenticatedData, nil
		for _, rr := range msg.Ns {
			if soa, ok := rr.(*dns.SOA); ok {
				l.soa = soa
			}
		}
		for target := cnameOf(msg.Answer, owner); target != ""; target = cnameOf(msg.Answer, owner) {
			// A loop or an endless chain can never lead to the record:
			// the proof is definitively not reachable, so it counts as absent.
			if seen[target] {
				l.broken = fmt.Sprintf("its CNAME chain loops back to %s", strings.TrimSuffix(target, "."))
				return l
			}
			if len(l.cnames) == maxCNAMEs {
				l.broken = fmt.Sprintf("its CNAME chain is longer than %d aliases", maxCNAMEs)
				return l
			}
			seen[target] = true
			l.cnames = append(l.cnames, strings.TrimSuffix(target, "."))
			owner = target
		}
		l.records = recordsOf(msg.Answer, owner, qtype)
		if len(l.records) > 0 || msg.Rcode != dns.RcodeSuccess || owner == asked {
			return l
		}
		// The answer ended at an alias without its records: ask for the
		// alias target. Each pass adds a CNAME, so this ends.
	}
}

func cnameOf(answer []dns.RR, owner string) string {
	for _, rr := range answer {
		if cn, ok := rr.(*dns.CNAME); ok && dns.CanonicalName(cn.Hdr.Name) == owner {
			return dns.CanonicalName(cn.Target)
		}
	}
	return ""
}

func recordsOf(answer []dns.RR, owner string, qtype uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range answer {
		if rr.Header().Rrtype == qtype && dns.CanonicalName(rr.Header().Name) == owner {
			out = append(out, rr)
		}
	}
	return out
}

// ask puts one question to the servers in order until one gives a definitive
// answer (NOERROR or NXDOMAIN). When none does, it returns nil and every
// server's reason, because the person reading needs to see them all.
func (c *Checker) ask(ctx context.Context, name string, qtype uint16, queries *[]DNSQuery) (*dns.Msg, string) {
	var reasons []string
	for _, server := range c.servers {
		msg, reason := c.exchange(ctx, server, name, qtype, true, queries)
		if msg != nil {
			return msg, ""
		}
		reasons = append(reasons, server+" "+reason)
		if ctx.Err() != nil {
			break // the caller gave up: asking the next server is pointless
		}
	}
	return nil, strings.Join(reasons, "; ")
}

// exchange asks one server over UDP, and again over TCP when the UDP answer
// was truncated: a resolver when recurse is set, a zone's own nameserver
// otherwise. A nil message comes with the reason it is inconclusive.
func (c *Checker) exchange(ctx context.Context, server, name string, qtype uint16, recurse bool, queries *[]DNSQuery) (*dns.Msg, string) {
	msg, reason := c.send(ctx, "udp", server, name, qtype, recurse, queries)
	if msg != nil && msg.Truncated {
		msg, reason = c.send(ctx, "tcp", server, name, qtype, recurse, queries)
	}
	if msg == nil {
		return nil, reason
	}
	if msg.Rcode != dns.RcodeSuccess && msg.Rcode != dns.RcodeNameError {
		reason = "answered " + rcodeName(msg.Rcode)
		if why := explanation(msg); why != "" {
			reason += " (" + why + ")"
		}
		return nil, reason
	}
	return msg, ""
}

// send sends one query and records it. A question to a resolver sets AD
// too, which asks it to say whether it validated the answer (RFC 6840 §5.7).
func (c *Checker) send(ctx context.Context, transport, server, name string, qtype uint16, recurse bool, queries *[]DNSQuery) (*dns.Msg, string) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired, m.AuthenticatedData = recurse, recurse
	m.SetEdns0(ednsUDPSize, false)
	q := DNSQuery{Server: server, Name: strings.TrimSuffix(name, "."), Type: dns.TypeToString[qtype], Transport: transport, Direct: !recurse}
	start := time.Now()
	resp, err := c.roundTrip(ctx, transport, server, m)
	q.Duration = time.Since(start)
	if err != nil {
		q.Error = c.describeDNSError(ctx, err)
	} else {
		q.Rcode = rcodeName(resp.Rcode)
		q.Truncated = resp.Truncated
		q.Authenticated = resp.AuthenticatedData
		q.Explanation = explanation(resp)
	}
	*queries = append(*queries, q)
	if err != nil {
		return nil, "failed: " + q.Error
	}
	return resp, ""
}

// explanation is the Extended DNS Error of an answer (RFC 8914), e.g.
// "DNSSEC Bogus: signature expired", or "".
func explanation(m *dns.Msg) string {
	opt := m.IsEdns0()
	if opt == nil {
		return ""
	}
	var out []string
	for _, o := range opt.Option {
		ede, ok := o.(*dns.EDNS0_EDE)
		if !ok {
			continue
		}
		s, ok := dns.ExtendedErrorCodeToString[ede.InfoCode]
		if !ok {
			s = fmt.Sprintf("Extended DNS Error %d", ede.InfoCode)
		}
		if extra := strings.TrimSpace(cut(strings.ToValidUTF8(ede.ExtraText, "\uFFFD"), summaryRunes)); extra != "" {
			s += ": " + extra
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

// roundTrip dials its own connection so that cancelling ctx closes it at
// once: miekg/dns honours a context's deadline but not its cancellation. The
// query's own timeout is left to the connection's deadline, so that it reads
// as a timeout and not as a closed connection.
func (c *Checker) roundTrip(ctx context.Context, transport, server string, m *dns.Msg) (*dns.Msg, error) {
	qctx, cancel := context.WithTimeout(ctx, c.dnsTimeout)
	defer cancel()
	client := dns.Client{Net: transport, UDPSize: ednsUDPSize, Timeout: c.dnsTimeout}
	conn, err := client.DialContext(qctx, server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	resp, _, err := client.ExchangeWithConnContext(qctx, m, conn)
	return resp, err
}

func (c *Checker) describeDNSError(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return "the check was stopped (" + ctx.Err().Error() + ")"
	}
	var netErr net.Error
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &netErr) && netErr.Timeout()) {
		return "timeout after " + c.dnsTimeout.String()
	}
	return err.Error()
}

func rcodeName(rcode int) string {
	if s, ok := dns.RcodeToString[rcode]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(rcode)
}
