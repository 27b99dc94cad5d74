// Package mailtest runs a real SMTP server on loopback for tests: it
// records what it is sent and can be told to refuse commands, to require a
// login, or to drop the connection when the client says QUIT.
package mailtest

import (
	"bytes"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Server is an SMTP server listening on 127.0.0.1 until its test ends.
type Server struct {
	URL *url.URL // smtp://127.0.0.1:PORT

	mu       sync.Mutex
	received []Message
	rcpts    int                        // RCPT commands seen, refused ones included
	logins   []Login                    // AUTH PLAIN attempts
	refuse   map[string]*smtp.SMTPError // by command: MAIL, RCPT or DATA
	refuseTo map[string]*smtp.SMTPError // RCPT of these recipients
	password map[string]string          // accepted logins; nil accepts any
	onRcpt   func()                     // called when RCPT TO arrives, before it is answered
	onData   func()                     // called after a message is accepted
	dropQuit atomic.Bool                // close the connection instead of answering QUIT
}

// Message is a message the server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
}

// Login is one AUTH PLAIN attempt.
type Login struct{ User, Password string }

// TryLater is a temporary refusal (451 4.3.0).
var TryLater = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}

// Start starts a server that stops when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ms := &Server{refuse: map[string]*smtp.SMTPError{}, refuseTo: map[string]*smtp.SMTPError{}}
	s := smtp.NewServer(ms)
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	s.ReadTimeout = 30 * time.Second
	s.WriteTimeout = 30 * time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Serve(quitDropper{Listener: l, drop: &ms.dropQuit})
	}()
	t.Cleanup(func() {
		s.Close()
		l.Close() // Close misses the listener if Serve has not begun yet
		<-done
	})
	ms.URL = &url.URL{Scheme: "smtp", Host: l.Addr().String()}
	return ms
}

// Refuse makes the server answer err to command (MAIL, RCPT or DATA); a
// nil err accepts it again.
func (ms *Server) Refuse(command string, err *smtp.SMTPError) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if err == nil {
		delete(ms.refuse, command)
		return
	}
	ms.refuse[command] = err
}

// RefuseRecipient makes the server answer err to RCPT TO of this
// recipient only; a nil err accepts it again.
func (ms *Server) RefuseRecipient(to string, err *smtp.SMTPError) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if err == nil {
		delete(ms.refuseTo, to)
		return
	}
	ms.refuseTo[to] = err
}

// RequireLogin makes the server accept only this user and password.
func (ms *Server) RequireLogin(user, password string) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.password = map[string]string{user: password}
}

// OnData sets a function called each time a message is accepted.
func (ms *Server) OnData(f func()) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.onData = f
}

// OnRcpt sets a function called each time RCPT TO arrives, before it is
// answered.
func (ms *Server) OnRcpt(f func()) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.onRcpt = f
}

// DropQuit makes the server close the connection when the client says
// QUIT, after the message was accepted.
func (ms *Server) DropQuit(drop bool) { ms.dropQuit.Store(drop) }

// Received returns the messages accepted so far.
func (ms *Server) Received() []Message {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]Message(nil), ms.received...)
}

// Rcpts returns how many RCPT commands were seen: one per delivery attempt
// that got that far.
func (ms *Server) Rcpts() int {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.rcpts
}

// Logins returns the AUTH PLAIN attempts so far.
func (ms *Server) Logins() []Login {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]Login(nil), ms.logins...)
}

func (ms *Server) refusal(command string) error {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if err := ms.refuse[command]; err != nil {
		return err
	}
	return nil
}

// NewSession is go-smtp's Backend.
func (ms *Server) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &session{server: ms}, nil
}

type session struct {
	server *Server
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		ms := s.server
		ms.mu.Lock()
		defer ms.mu.Unlock()
		ms.logins = append(ms.logins, Login{user, password})
		if ms.password != nil && ms.password[user] != password {
			return smtp.ErrAuthFailed
		}
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if err := s.server.refusal("MAIL"); err != nil {
		return err
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.server.mu.Lock()
	s.server.rcpts++
	refused, onRcpt := s.server.refuseTo[to], s.server.onRcpt
	s.server.mu.Unlock()
	if onRcpt != nil {
		onRcpt()
	}
	if refused != nil {
		return refused
	}
	if err := s.server.refusal("RCPT"); err != nil {
		return err
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := s.server.refusal("DATA"); err != nil {
		return err
	}
	ms := s.server
	ms.mu.Lock()
	ms.received = append(ms.received, Message{From: s.from, To: s.to, Data: data})
	onData := ms.onData
	ms.mu.Unlock()
	if onData != nil {
		onData()
	}
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// quitDropper hands the server connections that vanish when the client
// sends QUIT, if drop is set.
type quitDropper struct {
	net.Listener
	drop *atomic.Bool
}

func (l quitDropper) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return quitDropConn{Conn: c, drop: l.drop}, nil
}

type quitDropConn struct {
	net.Conn
	drop *atomic.Bool
}

func (c quitDropConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.drop.Load() && bytes.HasPrefix(bytes.ToUpper(p[:n]), []byte("QUIT")) {
		c.Conn.Close()
		return 0, io.EOF
	}
	return n, err
}
