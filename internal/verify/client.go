package verify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/idna"
)

// maxURLBytes bounds an address people give us.
const maxURLBytes = 2000

// CheckURL checks an HTTPS address that someone gives the product to send
// requests to (a webhook endpoint) and returns it in its normal form: an
// https:// address without user name, password or fragment, whose host
// is a name or address that the policy of the HTTPS-file check lets us
// connect to now. A refusal is one sentence for a person.
func (c *Checker) CheckURL(ctx context.Context, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "", errors.New("Enter the address that receives the events.")
	case len(raw) > maxURLBytes:
		return "", fmt.Errorf("This address is %d characters long; at most %d are allowed.", len(raw), maxURLBytes)
	case err != nil || u.Host == "" && u.Scheme == "":
		return "", errors.New("Enter a full address that starts with https://, such as https://hooks.example.com/admin-center.")
	case u.Scheme != "https":
		return "", errors.New("The address must start with https://: events are only sent over HTTPS.")
	case u.User != nil:
		return "", errors.New("Leave the user name and password out of the address: each request is signed with the endpoint's secret instead.")
	case u.Hostname() == "":
		return "", errors.New("The address has no host name after https://.")
	}
	host := strings.TrimSuffix(u.Hostname(), ".")
	if _, err := netip.ParseAddr(host); err != nil {
		if host, err = idna.Lookup.ToASCII(host); err != nil || host == "" {
			return "", fmt.Errorf("%q is not a valid host name.", u.Hostname())
		}
	}
	if _, err := c.addressesOf(ctx, host); err != nil {
		return "", err
	}
	if port := u.Port(); port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	u.Host, u.Fragment, u.RawFragment = host, "", ""
	return u.String(), nil
}

// Client returns an HTTP client for addresses people give the product,
// with the address policy of the HTTPS-file check: names are resolved
// through the configured DNS servers, loopback, private, link-local and
// reserved addresses are refused (unless AllowPrivate), the address that
// was checked is the one dialed, and certificates are verified against
// the same roots. It speaks HTTPS only, uses no proxy and follows no
// redirect: a redirect is the answer. timeout bounds each request.
func (c *Checker) Client(timeout time.Duration) *http.Client {
	transport := &http.Transport{
		DialContext:            c.dialChecked,
		TLSClientConfig:        &tls.Config{RootCAs: c.rootCAs, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    timeout,
		MaxResponseHeaderBytes: maxBodyBytes,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        90 * time.Second,
	}
	return &http.Client{
		Transport:     httpsOnly{transport},
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// httpsOnly refuses every request that is not HTTPS.
type httpsOnly struct{ next http.RoundTripper }

func (h httpsOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != "https" {
		return nil, fmt.Errorf("refused to send a request to %s: only HTTPS is allowed", r.URL.Redacted())
	}
	return h.next.RoundTrip(r)
}

// dialChecked resolves the host of address and dials its addresses that
// the policy allows, in turn, each with a share of the time left.
func (c *Checker) dialChecked(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	addrs, err := c.addressesOf(ctx, host)
	if err != nil {
		return nil, err
	}
	var failures []string
	for i, a := range addrs {
		dialCtx, cancel := context.WithCancel(ctx)
		if deadline, ok := ctx.Deadline(); ok {
			dialCtx, cancel = context.WithTimeout(ctx, time.Until(deadline)/time.Duration(len(addrs)-i))
		}
		conn, err := c.dial(dialCtx, "tcp", net.JoinHostPort(a.String(), port))
		cancel()
		if err == nil {
			return conn, nil
		}
		failures = append(failures, err.Error())
	}
	return nil, errors.New(strings.Join(failures, "; "))
}

// addressesOf returns the addresses of host (a name or an IP address) that
// the policy lets us connect to, IPv4 first, or why there are none.
func (c *Checker) addressesOf(ctx context.Context, host string) ([]netip.Addr, error) {
	var found hostAddresses
	if a, err := netip.ParseAddr(host); err == nil {
		if why := refusal(a.Unmap()); why != "" && !c.allowPrivate {
			found.refused = []string{fmt.Sprintf("%s is %s", a.Unmap(), why)}
		} else {
			found.allowed = []netip.Addr{a.Unmap()}
		}
	} else {
		var queries []DNSQuery
		if found = c.lookupHost(ctx, host, &queries); len(found.all) == 0 {
			return nil, noAddress(host, found.v4, found.v6)
		}
	}
	if len(found.allowed) == 0 {
		return nil, fmt.Errorf("Refused to connect to %s: %s.", host, strings.Join(found.refused, "; "))
	}
	return found.allowed, nil
}

// noAddress says why host has no address.
func noAddress(host string, v4, v6 lookup) error {
	switch {
	case v4.problem != "":
		return fmt.Errorf("Could not resolve %s: %s.", host, v4.problem)
	case v6.problem != "":
		return fmt.Errorf("Could not resolve %s: %s.", host, v6.problem)
	case v4.broken != "":
		return fmt.Errorf("The host %s cannot be resolved: %s.", host, v4.broken)
	case v4.rcode == dns.RcodeNameError:
		return fmt.Errorf("The host %s does not exist (NXDOMAIN).", host)
	}
	return fmt.Errorf("The host %s has no A or AAAA record.", host)
}
