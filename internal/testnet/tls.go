package testnet

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// CA is a certificate authority made for one test run.
type CA struct {
	Cert *x509.Certificate
	Pool *x509.CertPool // trusts this CA only
	key  *ecdsa.PrivateKey
}

func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{Cert: cert, key: key, Pool: pool}
}

// Issue returns a server certificate for the given names, valid now.
func (ca *CA) Issue(t testing.TB, names ...string) tls.Certificate {
	t.Helper()
	return ca.IssueValid(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), names...)
}

// IssueValid returns a server certificate for the given names, valid from
// notBefore to notAfter, which may be past or future. A name that is an IP
// address is certified as one.
func (ca *CA) IssueValid(t testing.TB, notBefore, notAfter time.Time, names ...string) tls.Certificate {
	t.Helper()
	return issue(t, ca.Cert, ca.key, serverTemplate(notBefore, notAfter, names))
}

// SelfSigned returns a server certificate for the given names signed by its
// own key, as a server set up by hand often has.
func SelfSigned(t testing.TB, names ...string) tls.Certificate {
	t.Helper()
	return issue(t, nil, nil, serverTemplate(time.Now().Add(-time.Hour), time.Now().Add(time.Hour), names))
}

func serverTemplate(notBefore, notAfter time.Time, names []string) *x509.Certificate {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	return tmpl
}

// issue signs tmpl with a new key, by parent and parentKey, or by the new key
// itself when parent is nil.
func issue(t testing.TB, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, tmpl *x509.Certificate) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Site is a real HTTPS or plain HTTP server on loopback that counts what
// reaches it.
type Site struct {
	Port  int
	Conns atomic.Int32 // connections accepted

	mu       sync.Mutex
	requests []*http.Request
}

func StartSite(t testing.TB, cert tls.Certificate, handler http.HandlerFunc) *Site {
	t.Helper()
	return start(t, &cert, handler)
}

// StartHTTP starts a site over plain HTTP.
func StartHTTP(t testing.TB, handler http.HandlerFunc) *Site {
	t.Helper()
	return start(t, nil, handler)
}

// start serves over HTTPS with cert, or over plain HTTP when cert is nil.
func start(t testing.TB, cert *tls.Certificate, handler http.HandlerFunc) *Site {
	t.Helper()
	site := &Site{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		site.mu.Lock()
		site.requests = append(site.requests, r)
		site.mu.Unlock()
		handler(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			site.Conns.Add(1)
		}
	}
	if cert != nil {
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	site.Port = srv.Listener.Addr().(*net.TCPAddr).Port
	return site
}

// Seen returns the requests that reached the site.
func (s *Site) Seen() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.requests...)
}

// PortString returns the port as text.
func (s *Site) PortString() string { return strconv.Itoa(s.Port) }

// WriteFile writes the CA's certificate as PEM into the test's temporary
// folder and returns the path, for SSL_CERT_FILE.
func (ca *CA) WriteFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test-ca.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
