// Package config reads the product's configuration from environment
// variables, as documented in the README. Every variable is validated at
// start so that a typo stops the process with a message naming it.
package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of one process.
type Config struct {
	Addr               string         // ADMINCENTER_ADDR
	DatabaseURL        string         // DATABASE_URL
	BaseURL            *url.URL       // ADMINCENTER_BASE_URL
	SessionSecret      string         // ADMINCENTER_SESSION_SECRET; empty: generated and stored in the database
	DNSServers         []string       // ADMINCENTER_DNS_SERVERS; empty: the system's resolvers
	VerifyHTTPSPort    int            // ADMINCENTER_VERIFY_HTTPS_PORT
	VerifyHTTPPort     int            // ADMINCENTER_VERIFY_HTTP_PORT; only to tell a file served over plain HTTP
	AuthoritativePort  int            // ADMINCENTER_DNS_AUTHORITATIVE_PORT; port of the zone's nameservers
	VerifyAllowPrivate bool           // ADMINCENTER_VERIFY_ALLOW_PRIVATE
	SSLCertFile        string         // SSL_CERT_FILE; read by crypto/x509 itself
	RecheckInterval    time.Duration  // ADMINCENTER_RECHECK_INTERVAL
	GracePeriod        time.Duration  // ADMINCENTER_GRACE_PERIOD
	PropagationWindow  time.Duration  // ADMINCENTER_PROPAGATION_WINDOW
	InconclusiveLimit  time.Duration  // ADMINCENTER_INCONCLUSIVE_LIMIT; checks that cannot tell count as failures after this long
	Tick               time.Duration  // ADMINCENTER_TICK
	ClaimLease         time.Duration  // ADMINCENTER_CLAIM_LEASE; background work a stopped instance claimed is taken over after this
	SMTPURL            *url.URL       // SMTP_URL; nil: mail stays in the outbox
	MailMaxAge         time.Duration  // ADMINCENTER_MAIL_MAX_AGE; an email that cannot be delivered is retried this long
	Dev                bool           // ADMINCENTER_DEV
	TrustedProxies     []netip.Prefix // ADMINCENTER_TRUSTED_PROXIES; X-Forwarded-For is believed only from these
	EmailProvidersFile string         // ADMINCENTER_EMAIL_PROVIDERS_FILE; replaces the built-in list of common email providers
	CheckConcurrency   int            // ADMINCENTER_CHECK_CONCURRENCY; automatic domain checks run at once
}

// SecureCookies reports whether cookies must carry the Secure flag.
func (c *Config) SecureCookies() bool { return c.BaseURL.Scheme == "https" }

// Error names the variable whose value is wrong.
type Error struct {
	Var, Value, Problem string
}

func (e *Error) Error() string {
	return fmt.Sprintf("config: %s=%q: %s", e.Var, e.Value, e.Problem)
}

// Load reads the configuration through getenv, so tests need not touch the
// process environment.
func Load(getenv func(string) string) (*Config, error) {
	r := reader{getenv: getenv}
	c := &Config{
		Addr:               r.addr("ADMINCENTER_ADDR", ":8080"),
		DatabaseURL:        r.databaseURL("DATABASE_URL", "sqlite://./data/admincenter.db"),
		BaseURL:            r.baseURL("ADMINCENTER_BASE_URL", "http://localhost:8080"),
		SessionSecret:      r.secret("ADMINCENTER_SESSION_SECRET"),
		DNSServers:         r.hostPorts("ADMINCENTER_DNS_SERVERS"),
		VerifyHTTPSPort:    r.port("ADMINCENTER_VERIFY_HTTPS_PORT", 443),
		VerifyHTTPPort:     r.port("ADMINCENTER_VERIFY_HTTP_PORT", 80),
		AuthoritativePort:  r.port("ADMINCENTER_DNS_AUTHORITATIVE_PORT", 53),
		VerifyAllowPrivate: r.bool("ADMINCENTER_VERIFY_ALLOW_PRIVATE", false),
		SSLCertFile:        r.file("SSL_CERT_FILE"),
		RecheckInterval:    r.duration("ADMINCENTER_RECHECK_INTERVAL", 24*time.Hour),
		GracePeriod:        r.duration("ADMINCENTER_GRACE_PERIOD", 720*time.Hour),
		PropagationWindow:  r.duration("ADMINCENTER_PROPAGATION_WINDOW", 72*time.Hour),
		InconclusiveLimit:  r.duration("ADMINCENTER_INCONCLUSIVE_LIMIT", 72*time.Hour),
		Tick:               r.duration("ADMINCENTER_TICK", time.Minute),
		ClaimLease:         r.duration("ADMINCENTER_CLAIM_LEASE", 10*time.Minute),
		SMTPURL:            r.smtpURL("SMTP_URL"),
		MailMaxAge:         r.duration("ADMINCENTER_MAIL_MAX_AGE", 72*time.Hour),
		Dev:                r.bool("ADMINCENTER_DEV", false),
		TrustedProxies:     r.prefixes("ADMINCENTER_TRUSTED_PROXIES"),
		EmailProvidersFile: r.file("ADMINCENTER_EMAIL_PROVIDERS_FILE"),
		CheckConcurrency:   r.count("ADMINCENTER_CHECK_CONCURRENCY", 16),
	}
	if r.err != nil {
		return nil, r.err
	}
	return c, nil
}

// reader keeps the first error so that Load reads like a list.
type reader struct {
	getenv func(string) string
	err    error
}

func (r *reader) get(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) fail(name, value, problem string) {
	if r.err == nil {
		r.err = &Error{Var: name, Value: value, Problem: problem}
	}
}

func (r *reader) addr(name, def string) string {
	v := r.get(name, def)
	if _, port, err := net.SplitHostPort(v); err != nil || !validPort(port) {
		r.fail(name, v, "want host:port, for example :8080 or 127.0.0.1:8080")
	}
	return v
}

func (r *reader) databaseURL(name, def string) string {
	v := r.get(name, def)
	u, err := url.Parse(v)
	switch {
	case err != nil:
		r.fail(name, "(hidden)", "not a URL") // its password cannot be found to mask it
	case u.Scheme == "postgres" || u.Scheme == "postgresql":
		if u.Host == "" && u.Query().Get("host") == "" {
			r.fail(name, withoutPassword(u, v), "a postgres URL needs a host")
		}
	case u.Scheme == "sqlite":
		if strings.TrimPrefix(v, "sqlite://") == "" {
			r.fail(name, v, "a sqlite URL needs a path, for example sqlite://./data/admincenter.db")
		}
	default:
		r.fail(name, withoutPassword(u, v), "want postgres://… or sqlite://PATH")
	}
	return v
}

// withoutPassword returns the database URL v, parsed as u, for an error
// message: a password in the user info or the password parameter is masked
// so that it never reaches the logs.
func withoutPassword(u *url.URL, v string) string {
	_, inUser := u.User.Password()
	q := u.Query()
	if !inUser && !q.Has("password") {
		return v
	}
	masked := *u
	if q.Has("password") {
		q.Set("password", "xxxxx")
		masked.RawQuery = q.Encode()
	}
	return masked.Redacted()
}

func (r *reader) baseURL(name, def string) *url.URL {
	v := r.get(name, def)
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		r.fail(name, v, "want an absolute http:// or https:// URL without query, for example https://admin.example.com")
		return &url.URL{Scheme: "http", Host: "localhost"}
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u
}

func (r *reader) secret(name string) string {
	v := r.get(name, "")
	if v != "" && len(v) < 32 {
		r.fail(name, "(hidden)", "must be at least 32 characters")
	}
	return v
}

func (r *reader) hostPorts(name string) []string {
	v := r.get(name, "")
	if v == "" {
		return nil
	}
	var out []string
	for _, hp := range strings.Split(v, ",") {
		hp = strings.TrimSpace(hp)
		host, port, err := net.SplitHostPort(hp)
		if err != nil || host == "" || !validPort(port) {
			r.fail(name, v, fmt.Sprintf("%q: want a comma-separated list of host:port, for example 127.0.0.1:53,[::1]:53", hp))
			return nil
		}
		out = append(out, hp)
	}
	return out
}

func (r *reader) port(name string, def int) int {
	v := r.get(name, strconv.Itoa(def))
	if !validPort(v) {
		r.fail(name, v, "want a port number from 1 to 65535")
		return def
	}
	n, _ := strconv.Atoi(v)
	return n
}

func (r *reader) bool(name string, def bool) bool {
	v := r.get(name, strconv.FormatBool(def))
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, v, "want true or false")
	}
	return b
}

func (r *reader) file(name string) string {
	v := r.get(name, "")
	if v == "" {
		return ""
	}
	if st, err := os.Stat(v); err != nil || st.IsDir() {
		r.fail(name, v, "no readable file at this path")
	}
	return v
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := r.get(name, def.String())
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.fail(name, v, "want a positive Go duration, for example 90s, 15m or 24h")
		return def
	}
	return d
}

func (r *reader) smtpURL(name string) *url.URL {
	v := r.get(name, "")
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" || (u.Port() != "" && !validPort(u.Port())) {
		r.fail(name, "(hidden)", "want smtp://user:password@host:port or smtps://…")
		return nil
	}
	return u
}

func (r *reader) prefixes(name string) []netip.Prefix {
	v := r.get(name, "")
	if v == "" {
		return nil
	}
	var out []netip.Prefix
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				r.fail(name, v, fmt.Sprintf("%q: want a comma-separated list of addresses or CIDR ranges, for example 10.0.0.0/8,127.0.0.1", p))
				return nil
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		out = append(out, prefix.Masked())
	}
	return out
}

func (r *reader) count(name string, def int) int {
	v := r.get(name, strconv.Itoa(def))
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1024 {
		r.fail(name, v, "want a whole number from 1 to 1024")
		return def
	}
	return n
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535
}
