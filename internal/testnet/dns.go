// Package testnet runs real network peers on loopback for tests: a DNS
// server answering from a zone the test writes, and HTTPS sites with
// certificates from a test certificate authority.
package testnet

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// DNS is a real DNS server on a random loopback port, UDP and TCP on the
// same port, answering from a zone the test writes.
type DNS struct {
	Addr string // host:port, UDP and TCP

	mu            sync.Mutex
	records       []dns.RR
	rcode         int    // when not 0, every answer carries this rcode (SERVFAIL, REFUSED)
	noRecurse     bool   // answer a CNAME alone, as an authoritative server does
	authoritative bool   // set the AA bit and never recurse: a zone's own nameserver
	silent        uint16 // when not 0, queries of this type get no answer at all
	ede           *dns.EDNS0_EDE
	ad            bool // set the AD bit, as a validating resolver does for signed answers
	asked         []string
}

// StartDNS serves the zone given in presentation format, one record a line.
// It answers like a recursive resolver; negative answers carry the SOA of
// the zone when the zone has one.
func StartDNS(t testing.TB, zone ...string) *DNS {
	t.Helper()
	pc, l := listenUDPAndTCP(t, "127.0.0.1", 0)
	return serveDNS(t, pc, l, zone, false)
}

// StartNameservers starts n authoritative servers of the same zone on
// 127.0.0.2, 127.0.0.3, ... and one port, as a zone's nameservers are on
// different addresses and the same port. Each has its own copy of the zone,
// so that a test can change one of them.
func StartNameservers(t testing.TB, n int, zone ...string) (port string, servers []*DNS) {
	t.Helper()
	for range 20 {
		pc, l := listenUDPAndTCP(t, "127.0.0.2", 0)
		_, port, _ = net.SplitHostPort(pc.LocalAddr().String())
		listeners := [][2]any{{pc, l}}
		for i := 1; i < n; i++ {
			pc, l, err := listenBoth(fmt.Sprintf("127.0.0.%d:%s", i+2, port))
			if err != nil {
				break
			}
			listeners = append(listeners, [2]any{pc, l})
		}
		if len(listeners) < n {
			for _, pair := range listeners {
				pair[0].(net.PacketConn).Close()
				pair[1].(net.Listener).Close()
			}
			continue // the port was taken on another address: try another
		}
		for _, pair := range listeners {
			servers = append(servers, serveDNS(t, pair[0].(net.PacketConn), pair[1].(net.Listener), zone, true))
		}
		return port, servers
	}
	t.Fatalf("no port free on %d loopback addresses", n)
	return "", nil
}

func serveDNS(t testing.TB, pc net.PacketConn, l net.Listener, zone []string, authoritative bool) *DNS {
	t.Helper()
	s := &DNS{Addr: pc.LocalAddr().String(), authoritative: authoritative}
	s.Add(t, zone...)
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: s}, {Listener: l, Handler: s}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
		t.Cleanup(func() { srv.Shutdown() })
	}
	return s
}

func listenUDPAndTCP(t testing.TB, ip string, port int) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		pc, l, err := listenBoth(net.JoinHostPort(ip, strconv.Itoa(port)))
		if err == nil {
			return pc, l
		}
		if port != 0 {
			t.Fatal(err)
		}
	}
	t.Fatalf("no port free on %s for both UDP and TCP", ip)
	return nil, nil
}

// listenBoth listens on addr over UDP, and over TCP on the same port.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, nil, err
	}
	l, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		pc.Close() // the TCP port was taken
		return nil, nil, err
	}
	return pc, l, nil
}

// SilentDNS is a server that reads nothing and never answers.
func SilentDNS(t testing.TB) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String()
}

// Set changes how the server answers from now on.
func (s *DNS) Set(rcode int, noRecurse bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcode, s.noRecurse = rcode, noRecurse
}

// Explain adds an Extended DNS Error (RFC 8914) to every answer, as a
// resolver does to say why it failed; code 0 with no text removes it.
func (s *DNS) Explain(code uint16, extra string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ede = nil
	if code != 0 || extra != "" {
		s.ede = &dns.EDNS0_EDE{InfoCode: code, ExtraText: extra}
	}
}

// Lame makes a nameserver answer without authority (no AA bit), as one
// that was never given the zone does.
func (s *DNS) Lame() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authoritative, s.noRecurse = false, true
}

// Authenticate sets the AD bit on every answer from now on, as a
// validating resolver does for a signed zone.
func (s *DNS) Authenticate(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ad = on
}

// Silence stops answering queries of one type (dns.TypeTXT, say), as a
// broken server does: they time out, while the other types are answered.
// 0 answers them again.
func (s *DNS) Silence(qtype uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silent = qtype
}

// Queries returns what was asked, as "udp TXT _twilio.example.test.".
func (s *DNS) Queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.asked...)
}

func (s *DNS) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	q := r.Question[0]
	network := w.LocalAddr().Network()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, network+" "+dns.TypeToString[q.Qtype]+" "+q.Name)

	if q.Qtype == s.silent {
		return
	}
	m := new(dns.Msg)
	m.SetReply(r)
	m.RecursionAvailable = !s.noRecurse && !s.authoritative
	m.Authoritative = s.authoritative
	m.AuthenticatedData = s.ad
	if s.rcode != 0 {
		m.Rcode = s.rcode
	} else {
		s.answer(m, strings.ToLower(q.Name), q.Qtype)
	}
	if opt := r.IsEdns0(); opt != nil {
		m.SetEdns0(opt.UDPSize(), false)
		if s.ede != nil {
			m.IsEdns0().Option = append(m.IsEdns0().Option, s.ede)
		}
	}
	if network == "udp" {
		size := dns.MinMsgSize
		if opt := r.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	w.WriteMsg(m)
}

// answer fills m like a recursive resolver would: the CNAME chain, then the
// records of the asked type at its end; NXDOMAIN when a name has no record.
// A negative answer carries the SOA of the zone, when there is one.
func (s *DNS) answer(m *dns.Msg, name string, qtype uint16) {
	for range 20 {
		if !s.exists(name) {
			m.Rcode = dns.RcodeNameError
			m.Ns = s.soaAbove(name)
			return
		}
		cname := s.find(name, dns.TypeCNAME)
		if len(cname) == 0 || qtype == dns.TypeCNAME {
			m.Answer = append(m.Answer, s.find(name, qtype)...)
			if len(m.Answer) == 0 {
				m.Ns = s.soaAbove(name)
			}
			return
		}
		m.Answer = append(m.Answer, cname[0])
		if s.noRecurse || s.authoritative {
			return
		}
		name = strings.ToLower(cname[0].(*dns.CNAME).Target)
	}
}

// soaAbove is the SOA of the closest zone that holds name.
func (s *DNS) soaAbove(name string) []dns.RR {
	for labels := dns.SplitDomainName(name); len(labels) > 0; labels = labels[1:] {
		if soa := s.find(dns.Fqdn(strings.Join(labels, ".")), dns.TypeSOA); len(soa) > 0 {
			return soa[:1]
		}
	}
	return nil
}

func (s *DNS) exists(name string) bool {
	for _, rr := range s.records {
		if strings.EqualFold(rr.Header().Name, name) {
			return true
		}
	}
	return false
}

func (s *DNS) find(name string, qtype uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range s.records {
		if strings.EqualFold(rr.Header().Name, name) && rr.Header().Rrtype == qtype {
			out = append(out, rr)
		}
	}
	return out
}

// Add puts records, in presentation format, into the zone.
func (s *DNS) Add(t testing.TB, zone ...string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, line := range zone {
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("zone line %q: %v", line, err)
		}
		s.records = append(s.records, rr)
	}
}

// Remove deletes every record of a name (with or without the final dot).
func (s *DNS) Remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name = dns.Fqdn(name)
	kept := s.records[:0]
	for _, rr := range s.records {
		if !strings.EqualFold(rr.Header().Name, name) {
			kept = append(kept, rr)
		}
	}
	s.records = kept
}
