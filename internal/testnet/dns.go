// Package testnet runs real network peers on loopback for tests: a DNS
// server answering from a zone the test writes, and HTTPS sites with
// certificates from a test certificate authority.
package testnet

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// DNS is a real DNS server on a random loopback port, UDP and TCP on the
// same port, answering from a zone the test writes.
type DNS struct {
	Addr string // host:port, UDP and TCP

	mu        sync.Mutex
	records   []dns.RR
	rcode     int    // when not 0, every answer carries this rcode (SERVFAIL, REFUSED)
	noRecurse bool   // answer a CNAME alone, as an authoritative server does
	silent    uint16 // when not 0, queries of this type get no answer at all
	asked     []string
}

// StartDNS serves the zone given in presentation format, one record a line.
func StartDNS(t testing.TB, zone ...string) *DNS {
	t.Helper()
	s := &DNS{}
	for _, line := range zone {
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("zone line %q: %v", line, err)
		}
		s.records = append(s.records, rr)
	}
	pc, l := listenUDPAndTCP(t)
	s.Addr = pc.LocalAddr().String()
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: s}, {Listener: l, Handler: s}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
		t.Cleanup(func() { srv.Shutdown() })
	}
	return s
}

func listenUDPAndTCP(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, l
		}
		pc.Close() // the TCP port was taken: try another
	}
	t.Fatal("no loopback port free for both UDP and TCP")
	return nil, nil
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
	m.RecursionAvailable = !s.noRecurse
	if s.rcode != 0 {
		m.Rcode = s.rcode
		w.WriteMsg(m)
		return
	}
	s.answer(m, strings.ToLower(q.Name), q.Qtype)
	if opt := r.IsEdns0(); opt != nil {
		m.SetEdns0(opt.UDPSize(), false)
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
func (s *DNS) answer(m *dns.Msg, name string, qtype uint16) {
	for range 20 {
		if !s.exists(name) {
			m.Rcode = dns.RcodeNameError
			return
		}
		cname := s.find(name, dns.TypeCNAME)
		if len(cname) == 0 || qtype == dns.TypeCNAME {
			m.Answer = append(m.Answer, s.find(name, qtype)...)
			return
		}
		m.Answer = append(m.Answer, cname[0])
		if s.noRecurse {
			return
		}
		name = strings.ToLower(cname[0].(*dns.CNAME).Target)
	}
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
