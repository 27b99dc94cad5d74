package mail

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
)

// One delivery takes at most a dial and a session: the claim's lease must
// outlast it.
const (
	dialTimeout    = 10 * time.Second
	sessionTimeout = 60 * time.Second
)

// recipientError is the server's answer to RCPT TO.
type recipientError struct{ err error }

func (e *recipientError) Error() string { return e.err.Error() }
func (e *recipientError) Unwrap() error { return e.err }

// permanent reports whether the server refused the recipient for good (a
// 5xx answer to RCPT TO): trying again would only be refused again. Every
// other failure may pass: a server down or busy, a 4xx, a TLS problem, a
// refused login, sender or content, which an operator can fix.
func permanent(err error) bool {
	var r *recipientError
	var te *textproto.Error
	return errors.As(err, &r) && errors.As(err, &te) && te.Code >= 500 && te.Code <= 599
}

func (s *Sender) from() string {
	if f := s.Server.Query().Get("from"); f != "" {
		return f
	}
	return s.From
}

// deliver sends one message in its own SMTP session.
func (s *Sender) deliver(m Message) error {
	host := s.Server.Hostname()
	implicitTLS := s.Server.Scheme == "smtps"
	port := s.Server.Port()
	if port == "" {
		port = map[bool]string{true: "465", false: "25"}[implicitTLS]
	}
	addr := net.JoinHostPort(host, port)
	dialer := &net.Dialer{Timeout: dialTimeout}
	var conn net.Conn
	var err error
	if implicitTLS {
		conn, err = tls.DialWithDialer(dialer, "tcp", addr, &tls.Config{ServerName: host})
	} else {
		conn, err = dialer.Dial("tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("connect to %s: %w", addr, err)
	}
	conn.SetDeadline(time.Now().Add(sessionTimeout))
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("greeting from %s: %w", addr, err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok && !implicitTLS {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return fmt.Errorf("STARTTLS with %s: %w", addr, err)
		}
	}
	if u := s.Server.User; u != nil {
		password, _ := u.Password()
		if err := c.Auth(smtp.PlainAuth("", u.Username(), password, host)); err != nil {
			return fmt.Errorf("authenticate to %s: %w", addr, err)
		}
	}
	from := s.from()
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	if err := c.Rcpt(m.Recipient); err != nil {
		return &recipientError{fmt.Errorf("RCPT TO %s: %w", m.Recipient, err)}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(format(m, from)); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end of DATA: %w", err)
	}
	// The server took the message when it accepted the DATA; a failed QUIT
	// must not make us send it again.
	c.Quit()
	return nil
}

// format renders m as an RFC 5322 message with a quoted-printable body.
func format(m Message, from string) []byte {
	var b bytes.Buffer
	domain := from[strings.LastIndexByte(from, '@')+1:]
	fmt.Fprintf(&b, "From: Admin Center <%s>\r\n", from)
	fmt.Fprintf(&b, "To: <%s>\r\n", m.Recipient)
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", m.Subject))
	fmt.Fprintf(&b, "Date: %s\r\n", m.CreatedAt.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <outbox-%d@%s>\r\n", m.ID, domain)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(m.Body, "\n", "\r\n")))
	qp.Close()
	return b.Bytes()
}
