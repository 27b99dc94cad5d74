package verify

import (
	"net/netip"
	"testing"
)

func TestRefusal(t *testing.T) {
	tests := []struct {
		addr string
		want string // "" when the address may be dialed
	}{
		{"1.2.3.4", ""},
		{"8.8.8.8", ""},
		{"100.63.255.255", ""},
		{"100.128.0.0", ""},
		{"172.15.255.255", ""},
		{"172.32.0.0", ""},
		{"192.169.0.1", ""},
		{"223.255.255.255", ""},
		{"0.0.0.0", `a "this network" address`},
		{"10.0.0.1", "a private address (RFC 1918)"},
		{"100.64.0.1", "a shared carrier-grade NAT address (RFC 6598)"},
		{"100.127.255.254", "a shared carrier-grade NAT address (RFC 6598)"},
		{"127.0.0.1", "a loopback address"},
		{"127.255.255.254", "a loopback address"},
		{"169.254.169.254", "a link-local address"},
		{"172.16.0.1", "a private address (RFC 1918)"},
		{"172.31.255.255", "a private address (RFC 1918)"},
		{"192.0.0.8", "an IETF protocol assignment address"},
		{"192.0.2.1", "a documentation address (RFC 5737)"},
		{"192.88.99.1", "a deprecated 6to4 relay address"},
		{"192.168.1.1", "a private address (RFC 1918)"},
		{"198.18.0.1", "a benchmarking address (RFC 2544)"},
		{"198.19.255.255", "a benchmarking address (RFC 2544)"},
		{"198.51.100.7", "a documentation address (RFC 5737)"},
		{"203.0.113.9", "a documentation address (RFC 5737)"},
		{"224.0.0.1", "a multicast address"},
		{"239.255.255.250", "a multicast address"},
		{"240.0.0.1", "a reserved address"},
		{"255.255.255.255", "a reserved address"},

		{"2606:4700:4700::1111", ""},
		{"2a00:1450:4001:82b::200e", ""},
		{"::", "the unspecified address"},
		{"::1", "a loopback address"},
		{"::ffff:1.2.3.4", ""},
		{"::ffff:127.0.0.1", "a loopback address, IPv4-mapped"},
		{"::ffff:10.1.2.3", "a private address (RFC 1918), IPv4-mapped"},
		{"::ffff:169.254.169.254", "a link-local address, IPv4-mapped"},
		{"::127.0.0.1", "a reserved address"},
		{"64:ff9b::a00:1", "a NAT64 address"},
		{"64:ff9b:1::1", "a local-use NAT64 address"},
		{"100::1", "a discard-only address"},
		{"fc00::1", "a unique local address (RFC 4193)"},
		{"fd12:3456::1", "a unique local address (RFC 4193)"},
		{"fe80::1", "a link-local address"},
		{"fe80::1%eth0", "a link-local address"},
		{"ff02::1", "a multicast address"},
		{"2001::1", "an IETF protocol assignment address"},
		{"2001:db8::1", "a documentation address (RFC 3849)"},
		{"2002:a00:1::1", "a 6to4 address"},
		{"3fff::1", "a documentation address (RFC 9637)"},
		{"5f00::1", "a segment routing address (RFC 9602)"},
		{"4000::1", "a reserved address"},
		{"fec0::1", "a reserved address"},
	}
	for _, tt := range tests {
		if got := refusal(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("refusal(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}
