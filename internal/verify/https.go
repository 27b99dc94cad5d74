package verify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"admincenter/internal/text"
	"github.com/miekg/dns"
)

const (
	maxRedirects = 3
	maxBodyBytes = 64 << 10
	userAgent    = "AdminCenter-DomainVerification/1.0"
)

// CheckHTTPS fetches FileURL(t.Domain, t.FileName, port) and looks for
// t.Token in the body.
func (c *Checker) CheckHTTPS(ctx context.Context, t Target) Result {
	start := time.Now()
	bounded, cancel := context.WithTimeout(ctx, c.httpsTimeout)
	defer cancel()
	h := &httpsCheck{Checker: c, parent: ctx, ctx: bounded, target: t,
		report: &HTTPSReport{URL: FileURL(t.Domain, t.FileName, c.port)}}
	outcome, summary := h.run()
	return Result{Method: HTTPS, Outcome: outcome, Summary: summary, Duration: time.Since(start), HTTPS: h.report, Mistakes: h.mistakes}
}

// httpsCheck is the state of one HTTPS-file check.
type httpsCheck struct {
	*Checker
	parent context.Context // the caller's: its end means "stopped", not "timed out"
	ctx    context.Context // parent bounded by HTTPSTimeout
	target Target
	report *HTTPSReport
	// mistakes are the likely causes of a missing proof, in the order found.
	mistakes []Mistake
}

func (h *httpsCheck) run() (Outcome, string) {
	if h.target.Domain == "" || strings.TrimSpace(h.target.Token) == "" || h.target.FileName == "" {
		return Inconclusive, "The HTTPS check was not run: the domain, the token or the file name is empty."
	}
	u, err := url.Parse(h.report.URL)
	if err != nil {
		return Inconclusive, fmt.Sprintf("The HTTPS check was not run: %q is not a valid address.", h.report.URL)
	}
	outcome, summary := h.fetch(u)
	// A check that ran out of time has none left to look elsewhere. The
	// look-ups get a short share of the rest: a port 80 that drops packets,
	// common behind firewalls, must not hold every check of a domain
	// without its file for the whole timeout.
	if outcome != Found && h.ctx.Err() == nil {
		look := *h
		var cancel context.CancelFunc
		look.ctx, cancel = context.WithTimeout(h.ctx, h.dnsTimeout)
		defer cancel()
		h.mistakes = append(h.mistakes, look.misplaced()...)
	}
	return outcome, summary
}

// fetch follows the redirects from u by the policy and judges the answer.
func (h *httpsCheck) fetch(u *url.URL) (Outcome, string) {
	for followed := 0; ; followed++ {
		hop := HTTPHop{URL: u.String()}
		resp, outcome, summary := h.request(u, &hop)
		if resp != nil && isRedirect(resp.StatusCode) {
			hop.Location = resp.Header.Get("Location")
			resp.Body.Close()
		}
		h.report.Hops = append(h.report.Hops, hop)
		switch {
		case resp == nil:
			h.report.Error = hop.Error
			return outcome, summary
		case !isRedirect(resp.StatusCode):
			return h.judge(u, resp)
		}
		if u, summary = h.redirect(u, hop, followed); u == nil {
			h.report.Error = "redirect refused"
			return Absent, summary
		}
	}
}

// request resolves the host of u, connects to an address it may connect to
// and sends the request. A nil response comes with the outcome and summary.
func (h *httpsCheck) request(u *url.URL, hop *HTTPHop) (*http.Response, Outcome, string) {
	host := u.Hostname()
	addrs, outcome, summary := h.addresses(host, hop)
	if len(addrs) == 0 {
		return nil, outcome, summary
	}
	conn, err := h.connect(addrs, portOf(u), hop)
	if err != nil {
		hop.Error = err.Error()
		return nil, Inconclusive, h.failure(host, "Could not connect to "+host, err)
	}
	req, err := http.NewRequestWithContext(h.ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		conn.Close()
		hop.Error = err.Error()
		return nil, Inconclusive, fmt.Sprintf("Could not build a request for %s: %v.", u, err)
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := h.transport(host, conn).RoundTrip(req)
	if err == nil && h.ctx.Err() != nil {
		// An answer that comes as we hang up may be the server's reaction
		// to it (an empty 200): it says nothing about the file.
		resp.Body.Close()
		resp, err = nil, h.ctx.Err()
	}
	if err != nil {
		conn.Close()
		hop.Error = err.Error()
		h.noteCertificate(host, err)
		return nil, Inconclusive, h.failure(host, "Could not fetch "+u.String(), err)
	}
	hop.Status = resp.StatusCode
	return resp, "", ""
}

// addresses resolves host through the configured DNS servers and keeps the
// addresses that may be dialed, IPv4 first.
func (h *httpsCheck) addresses(host string, hop *HTTPHop) ([]netip.Addr, Outcome, string) {
	found := h.lookupHost(h.ctx, host, &hop.Queries)
	for _, a := range found.all {
		hop.Addresses = append(hop.Addresses, a.String())
	}
	switch {
	case len(found.all) == 0:
		outcome, summary := h.noAddress(host, found.v4, found.v6, hop)
		return nil, outcome, summary
	case len(found.allowed) == 0:
		hop.Error = "every address refused: " + strings.Join(found.refused, "; ")
		return nil, Absent, fmt.Sprintf("Refused to connect to %s: %s.", host, strings.Join(found.refused, "; "))
	}
	return found.allowed, "", ""
}

func (h *httpsCheck) noAddress(host string, v4, v6 lookup, hop *HTTPHop) (Outcome, string) {
	switch {
	case v4.problem != "" || v6.problem != "":
		hop.Error = v4.problem
		if v6.problem != "" && v6.problem != v4.problem {
			hop.Error = strings.TrimPrefix(v4.problem+"; ", "; ") + v6.problem
		}
		if h.ctx.Err() != nil {
			return Inconclusive, h.failure(host, "Could not resolve "+host, h.ctx.Err())
		}
		return Inconclusive, fmt.Sprintf("Could not resolve %s: %s.", host, hop.Error)
	case v4.broken != "":
		hop.Error = v4.broken
		return Absent, fmt.Sprintf("The host %s cannot be resolved: %s.", host, v4.broken)
	case v4.rcode == dns.RcodeNameError && v6.rcode == dns.RcodeNameError:
		hop.Error = "NXDOMAIN"
		return Absent, fmt.Sprintf("The host %s does not exist (NXDOMAIN).", host)
	}
	hop.Error = "no A or AAAA record"
	return Absent, fmt.Sprintf("The host %s has no A or AAAA record.", host)
}

// connect dials the checked addresses in turn. Each gets a share of the time
// left, so that one silent address cannot use up the whole check.
func (h *httpsCheck) connect(addrs []netip.Addr, port string, hop *HTTPHop) (net.Conn, error) {
	var failures []string
	for i, a := range addrs {
		hop.Address = net.JoinHostPort(a.String(), port)
		ctx, cancel := context.WithCancel(h.ctx)
		if deadline, ok := h.ctx.Deadline(); ok {
			ctx, cancel = context.WithTimeout(h.ctx, time.Until(deadline)/time.Duration(len(addrs)-i))
		}
		conn, err := h.dial(ctx, "tcp", hop.Address)
		cancel()
		if err == nil {
			return conn, nil
		}
		failures = append(failures, err.Error())
	}
	return nil, errors.New(strings.Join(failures, "; "))
}

// transport sends one request over conn, already open to a checked address:
// it must neither resolve nor dial anything itself (no DNS-rebinding gap), nor
// use a proxy, nor keep the connection.
func (h *httpsCheck) transport(host string, conn net.Conn) *http.Transport {
	var used atomic.Bool
	return &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			if used.Swap(true) {
				return nil, errors.New("verify: a second connection was requested")
			}
			return conn, nil
		},
		TLSClientConfig:        &tls.Config{RootCAs: h.rootCAs, ServerName: host, MinVersion: tls.VersionTLS12},
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: maxBodyBytes,
	}
}

// failure explains an error of the network, TLS or the clock in one sentence.
func (h *httpsCheck) failure(host, what string, err error) string {
	var unverified *tls.CertificateVerificationError
	var alert tls.AlertError
	var record tls.RecordHeaderError
	switch {
	case h.parent.Err() != nil:
		return fmt.Sprintf("%s: the check was stopped (%v).", what, h.parent.Err())
	case h.ctx.Err() != nil:
		return fmt.Sprintf("%s: no complete answer within %s.", what, h.httpsTimeout)
	case errors.As(err, &unverified):
		return fmt.Sprintf("The certificate of %s is not trusted: %v.", host, unverified.Err)
	case errors.As(err, &alert), errors.As(err, &record):
		return fmt.Sprintf("The TLS handshake with %s failed: %v.", host, err)
	}
	return fmt.Sprintf("%s: %v.", what, err)
}

// judge reads the final answer and looks for the token.
func (h *httpsCheck) judge(u *url.URL, resp *http.Response) (Outcome, string) {
	defer resp.Body.Close()
	status := statusLine(resp.StatusCode)
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		// The server is having trouble, which says nothing about the file.
		return Inconclusive, fmt.Sprintf("%s answered %s.", u, status)
	case resp.StatusCode != http.StatusOK:
		return Absent, fmt.Sprintf("%s answered %s.", u, status)
	case resp.ContentLength > maxBodyBytes:
		h.report.Error = "body too large: " + strconv.FormatInt(resp.ContentLength, 10) + " bytes"
		return Absent, fmt.Sprintf("%s is larger than 64 KiB (%d bytes).", u, resp.ContentLength)
	}
	// Read one byte past the limit to tell "exactly 64 KiB" from "larger".
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	h.report.BodyBytes = len(body)
	switch {
	case err != nil:
		h.report.Error = err.Error()
		return Inconclusive, h.failure(u.Hostname(), "Could not read "+u.String(), err)
	case len(body) > maxBodyBytes:
		h.report.Error = "body too large"
		return Absent, fmt.Sprintf("%s is larger than 64 KiB.", u)
	case !bytes.Contains(bytes.ToLower(body), bytes.ToLower([]byte(strings.TrimSpace(h.target.Token)))):
		h.report.ContentType = cut(resp.Header.Get("Content-Type"), summaryRunes)
		h.report.Excerpt = text.Quote(body, excerptRunes)
		page := text.Count(len(body), "byte")
		if h.report.ContentType != "" {
			page += ", " + h.report.ContentType
		}
		if len(body) == 0 {
			return Absent, fmt.Sprintf("%s answered 200 OK with an empty page (%s), not the token %s.", u, page, h.target.Token)
		}
		return Absent, fmt.Sprintf("%s answered 200 OK, but the page (%s) does not contain the token %s. It begins: %s",
			u, page, h.target.Token, h.report.Excerpt)
	}
	return Found, fmt.Sprintf("%s answered 200 OK with the token.", u)
}

// excerptRunes is how much of a page without the token a report quotes.
const excerptRunes = 120

func portOf(u *url.URL) string {
	switch {
	case u.Port() != "":
		return u.Port()
	case u.Scheme == "http":
		return "80"
	}
	return "443"
}

// statusLine uses Go's reason phrase, not the server's, which could say anything.
func statusLine(code int) string {
	return strings.TrimSpace(strconv.Itoa(code) + " " + http.StatusText(code))
}
