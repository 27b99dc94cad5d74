package verify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
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

// CheckDNS looks for a TXT record equal to t.Token at TXTName(t.Domain).
func (c *Checker) CheckDNS(ctx context.Context, t Target) Result {
	start := time.Now()
	name := TXTName(t.Domain)
	report := &DNSReport{Name: name, Type: "TXT"}
	if t.Domain == "" || trimTXT(t.Token) == "" {
		return Result{Method: DNS, Outcome: Inconclusive, DNS: report,
			Summary: "The DNS check was not run: the domain or the token is empty."}
	}
	l := c.resolve(ctx, name, dns.TypeTXT, &report.Queries)
	report.CNAMEs = l.cnames
	outcome, summary := judgeTXT(l, name, t.Token, report)
	return Result{Method: DNS, Outcome: outcome, Summary: summary, Duration: time.Since(start), DNS: report}
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
		if strings.EqualFold(trimTXT(v), trimTXT(token)) {
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

// trimTXT drops the whitespace and double quotes that DNS control panels
// often keep around a pasted value.
func trimTXT(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '"' })
}

// lookup is what resolving one name and type ended with, after following
// CNAMEs. Exactly one of problem, broken or rcode tells how it ended.
type lookup struct {
	rcode   int      // rcode of the last definitive answer
	records []dns.RR // records of the asked type at the end of the chain
	cnames  []string // aliases followed, in order, without trailing dots
	problem string   // set when no server gave a definitive answer
	broken  string   // set when the CNAME chain loops or is too long
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
		l.rcode = msg.Rcode
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
		msg, reason := c.exchange(ctx, server, name, qtype, queries)
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
// was truncated. A nil message comes with the reason it is inconclusive.
func (c *Checker) exchange(ctx context.Context, server, name string, qtype uint16, queries *[]DNSQuery) (*dns.Msg, string) {
	msg, reason := c.send(ctx, "udp", server, name, qtype, queries)
	if msg != nil && msg.Truncated {
		msg, reason = c.send(ctx, "tcp", server, name, qtype, queries)
	}
	if msg == nil {
		return nil, reason
	}
	if msg.Rcode != dns.RcodeSuccess && msg.Rcode != dns.RcodeNameError {
		return nil, "answered " + rcodeName(msg.Rcode)
	}
	return msg, ""
}

// send sends one query and records it.
func (c *Checker) send(ctx context.Context, transport, server, name string, qtype uint16, queries *[]DNSQuery) (*dns.Msg, string) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype) // sets RD: we ask recursive resolvers
	m.SetEdns0(ednsUDPSize, false)
	q := DNSQuery{Server: server, Name: strings.TrimSuffix(name, "."), Type: dns.TypeToString[qtype], Transport: transport}
	start := time.Now()
	resp, err := c.roundTrip(ctx, transport, server, m)
	q.Duration = time.Since(start)
	if err != nil {
		q.Error = c.describeDNSError(ctx, err)
	} else {
		q.Rcode = rcodeName(resp.Rcode)
		q.Truncated = resp.Truncated
	}
	*queries = append(*queries, q)
	if err != nil {
		return nil, "failed: " + q.Error
	}
	return resp, ""
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
