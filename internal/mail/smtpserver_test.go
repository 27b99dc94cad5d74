package mail_test

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

// mailServer is a real SMTP server on loopback. It records what it is sent
// and can be told to refuse commands, to require a login, or to drop the
// connection when the client says QUIT.
type mailServer struct {
	URL *url.URL // smtp://127.0.0.1:PORT

	mu       sync.Mutex
	received []received
	rcpts    int                        // RCPT commands seen, refused ones included
	logins   []login                    // AUTH PLAIN attempts
	refuse   map[string]*smtp.SMTPError // by command: MAIL, RCPT or DATA
	password map[string]string          // accepted logins; nil accepts any
	onData   func()                     // called after a message is accepted
	dropQuit atomic.Bool                // close the connection instead of answering QUIT
}

type received struct {
	From string
	To   []string
	Data []byte
}

type login struct{ User, Password string }

var errTryLater = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}

func startMailServer(t *testing.T) *mailServer {
	t.Helper()
	ms := &mailServer{refuse: map[string]*smtp.SMTPError{}}
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
		<-done
	})
	ms.URL = &url.URL{Scheme: "smtp", Host: l.Addr().String()}
	return ms
}

// Refuse makes the server answer err to command (MAIL, RCPT or DATA); a
// nil err accepts it again.
func (ms *mailServer) Refuse(command string, err *smtp.SMTPError) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if err == nil {
		delete(ms.refuse, command)
		return
	}
	ms.refuse[command] = err
}

// RequireLogin makes the server accept only this user and password.
func (ms *mailServer) RequireLogin(user, password string) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.password = map[string]string{user: password}
}

// OnData sets a function called each time a message is accepted.
func (ms *mailServer) OnData(f func()) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.onData = f
}

// Received returns the messages accepted so far.
func (ms *mailServer) Received() []received {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]received(nil), ms.received...)
}

// Rcpts returns how many RCPT commands were seen: one per delivery attempt
// that got that far.
func (ms *mailServer) Rcpts() int {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.rcpts
}

func (ms *mailServer) Logins() []login {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]login(nil), ms.logins...)
}

func (ms *mailServer) refusal(command string) error {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if err := ms.refuse[command]; err != nil {
		return err
	}
	return nil
}

func (ms *mailServer) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &session{server: ms}, nil
}

type session struct {
	server *mailServer
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		ms := s.server
		ms.mu.Lock()
		defer ms.mu.Unlock()
		ms.logins = append(ms.logins, login{user, password})
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
	s.server.mu.Unlock()
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
	ms.received = append(ms.received, received{From: s.from, To: s.to, Data: data})
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
