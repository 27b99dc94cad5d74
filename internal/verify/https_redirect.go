package verify

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// redirect applies the redirect policy to the answer of hop and returns the
// next URL, or nil and why the redirect is refused. A refusal is also noted
// as a mistake, with what to change.
func (h *httpsCheck) redirect(from *url.URL, hop HTTPHop, followed int) (*url.URL, string) {
	where, file := "from "+cut(from.String(), summaryRunes), h.report.URL
	refuse := func(summary, why, fix string) (*url.URL, string) {
		h.mistakes = append(h.mistakes, Mistake{Kind: "redirect-refused", Fix: fix,
			Found: fmt.Sprintf("The %s redirect, %s, is refused: %s.", ordinal(followed+1), where, why)})
		return nil, summary
	}
	if hop.Location == "" {
		return refuse(fmt.Sprintf("%s answered %s without a Location header.", from, statusLine(hop.Status)),
			"it has no Location header", fmt.Sprintf("Send a Location header with the file's HTTPS address, or serve the file at %s directly.", file))
	}
	to, err := from.Parse(hop.Location)
	if err != nil {
		where += fmt.Sprintf(" to %q", cut(hop.Location, summaryRunes))
		return refuse(fmt.Sprintf("%s redirects to %q, which is not a valid address.", from, cut(hop.Location, summaryRunes)),
			"that is not a valid address", fmt.Sprintf("Correct the Location header, or serve the file at %s directly.", file))
	}
	shown := cut(to.String(), summaryRunes)
	where += " to " + shown
	host, idnaErr := idna.Lookup.ToASCII(to.Hostname())
	_, ipErr := netip.ParseAddr(to.Hostname())
	switch {
	case followed == maxRedirects:
		return refuse(fmt.Sprintf("%s redirects a %s time (to %s): at most %d redirects are followed.", from, ordinal(maxRedirects+1), shown, maxRedirects),
			fmt.Sprintf("at most %d redirects are followed", maxRedirects),
			fmt.Sprintf("Redirect to the file's final address in at most %d steps, or serve the file at %s directly.", maxRedirects, file))
	case to.Scheme != "https":
		return refuse(fmt.Sprintf("%s redirects to %s, which is not HTTPS.", from, shown), "it is not HTTPS",
			fmt.Sprintf("Redirect to an https:// address instead, or serve the file at %s directly: we only follow redirects to HTTPS.", file))
	case ipErr == nil:
		return refuse(fmt.Sprintf("%s redirects to %s, an IP address instead of a name under %s.", from, shown, h.target.Domain),
			fmt.Sprintf("it goes to an IP address instead of a name under %s", h.target.Domain),
			fmt.Sprintf("Redirect to a name under %s instead, or serve the file at %s directly.", h.target.Domain, file))
	case idnaErr != nil || host == "":
		return refuse(fmt.Sprintf("%s redirects to %s, whose host name is not valid.", from, shown), "its host name is not valid",
			fmt.Sprintf("Correct the host name in the Location header, or serve the file at %s directly.", file))
	case !sameSite(host, h.target.Domain):
		return refuse(fmt.Sprintf("%s redirects to %s, outside the domain %s.", from, shown, h.target.Domain),
			fmt.Sprintf("it leaves the domain %s", h.target.Domain),
			fmt.Sprintf("Serve the file at %s, or redirect only to addresses under %s: a file on another site does not prove that you own %s.",
				file, h.target.Domain, h.target.Domain))
	case portOf(to) != strconv.Itoa(h.port):
		right := *to
		right.Host = to.Hostname()
		if h.port != 443 {
			right.Host = net.JoinHostPort(right.Host, strconv.Itoa(h.port))
		}
		return refuse(fmt.Sprintf("%s redirects to %s, on port %s instead of %d.", from, shown, portOf(to), h.port),
			fmt.Sprintf("it is on port %s instead of %d", portOf(to), h.port),
			fmt.Sprintf("Redirect to %s instead: we only connect to port %d.", cut(right.String(), summaryRunes), h.port))
	}
	if port := to.Port(); port != "" {
		host = net.JoinHostPort(host, port)
	}
	to.Host = host
	to.User, to.Fragment, to.RawFragment = nil, "", ""
	return to, ""
}

// sameSite reports whether host is under the same registrable domain
// (public suffix plus one label) as domain.
func sameSite(host, domain string) bool {
	if host == domain {
		return true
	}
	a, errA := publicsuffix.EffectiveTLDPlusOne(host)
	b, errB := publicsuffix.EffectiveTLDPlusOne(domain)
	return errA == nil && errB == nil && a == b
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}
