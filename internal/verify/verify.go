// Package verify proves that someone controls an Internet domain, either by a
// TXT record at _twilio.<domain> or by a file served at
// https://<domain>/<file>. It knows nothing of pages, handlers or storage: it
// asks the network and returns a Result that says found, absent or
// inconclusive, with one specific sentence and the evidence behind it.
//
// The three outcomes are never merged, because the product treats them
// differently: only a definitive absence may cost a domain its verified state,
// while an inconclusive check is retried.
package verify

import (
	"cmp"
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/miekg/dns"
)

// Method is how ownership is proven.
type Method string

// The two proofs a domain owner can publish.
const (
	DNS   Method = "dns"
	HTTPS Method = "https"
)

// Label is the method as the product names it.
func (m Method) Label() string {
	if m == HTTPS {
		return "HTML file"
	}
	return "DNS record"
}

// Outcome is what a check concluded.
type Outcome string

// The three outcomes of a check.
const (
	Found        Outcome = "found"        // the proof is there
	Absent       Outcome = "absent"       // definitively not there (NXDOMAIN, NODATA, other values, 404, wrong content, policy refusal...)
	Inconclusive Outcome = "inconclusive" // could not tell (timeout, SERVFAIL, REFUSED, network error, TLS error, 5xx)
)

// Target is what to look for.
type Target struct {
	Domain   string // A-label, lowercase, e.g. "example.com" or "xn--bcher-kva.example"
	Token    string // the full expected TXT value / file content marker
	FileName string // e.g. "twilio-domain-verification-1a2b3c4d5e6f7a8b.html"
}

// Config tells a Checker where to ask and how long to wait.
type Config struct {
	DNSServers []string // "host:port" resolvers (a bare IP means port 53); empty = /etc/resolv.conf
	HTTPSPort  int      // port of the HTTPS-file check; 0 means 443
	HTTPPort   int      // port asked over plain HTTP to tell that mistake; 0 means 80
	// AuthoritativePort is the port of the zone's own nameservers; 0 means 53.
	AuthoritativePort int
	AllowPrivate      bool           // allow loopback/private/link-local/reserved targets (tests only)
	DNSTimeout        time.Duration  // per DNS query; 0 means 3s
	HTTPSTimeout      time.Duration  // whole HTTPS check including redirects; 0 means 10s
	RootCAs           *x509.CertPool // nil = system roots (Go itself honours SSL_CERT_FILE)
}

// Result is the outcome of one check and the evidence for it. It round-trips
// through encoding/json so that it can be stored and shown later.
type Result struct {
	Method   Method
	Outcome  Outcome
	Summary  string // one specific sentence for a person
	Duration time.Duration
	DNS      *DNSReport   `json:",omitempty"`
	HTTPS    *HTTPSReport `json:",omitempty"`
	// Mistakes are the likely causes of a missing proof, found by looking
	// where people put it by mistake. Only a check without its proof
	// looks for them.
	Mistakes []Mistake `json:",omitempty"`
}

// Mistake is one place the proof was found by mistake, or one reason it
// cannot be read, with what to change.
type Mistake struct {
	Kind  string // stable, for tests and scripts: "apex", "zone-twice", ...
	Found string // what was found, one sentence
	Fix   string // what to change, one sentence
}

// DNSReport is the evidence of a DNS check.
type DNSReport struct {
	Name    string     // name queried first, e.g. "_twilio.example.com"
	Type    string     // "TXT"
	Queries []DNSQuery // every query sent, in order
	CNAMEs  []string   // CNAME chain followed, in order
	Values  []string   // TXT values seen, at most maxValues, each cut to maxValueRunes
	More    int        // number of values seen beyond those kept
	// Authenticated is the resolver's AD bit: it validated the answer
	// with DNSSEC.
	Authenticated bool `json:",omitempty"`
	// NegativeUntil is, after a "no such record" answer, until when
	// resolvers that asked before may keep giving it (from the SOA in
	// the answer).
	NegativeUntil *time.Time `json:",omitempty"`
	// Zone, Nameservers and AuthorityProblem tell what the zone's own
	// nameservers answered, asked directly when the resolvers did not
	// find the record.
	Zone             string       `json:",omitempty"`
	Nameservers      []Nameserver `json:",omitempty"`
	AuthorityProblem string       `json:",omitempty"`
}

// DNSQuery is one question sent to one server.
type DNSQuery struct {
	Server    string // host:port
	Name      string
	Type      string // "TXT", "A", "AAAA"
	Transport string // "udp" or "tcp"
	Rcode     string // "NOERROR", "NXDOMAIN", "SERVFAIL", ...; "" when no answer arrived
	Truncated bool
	Error     string // e.g. "timeout after 3s"
	Duration  time.Duration
	// Direct is set on a question sent to a zone's own nameserver,
	// without recursion.
	Direct bool `json:",omitempty"`
	// Authenticated is the answer's AD bit.
	Authenticated bool `json:",omitempty"`
	// Explanation is the Extended DNS Error (RFC 8914) the server gave,
	// e.g. "DNSSEC Bogus: signature expired".
	Explanation string `json:",omitempty"`
}

// Answer says what the server answered, as people read it: "NXDOMAIN",
// "NOERROR (truncated)", "timeout after 3s", "SERVFAIL (DNSSEC Bogus)".
func (q DNSQuery) Answer() string {
	answer := q.Rcode
	if q.Truncated {
		answer += " (truncated)"
	}
	if q.Error != "" {
		answer = strings.TrimSpace(answer + " " + q.Error)
	}
	if q.Explanation != "" {
		answer += " (" + q.Explanation + ")"
	}
	return answer
}

// HTTPSReport is the evidence of an HTTPS-file check.
type HTTPSReport struct {
	URL         string    // the URL fetched first (FileURL)
	Hops        []HTTPHop // one per request, including redirects
	BodyBytes   int
	ContentType string // of the final answer, as the server sent it (cut)
	Excerpt     string // the start of a body without the token, escaped and cut
	Error       string
	Certificate *Certificate `json:",omitempty"` // the site's certificate, when it could not be verified
}

// Certificate describes a certificate the HTTPS check refused.
type Certificate struct {
	Subject   string
	Issuer    string
	NotBefore time.Time
	NotAfter  time.Time
	Names     []string // DNS names and IP addresses it covers
}

// HTTPHop is one request of an HTTPS-file check.
type HTTPHop struct {
	URL       string
	Addresses []string // IPs the name resolved to
	Address   string   // the IP:port actually dialed
	Status    int      // 0 when no response
	Location  string   // redirect target, if any
	Error     string
	Queries   []DNSQuery `json:",omitempty"` // the A and AAAA queries that resolved the host
}

const (
	defaultDNSTimeout   = 3 * time.Second
	defaultHTTPSTimeout = 10 * time.Second
	resolvConf          = "/etc/resolv.conf"
)

// Checker runs checks. It holds no per-check state and is safe for
// concurrent use.
type Checker struct {
	servers      []string
	dnsTimeout   time.Duration
	httpsTimeout time.Duration
	port         int
	httpPort     int
	authPort     string
	allowPrivate bool
	rootCAs      *x509.CertPool
	// dial opens the TCP connection of the HTTPS check. Tests replace it to
	// make sure nothing outside loopback is ever dialed, even by a bug.
	dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// New returns a Checker for cfg. It fails when no DNS server is configured
// and none can be read from /etc/resolv.conf, or when a setting is invalid.
func New(cfg Config) (*Checker, error) {
	servers, err := dnsServers(cfg.DNSServers)
	if err != nil {
		return nil, err
	}
	port := cfg.HTTPSPort
	if port == 0 {
		port = 443
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("verify: HTTPS port %d is not between 1 and 65535", cfg.HTTPSPort)
	}
	httpPort, authPort := cmp.Or(cfg.HTTPPort, 80), cmp.Or(cfg.AuthoritativePort, 53)
	if httpPort < 1 || httpPort > 65535 || authPort < 1 || authPort > 65535 {
		return nil, fmt.Errorf("verify: HTTP port %d or nameserver port %d is not between 1 and 65535", cfg.HTTPPort, cfg.AuthoritativePort)
	}
	c := &Checker{
		servers:      servers,
		dnsTimeout:   orDefault(cfg.DNSTimeout, defaultDNSTimeout),
		httpsTimeout: orDefault(cfg.HTTPSTimeout, defaultHTTPSTimeout),
		port:         port,
		httpPort:     httpPort,
		authPort:     strconv.Itoa(authPort),
		allowPrivate: cfg.AllowPrivate,
		rootCAs:      cfg.RootCAs,
		dial:         (&net.Dialer{}).DialContext,
	}
	return c, nil
}

// dnsServers checks the configured servers, or reads the system's when none
// are configured. A bare IP address is given port 53, because that is what
// anyone writing one means.
func dnsServers(configured []string) ([]string, error) {
	if len(configured) == 0 {
		cc, err := dns.ClientConfigFromFile(resolvConf)
		if err != nil {
			return nil, fmt.Errorf("verify: no DNS servers configured and none readable from %s: %w", resolvConf, err)
		}
		for _, s := range cc.Servers {
			configured = append(configured, net.JoinHostPort(s, cc.Port))
		}
		if len(configured) == 0 {
			return nil, fmt.Errorf("verify: no DNS servers configured and %s lists none", resolvConf)
		}
	}
	servers := make([]string, 0, len(configured))
	for _, s := range configured {
		s = strings.TrimSpace(s)
		if ip, err := netip.ParseAddr(s); err == nil {
			s = net.JoinHostPort(ip.String(), "53")
		}
		if _, _, err := net.SplitHostPort(s); err != nil {
			return nil, fmt.Errorf("verify: DNS server %q is not host:port: %w", s, err)
		}
		servers = append(servers, s)
	}
	return servers, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// TXTName is the name that holds the verification TXT record of domain.
func TXTName(domain string) string {
	return "_twilio." + strings.TrimSuffix(domain, ".")
}

// FileURL is the address of the verification file of domain. The port is
// written only when it is not HTTPS's own, so that the URL shown to people is
// the one they would type.
func FileURL(domain, fileName string, port int) string {
	host := strings.TrimSuffix(domain, ".")
	if port != 0 && port != 443 {
		host = net.JoinHostPort(host, strconv.Itoa(port))
	}
	u := url.URL{Scheme: "https", Host: host, Path: "/" + fileName}
	return u.String()
}

// cut shortens s to at most n runes, marking the cut with an ellipsis, so
// that a hostile or mistaken value cannot flood a page or a database row.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
