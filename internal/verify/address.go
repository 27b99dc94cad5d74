package verify

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/miekg/dns"
)

// A special range of addresses that the HTTPS check refuses to dial, so that
// a domain owner cannot point us at our own network (server-side request
// forgery). From the IANA IPv4 and IPv6 Special-Purpose Address Registries.
type specialRange struct {
	prefix netip.Prefix
	why    string
}

var specialV4 = []specialRange{
	{netip.MustParsePrefix("0.0.0.0/8"), "a \"this network\" address"},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private address (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared carrier-grade NAT address (RFC 6598)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local address"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private address (RFC 1918)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol assignment address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address (RFC 5737)"},
	{netip.MustParsePrefix("192.88.99.0/24"), "a deprecated 6to4 relay address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private address (RFC 1918)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address (RFC 2544)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address (RFC 5737)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address (RFC 5737)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
}

// specialV6 is checked in order: the narrow ranges inside 2000::/3 come
// before the rule that everything outside global unicast is refused.
var specialV6 = []specialRange{
	{netip.MustParsePrefix("::/128"), "the unspecified address"},
	{netip.MustParsePrefix("::1/128"), "a loopback address"},
	{netip.MustParsePrefix("64:ff9b::/96"), "a NAT64 address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local-use NAT64 address"},
	{netip.MustParsePrefix("100::/64"), "a discard-only address"},
	{netip.MustParsePrefix("fc00::/7"), "a unique local address (RFC 4193)"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
	{netip.MustParsePrefix("2001::/23"), "an IETF protocol assignment address"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address (RFC 3849)"},
	{netip.MustParsePrefix("2002::/16"), "a 6to4 address"},
	{netip.MustParsePrefix("3fff::/20"), "a documentation address (RFC 9637)"},
	{netip.MustParsePrefix("5f00::/16"), "a segment routing address (RFC 9602)"},
}

var globalUnicastV6 = netip.MustParsePrefix("2000::/3")

// refusal says why addr must not be dialed, or "" when it may be. An
// IPv4-mapped IPv6 address is judged by the IPv4 address inside it, since
// that is where a connection to it goes.
func refusal(addr netip.Addr) string {
	if addr.Is4In6() {
		if why := refusal(addr.Unmap()); why != "" {
			return why + ", IPv4-mapped"
		}
		return ""
	}
	table := specialV4
	if addr.Is6() {
		table = specialV6
	}
	for _, r := range table {
		if r.prefix.Contains(addr.WithZone("")) {
			return r.why
		}
	}
	if addr.Is6() && !globalUnicastV6.Contains(addr.WithZone("")) {
		return "a reserved address"
	}
	return ""
}

// hostAddresses is what resolving a host's A and AAAA records found:
// every address, IPv4 first, split by the address policy.
type hostAddresses struct {
	all, allowed []netip.Addr
	refused      []string // "10.0.0.1 is a private address (RFC 1918)"
	v4, v6       lookup
}

// lookupHost resolves host through the configured servers and applies the
// policy (refusal) unless private addresses are allowed. The HTTPS check,
// the nameservers of a zone and the webhooks' client all dial through it.
func (c *Checker) lookupHost(ctx context.Context, host string, queries *[]DNSQuery) hostAddresses {
	var h hostAddresses
	h.v4 = c.resolve(ctx, host, dns.TypeA, queries)
	h.v6 = c.resolve(ctx, host, dns.TypeAAAA, queries)
	for _, rr := range append(h.v4.records, h.v6.records...) {
		var ip net.IP
		switch rr := rr.(type) {
		case *dns.A:
			ip = rr.A
		case *dns.AAAA:
			ip = rr.AAAA
		}
		if a, ok := netip.AddrFromSlice(ip); ok {
			h.all = append(h.all, a.Unmap())
		}
	}
	for _, a := range h.all {
		if why := refusal(a); why != "" && !c.allowPrivate {
			h.refused = append(h.refused, fmt.Sprintf("%s is %s", a, why))
			continue
		}
		h.allowed = append(h.allowed, a)
	}
	return h
}
