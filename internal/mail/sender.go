package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/database"
)

const (
	batchSize = 20
	// lease outlasts the slowest batch (20 messages, each bounded by a 10 s
	// dial and a 60 s session), so a live sender never loses its claim; a
	// dead one's messages are retried after it.
	lease       = 30 * time.Minute
	maxAttempts = 12
)

// Sender delivers the outbox through an SMTP server. Several instances may
// run at once: each message is claimed before it is sent.
type Sender struct {
	DB       *gorm.DB
	Server   *url.URL // smtp://user:pass@host:port or smtps://…; ?from= sets the sender address
	From     string   // used when Server has no from parameter
	Now      func() time.Time
	Interval time.Duration
}

// Run delivers due messages until ctx ends.
func (s *Sender) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		if _, err := s.SendDue(ctx); err != nil && ctx.Err() == nil {
			slog.Error("mail: delivery pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SendDue claims and delivers the messages that are due now and returns
// how many were sent.
func (s *Sender) SendDue(ctx context.Context) (int, error) {
	sent := 0
	for {
		batch, err := s.claim(ctx)
		if err != nil || len(batch) == 0 {
			return sent, err
		}
		for _, m := range batch {
			if ctx.Err() != nil {
				return sent, nil // the lease brings unsent ones back
			}
			sendErr := s.deliver(m)
			if err := s.finish(ctx, m, sendErr); err != nil {
				return sent, err
			}
			if sendErr == nil {
				sent++
			}
		}
	}
}

func (s *Sender) claim(ctx context.Context) ([]Message, error) {
	var batch []Message
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.Now()
		err := database.SkipLocked(tx).
			Where("sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?", now).
			Order("next_attempt_at, id").Limit(batchSize).Find(&batch).Error
		if err != nil || len(batch) == 0 {
			return err
		}
		ids := make([]int64, len(batch))
		for i := range batch {
			ids[i] = batch[i].ID
			batch[i].Attempts++
		}
		return tx.Model(&Message{}).Where("id IN ?", ids).Updates(map[string]any{
			"attempts":        gorm.Expr("attempts + 1"),
			"next_attempt_at": now.Add(lease),
		}).Error
	})
	if err != nil {
		return nil, fmt.Errorf("mail: unable to claim messages: %w", err)
	}
	return batch, nil
}

func (s *Sender) finish(ctx context.Context, m Message, sendErr error) error {
	now := s.Now()
	update := map[string]any{}
	switch {
	case sendErr == nil:
		update["sent_at"] = now
		update["last_error"] = ""
	case m.Attempts >= maxAttempts || permanent(sendErr):
		slog.Error("mail: giving up", "id", m.ID, "to", m.Recipient, "attempts", m.Attempts, "err", sendErr)
		update["failed_at"] = now
		update["last_error"] = sendErr.Error()
	default:
		slog.Warn("mail: delivery failed, will retry", "id", m.ID, "to", m.Recipient, "attempts", m.Attempts, "err", sendErr)
		update["next_attempt_at"] = now.Add(Backoff(m.Attempts))
		update["last_error"] = sendErr.Error()
	}
	// Recorded even when ctx ends meanwhile: a delivered message left
	// unmarked would go out again when its lease ends.
	ctx = context.WithoutCancel(ctx)
	if err := s.DB.WithContext(ctx).Model(&Message{}).Where("id = ?", m.ID).Updates(update).Error; err != nil {
		return fmt.Errorf("mail: unable to record delivery of %d: %w", m.ID, err)
	}
	return nil
}

// permanent reports whether the server refused the recipient for good
// (550 mailbox unavailable, 551 not local, 553 name not allowed): trying
// again would only be refused again.
func permanent(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te) && strings.HasPrefix(err.Error(), "RCPT TO") &&
		(te.Code == 550 || te.Code == 551 || te.Code == 553)
}

// Backoff is the wait before the next attempt after n failed ones:
// 30 s doubling each time, at most an hour.
func Backoff(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
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
	dialer := &net.Dialer{Timeout: 10 * time.Second}
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
	conn.SetDeadline(time.Now().Add(60 * time.Second))
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
		return fmt.Errorf("RCPT TO %s: %w", m.Recipient, err)
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
