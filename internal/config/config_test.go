package config_test

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"admincenter/internal/config"
	"admincenter/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// env is a getenv that reads vars instead of the process environment.
func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

// Secrets used in bad values; no error message may quote them.
const (
	sessionSecret = "short-session-hunter2"
	smtpPassword  = "smtp-pa55word"
	dbPassword    = "db-pa55word"
)

func TestDefaults(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Addr", c.Addr, ":8080"},
		{"DatabaseURL", c.DatabaseURL, "sqlite://./data/admincenter.db"},
		{"BaseURL", c.BaseURL.String(), "http://localhost:8080"},
		{"SessionSecret", c.SessionSecret, ""},
		{"DNSServers", c.DNSServers, []string(nil)},
		{"VerifyHTTPSPort", c.VerifyHTTPSPort, 443},
		{"VerifyHTTPPort", c.VerifyHTTPPort, 80},
		{"AuthoritativePort", c.AuthoritativePort, 53},
		{"VerifyAllowPrivate", c.VerifyAllowPrivate, false},
		{"SSLCertFile", c.SSLCertFile, ""},
		{"RecheckInterval", c.RecheckInterval, 24 * time.Hour},
		{"GracePeriod", c.GracePeriod, 30 * 24 * time.Hour},
		{"PropagationWindow", c.PropagationWindow, 72 * time.Hour},
		{"InconclusiveLimit", c.InconclusiveLimit, 72 * time.Hour},
		{"Tick", c.Tick, time.Minute},
		{"ClaimLease", c.ClaimLease, 10 * time.Minute},
		{"SMTPURL", c.SMTPURL == nil, true},
		{"MailMaxAge", c.MailMaxAge, 72 * time.Hour},
		{"Dev", c.Dev, false},
		{"TrustedProxies", c.TrustedProxies, []netip.Prefix(nil)},
		{"EmailProvidersFile", c.EmailProvidersFile, ""},
		{"CheckConcurrency", c.CheckConcurrency, 16},
		{"SecureCookies", c.SecureCookies(), false},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
}

func TestGoodValues(t *testing.T) {
	certFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(certFile, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	longSecret := strings.Repeat("s", 32)
	cases := []struct {
		name, varName, value string
		field                func(*config.Config) any
		want                 any
	}{
		{"addr with host", "ADMINCENTER_ADDR", "127.0.0.1:9090", addr, "127.0.0.1:9090"},
		{"addr port only", "ADMINCENTER_ADDR", ":80", addr, ":80"},
		{"addr ipv6", "ADMINCENTER_ADDR", "[::1]:8443", addr, "[::1]:8443"},
		{"addr trimmed", "ADMINCENTER_ADDR", "  :9090\n", addr, ":9090"},
		{"blank means default", "ADMINCENTER_ADDR", "   ", addr, ":8080"},
		{"postgres", "DATABASE_URL", "postgres://app:pw@db.example.com:5432/admincenter?sslmode=disable", dbURL, "postgres://app:pw@db.example.com:5432/admincenter?sslmode=disable"},
		{"postgresql with socket host", "DATABASE_URL", "postgresql:///admincenter?host=/var/run/postgresql", dbURL, "postgresql:///admincenter?host=/var/run/postgresql"},
		{"sqlite relative", "DATABASE_URL", "sqlite://./other.db", dbURL, "sqlite://./other.db"},
		{"sqlite absolute", "DATABASE_URL", "sqlite:///var/lib/admincenter/admincenter.db", dbURL, "sqlite:///var/lib/admincenter/admincenter.db"},
		{"https base", "ADMINCENTER_BASE_URL", "https://admin.example.com", baseURL, "https://admin.example.com"},
		{"base trailing slash dropped", "ADMINCENTER_BASE_URL", "https://example.com/admin/", baseURL, "https://example.com/admin"},
		{"base with port", "ADMINCENTER_BASE_URL", "http://127.0.0.1:8080/", baseURL, "http://127.0.0.1:8080"},
		{"secure cookies on https", "ADMINCENTER_BASE_URL", "https://admin.example.com", func(c *config.Config) any { return c.SecureCookies() }, true},
		{"secret of 32 characters", "ADMINCENTER_SESSION_SECRET", longSecret, func(c *config.Config) any { return c.SessionSecret }, longSecret},
		{"one DNS server", "ADMINCENTER_DNS_SERVERS", "127.0.0.1:53", dnsServers, []string{"127.0.0.1:53"}},
		{"DNS servers with spaces", "ADMINCENTER_DNS_SERVERS", "127.0.0.1:53, [::1]:5353 ,dns.example.com:53", dnsServers, []string{"127.0.0.1:53", "[::1]:5353", "dns.example.com:53"}},
		{"verify port", "ADMINCENTER_VERIFY_HTTPS_PORT", "8443", func(c *config.Config) any { return c.VerifyHTTPSPort }, 8443},
		{"verify port max", "ADMINCENTER_VERIFY_HTTPS_PORT", "65535", func(c *config.Config) any { return c.VerifyHTTPSPort }, 65535},
		{"plain HTTP port", "ADMINCENTER_VERIFY_HTTP_PORT", "8080", func(c *config.Config) any { return c.VerifyHTTPPort }, 8080},
		{"nameserver port", "ADMINCENTER_DNS_AUTHORITATIVE_PORT", "5353", func(c *config.Config) any { return c.AuthoritativePort }, 5353},
		{"allow private true", "ADMINCENTER_VERIFY_ALLOW_PRIVATE", "true", allowPrivate, true},
		{"allow private 1", "ADMINCENTER_VERIFY_ALLOW_PRIVATE", "1", allowPrivate, true},
		{"allow private FALSE", "ADMINCENTER_VERIFY_ALLOW_PRIVATE", "FALSE", allowPrivate, false},
		{"cert file", "SSL_CERT_FILE", certFile, func(c *config.Config) any { return c.SSLCertFile }, certFile},
		{"recheck interval", "ADMINCENTER_RECHECK_INTERVAL", "6h", func(c *config.Config) any { return c.RecheckInterval }, 6 * time.Hour},
		{"grace period", "ADMINCENTER_GRACE_PERIOD", "168h", func(c *config.Config) any { return c.GracePeriod }, 7 * 24 * time.Hour},
		{"propagation window", "ADMINCENTER_PROPAGATION_WINDOW", "1h30m", func(c *config.Config) any { return c.PropagationWindow }, 90 * time.Minute},
		{"tick", "ADMINCENTER_TICK", "90s", func(c *config.Config) any { return c.Tick }, 90 * time.Second},
		{"smtp", "SMTP_URL", "smtp://mail.example.com", smtpURL, "smtp://mail.example.com"},
		{"smtps with user and from", "SMTP_URL", "smtps://mailer:" + smtpPassword + "@mail.example.com:465?from=no-reply@example.com", smtpURL, "smtps://mailer:" + smtpPassword + "@mail.example.com:465?from=no-reply@example.com"},
		{"smtp password", "SMTP_URL", "smtp://mailer:" + smtpPassword + "@127.0.0.1:2525", func(c *config.Config) any { p, _ := c.SMTPURL.User.Password(); return p }, smtpPassword},
		{"mail max age", "ADMINCENTER_MAIL_MAX_AGE", "168h", func(c *config.Config) any { return c.MailMaxAge }, 7 * 24 * time.Hour},
		{"mail max age in seconds", "ADMINCENTER_MAIL_MAX_AGE", "90s", func(c *config.Config) any { return c.MailMaxAge }, 90 * time.Second},
		{"dev", "ADMINCENTER_DEV", "true", func(c *config.Config) any { return c.Dev }, true},
		{"trusted proxies", "ADMINCENTER_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1,::1", func(c *config.Config) any { return c.TrustedProxies },
			[]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}},
		{"check concurrency", "ADMINCENTER_CHECK_CONCURRENCY", "64", func(c *config.Config) any { return c.CheckConcurrency }, 64},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := config.Load(env(map[string]string{c.varName: c.value}))
			if err != nil {
				t.Fatalf("%s=%q: %v", c.varName, c.value, err)
			}
			if got := c.field(cfg); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("%s=%q: got %#v, want %#v", c.varName, c.value, got, c.want)
			}
		})
	}
}

func addr(c *config.Config) any         { return c.Addr }
func dbURL(c *config.Config) any        { return c.DatabaseURL }
func baseURL(c *config.Config) any      { return c.BaseURL.String() }
func dnsServers(c *config.Config) any   { return c.DNSServers }
func allowPrivate(c *config.Config) any { return c.VerifyAllowPrivate }
func smtpURL(c *config.Config) any      { return c.SMTPURL.String() }

// badValues has at least one wrong value for every variable.
var badValues = []struct {
	varName, value string
	problem        string // part of the message that explains what is expected
}{
	{"ADMINCENTER_ADDR", "8080", "host:port"},
	{"ADMINCENTER_ADDR", "localhost", "host:port"},
	{"ADMINCENTER_ADDR", ":0", "host:port"},
	{"ADMINCENTER_ADDR", ":65536", "host:port"},
	{"ADMINCENTER_ADDR", ":http", "host:port"},
	{"DATABASE_URL", "./data/admincenter.db", "postgres://"},
	{"DATABASE_URL", "mysql://db.example.com/admincenter", "postgres://"},
	{"DATABASE_URL", "sqlite://", "needs a path"},
	{"DATABASE_URL", "postgres:///admincenter", "needs a host"},
	{"DATABASE_URL", "postgres://%zz/admincenter", "not a URL"},
	{"ADMINCENTER_BASE_URL", "admin.example.com", "absolute http"},
	{"ADMINCENTER_BASE_URL", "ftp://admin.example.com", "absolute http"},
	{"ADMINCENTER_BASE_URL", "https://", "absolute http"},
	{"ADMINCENTER_BASE_URL", "https://admin.example.com/?tab=1", "without query"},
	{"ADMINCENTER_BASE_URL", "https://admin.example.com/#top", "without query"},
	{"ADMINCENTER_BASE_URL", "http://[::1", "absolute http"},
	{"ADMINCENTER_SESSION_SECRET", sessionSecret, "at least 32"},
	{"ADMINCENTER_SESSION_SECRET", strings.Repeat("x", 31), "at least 32"},
	{"ADMINCENTER_DNS_SERVERS", "127.0.0.1", "host:port"},
	{"ADMINCENTER_DNS_SERVERS", ":53", "host:port"},
	{"ADMINCENTER_DNS_SERVERS", "127.0.0.1:53,", "host:port"},
	{"ADMINCENTER_DNS_SERVERS", "127.0.0.1:53,1.1.1.1:0", `"1.1.1.1:0"`},
	{"ADMINCENTER_DNS_SERVERS", "1.1.1.1:dns", "host:port"},
	{"ADMINCENTER_VERIFY_HTTPS_PORT", "0", "1 to 65535"},
	{"ADMINCENTER_VERIFY_HTTPS_PORT", "65536", "1 to 65535"},
	{"ADMINCENTER_VERIFY_HTTPS_PORT", "-443", "1 to 65535"},
	{"ADMINCENTER_VERIFY_HTTPS_PORT", "https", "1 to 65535"},
	{"ADMINCENTER_VERIFY_HTTP_PORT", "0", "1 to 65535"},
	{"ADMINCENTER_DNS_AUTHORITATIVE_PORT", "65536", "1 to 65535"},
	{"ADMINCENTER_VERIFY_ALLOW_PRIVATE", "yes", "true or false"},
	{"ADMINCENTER_VERIFY_ALLOW_PRIVATE", "on", "true or false"},
	{"SSL_CERT_FILE", "/nonexistent/ca.pem", "no readable file"},
	{"SSL_CERT_FILE", os.TempDir(), "no readable file"},
	{"ADMINCENTER_RECHECK_INTERVAL", "1d", "positive Go duration"},
	{"ADMINCENTER_RECHECK_INTERVAL", "24", "positive Go duration"},
	{"ADMINCENTER_GRACE_PERIOD", "0s", "positive Go duration"},
	{"ADMINCENTER_GRACE_PERIOD", "-720h", "positive Go duration"},
	{"ADMINCENTER_PROPAGATION_WINDOW", "three days", "positive Go duration"},
	{"ADMINCENTER_TICK", "0", "positive Go duration"},
	{"SMTP_URL", "mail.example.com:25", "smtp://"},
	{"SMTP_URL", "smtpx://mailer:" + smtpPassword + "@mail.example.com", "smtp://"},
	{"SMTP_URL", "smtp://mailer:" + smtpPassword + "@:25", "smtp://"},
	{"SMTP_URL", "smtp://mailer:" + smtpPassword + "@mail.example.com:0", "smtp://"},
	{"SMTP_URL", "smtp://mailer:" + smtpPassword + "@mail.example.com:99999", "smtp://"},
	{"SMTP_URL", "smtp://mailer:" + smtpPassword + "@mail.example.com:smtp", "smtp://"},
	{"SMTP_URL", "smtp://mailer:" + smtpPassword + "%zz@mail.example.com", "smtp://"},
	{"ADMINCENTER_MAIL_MAX_AGE", "3d", "positive Go duration"},
	{"ADMINCENTER_MAIL_MAX_AGE", "0", "positive Go duration"},
	{"ADMINCENTER_MAIL_MAX_AGE", "-72h", "positive Go duration"},
	{"ADMINCENTER_DEV", "maybe", "true or false"},
	{"ADMINCENTER_TRUSTED_PROXIES", "10.0.0.0/33", "addresses or CIDR ranges"},
	{"ADMINCENTER_TRUSTED_PROXIES", "proxy.internal", "addresses or CIDR ranges"},
	{"ADMINCENTER_EMAIL_PROVIDERS_FILE", "/nonexistent/providers.txt", "no readable file"},
	{"ADMINCENTER_CHECK_CONCURRENCY", "0", "whole number from 1 to 1024"},
	{"ADMINCENTER_CHECK_CONCURRENCY", "lots", "whole number from 1 to 1024"},
}

func TestBadValues(t *testing.T) {
	for _, c := range badValues {
		t.Run(c.varName+"="+c.value, func(t *testing.T) {
			cfg, err := config.Load(env(map[string]string{c.varName: c.value}))
			if err == nil {
				t.Fatalf("no error, config %+v", cfg)
			}
			if cfg != nil {
				t.Errorf("config %+v returned with error", cfg)
			}
			e, ok := errors.AsType[*config.Error](err)
			if !ok {
				t.Fatalf("err = %T %v, want *config.Error", err, err)
			}
			if e.Var != c.varName {
				t.Errorf("Var = %q, want %q", e.Var, c.varName)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.varName) || !strings.Contains(msg, c.problem) {
				t.Errorf("message %q does not name %s and say %q", msg, c.varName, c.problem)
			}
			for _, secret := range []string{sessionSecret, smtpPassword, dbPassword} {
				if strings.Contains(msg, secret) || strings.Contains(e.Value, secret) {
					t.Errorf("message %q shows the secret %q", msg, secret)
				}
			}
		})
	}
}

// Errors must not leak secrets, nor the whole value of a secret variable.
func TestErrorsHideSecrets(t *testing.T) {
	cases := []struct {
		varName, value, secret string
	}{
		{"ADMINCENTER_SESSION_SECRET", sessionSecret, sessionSecret},
		{"ADMINCENTER_SESSION_SECRET", "  " + sessionSecret + "  ", sessionSecret},
		{"SMTP_URL", "smtpx://mailer:" + smtpPassword + "@mail.example.com", smtpPassword},
		{"SMTP_URL", "smtp://mailer:" + smtpPassword + "@mail.example.com:99999", smtpPassword},
		{"SMTP_URL", "smtp://mailer:" + smtpPassword + "@mail.example.com:port", smtpPassword},
		{"DATABASE_URL", "mysql://app:" + dbPassword + "@db.example.com/admincenter", dbPassword},
		{"DATABASE_URL", "postgres://app:" + dbPassword + "@/admincenter", dbPassword},
		{"DATABASE_URL", "postgres://app:" + dbPassword + "@db.example.com:port/admincenter", dbPassword},
		{"DATABASE_URL", "postgres:///admincenter?user=app&password=" + dbPassword, dbPassword},
	}
	for _, c := range cases {
		t.Run(c.varName, func(t *testing.T) {
			_, err := config.Load(env(map[string]string{c.varName: c.value}))
			e, ok := errors.AsType[*config.Error](err)
			if !ok || e.Var != c.varName {
				t.Fatalf("err = %v, want a *config.Error about %s", err, c.varName)
			}
			if strings.Contains(err.Error(), c.secret) {
				t.Fatalf("message %q shows the secret %q", err, c.secret)
			}
		})
	}

	// A masked database URL still shows what is wrong with it.
	_, err := config.Load(env(map[string]string{"DATABASE_URL": "postgres://app:" + dbPassword + "@/admincenter"}))
	if e, ok := errors.AsType[*config.Error](err); !ok || e.Value != "postgres://app:xxxxx@/admincenter" {
		t.Fatalf("err = %v, want the URL with its password masked", err)
	}

	// A valid secret is not quoted in an error about another variable.
	_, err = config.Load(env(map[string]string{
		"ADMINCENTER_SESSION_SECRET": strings.Repeat("k", 40),
		"SMTP_URL":                   "smtp://mailer:" + smtpPassword + "@mail.example.com",
		"ADMINCENTER_DEV":            "maybe",
	}))
	if err == nil || strings.Contains(err.Error(), strings.Repeat("k", 40)) || strings.Contains(err.Error(), smtpPassword) {
		t.Fatalf("err = %v", err)
	}
}

// loadOrder is one bad value per variable, in the order Load reads them.
var loadOrder = []struct{ varName, value string }{
	{"ADMINCENTER_ADDR", "8080"},
	{"DATABASE_URL", "mysql://db/admincenter"},
	{"ADMINCENTER_BASE_URL", "ftp://admin.example.com"},
	{"ADMINCENTER_SESSION_SECRET", sessionSecret},
	{"ADMINCENTER_DNS_SERVERS", "127.0.0.1"},
	{"ADMINCENTER_VERIFY_HTTPS_PORT", "0"},
	{"ADMINCENTER_VERIFY_ALLOW_PRIVATE", "yes"},
	{"SSL_CERT_FILE", "/nonexistent/ca.pem"},
	{"ADMINCENTER_RECHECK_INTERVAL", "1d"},
	{"ADMINCENTER_GRACE_PERIOD", "0s"},
	{"ADMINCENTER_PROPAGATION_WINDOW", "-1h"},
	{"ADMINCENTER_INCONCLUSIVE_LIMIT", "forever"},
	{"ADMINCENTER_TICK", "soon"},
	{"ADMINCENTER_CLAIM_LEASE", "-1s"},
	{"SMTP_URL", "http://mail.example.com"},
	{"ADMINCENTER_MAIL_MAX_AGE", "forever"},
	{"ADMINCENTER_DEV", "maybe"},
	{"ADMINCENTER_TRUSTED_PROXIES", "everyone"},
	{"ADMINCENTER_EMAIL_PROVIDERS_FILE", "/nonexistent/providers.txt"},
	{"ADMINCENTER_CHECK_CONCURRENCY", "-3"},
}

// With several bad variables, Load reports the first one it reads; fixing
// it reveals the next.
func TestFirstBadVariableReported(t *testing.T) {
	for i, first := range loadOrder {
		t.Run(first.varName, func(t *testing.T) {
			vars := map[string]string{}
			for _, v := range loadOrder[i:] {
				vars[v.varName] = v.value
			}
			_, err := config.Load(env(vars))
			e, ok := errors.AsType[*config.Error](err)
			if !ok {
				t.Fatalf("err = %v, want *config.Error", err)
			}
			if e.Var != first.varName {
				t.Fatalf("Var = %s, want %s (%d bad variables)", e.Var, first.varName, len(vars))
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := config.Load(env(map[string]string{"ADMINCENTER_TICK": " 5 minutes "}))
	want := `config: ADMINCENTER_TICK="5 minutes": want a positive Go duration, for example 90s, 15m or 24h`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
}
