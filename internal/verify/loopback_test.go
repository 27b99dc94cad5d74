package verify

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
)

// loopbackOnly is the dialer of every test Checker: whatever the code under
// test decides, no test may send a packet beyond this machine's loopback.
func loopbackOnly(t *testing.T) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(address)
		if ip, perr := netip.ParseAddr(host); err != nil || perr != nil || !ip.IsLoopback() {
			t.Errorf("the checker dialed %s; tests may dial loopback only", address)
			return nil, errors.New("test: only loopback may be dialed")
		}
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	}
}
