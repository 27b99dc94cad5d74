package mail_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/url"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/clock"
	"admincenter/internal/mail"
	"admincenter/internal/mail/mailtest"
	"admincenter/internal/testdb"
)

const maxAge = 72 * time.Hour // ADMINCENTER_MAIL_MAX_AGE's default

func newSender(db *gorm.DB, clk *clock.Fake, ms *mailtest.Server) *mail.Sender {
	server := *ms.URL
	return &mail.Sender{DB: db, Server: &server, From: "no-reply@admin.example.com", Now: clk.Now, Interval: time.Hour, MaxAge: maxAge}
}

// sendDue runs one delivery pass and checks how many it reports sent.
func sendDue(t *testing.T, s *mail.Sender, want int) {
	t.Helper()
	n, err := s.SendDue(context.Background())
	if err != nil {
		t.Fatalf("SendDue: %v", err)
	}
	if n != want {
		t.Fatalf("SendDue sent %d, want %d", n, want)
	}
}

func reread(t *testing.T, db *gorm.DB, id int64) mail.Message {
	t.Helper()
	m, err := (&mail.Outbox{DB: db}).ByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// closedURL returns the URL of a loopback port where nothing listens.
func closedURL(t *testing.T) *url.URL {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return &url.URL{Scheme: "smtp", Host: addr}
}

func TestBackoff(t *testing.T) {
	cases := []struct {
		attempts int
		want     time.Duration
	}{
		{0, 30 * time.Second},
		{1, 30 * time.Second},
		{2, time.Minute},
		{3, 2 * time.Minute},
		{4, 4 * time.Minute},
		{5, 8 * time.Minute},
		{6, 16 * time.Minute},
		{7, 32 * time.Minute},
		{8, time.Hour},
		{9, time.Hour},
		{11, time.Hour},
		{12, time.Hour},
		{1000, time.Hour},
	}
	for _, c := range cases {
		if got := mail.Backoff(c.attempts); got != c.want {
			t.Errorf("Backoff(%d) = %v, want %v", c.attempts, got, c.want)
		}
	}
}

func TestDelivery(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ms := mailtest.Start(t)
		clk := newClock()
		s := newSender(db, clk, ms)
		created := clk.Now().Add(1500 * time.Millisecond)
		body := strings.Join([]string{
			"Hello Zoë,",
			"",
			"Your rôle in Ünïcode GmbH changed — ✓.",
			".",
			".A line that starts with a dot.",
			"Two = signs == here, and trailing spaces   ",
			strings.Repeat("A long line without breaks. ", 10),
			"https://admin.example.com/verify?token=abc%2Bdef=&x=1",
			"",
		}, "\n")
		e := mail.Email{To: "zoe@example.com", Subject: "Ihre Rolle in Ünïcode GmbH wurde geändert ✓", Body: body}
		m := enqueue(t, db, created, e)
		clk.Advance(time.Minute)

		sendDue(t, s, 1)

		got := ms.Received()
		if len(got) != 1 {
			t.Fatalf("server received %d messages, want 1", len(got))
		}
		if got[0].From != "no-reply@admin.example.com" || strings.Join(got[0].To, ",") != "zoe@example.com" {
			t.Errorf("envelope from %q to %v", got[0].From, got[0].To)
		}
		msg, err := netmail.ReadMessage(bytes.NewReader(got[0].Data))
		if err != nil {
			t.Fatalf("unparsable message: %v\n%s", err, got[0].Data)
		}
		from, err := netmail.ParseAddress(msg.Header.Get("From"))
		if err != nil || from.Address != "no-reply@admin.example.com" || from.Name != "Admin Center" {
			t.Errorf("From: %q (%v)", msg.Header.Get("From"), err)
		}
		to, err := msg.Header.AddressList("To")
		if err != nil || len(to) != 1 || to[0].Address != "zoe@example.com" {
			t.Errorf("To: %q (%v)", msg.Header.Get("To"), err)
		}
		rawSubject := msg.Header.Get("Subject")
		if !strings.HasPrefix(rawSubject, "=?utf-8?q?") || !isASCII(rawSubject) {
			t.Errorf("Subject %q is not an encoded word", rawSubject)
		}
		if subject, err := new(mime.WordDecoder).DecodeHeader(rawSubject); err != nil || subject != e.Subject {
			t.Errorf("Subject decodes to %q (%v), want %q", subject, err, e.Subject)
		}
		if date, err := msg.Header.Date(); err != nil || !date.Equal(created.Truncate(time.Second)) {
			t.Errorf("Date: %q (%v), want %v", msg.Header.Get("Date"), err, created)
		}
		if id := msg.Header.Get("Message-ID"); id != fmt.Sprintf("<outbox-%d@admin.example.com>", m.ID) {
			t.Errorf("Message-ID: %q", id)
		}
		for header, want := range map[string]string{
			"MIME-Version":              "1.0",
			"Content-Type":              "text/plain; charset=utf-8",
			"Content-Transfer-Encoding": "quoted-printable",
		} {
			if got := msg.Header.Get(header); got != want {
				t.Errorf("%s: %q, want %q", header, got, want)
			}
		}

		raw, _ := io.ReadAll(msg.Body)
		for i, line := range strings.Split(string(raw), "\r\n") {
			if len(line) > 76 || !isASCII(line) {
				t.Errorf("body line %d is not quoted-printable: %q", i+1, line)
			}
		}
		decoded, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.ReplaceAll(string(decoded), "\r\n", "\n"); got != body {
			t.Errorf("body decodes to\n%q\nwant\n%q", got, body)
		}

		sent := reread(t, db, m.ID)
		if sent.SentAt == nil || !sent.SentAt.Equal(clk.Now()) || sent.FailedAt != nil || sent.Attempts != 1 || sent.LastError != "" {
			t.Errorf("after delivery: %+v", sent)
		}

		// Delivered once: later passes, even after the lease, leave it be.
		sendDue(t, s, 0)
		clk.Advance(24 * time.Hour)
		sendDue(t, s, 0)
		if n := len(ms.Received()); n != 1 {
			t.Fatalf("server received %d messages, want 1", n)
		}
	})
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Messages not yet due wait; the due ones go oldest first.
func TestSendDueOnlyDueMessages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ms := mailtest.Start(t)
		clk := newClock()
		s := newSender(db, clk, ms)
		now := clk.Now()
		enqueue(t, db, now, mail.Email{To: "b@example.com", Subject: "second", Body: "b"})
		enqueue(t, db, now.Add(-time.Minute), mail.Email{To: "a@example.com", Subject: "first", Body: "a"})
		enqueue(t, db, now.Add(time.Minute), mail.Email{To: "c@example.com", Subject: "future", Body: "c"})

		sendDue(t, s, 2)
		var order []string
		for _, r := range ms.Received() {
			order = append(order, strings.Join(r.To, ","))
		}
		if strings.Join(order, " ") != "a@example.com b@example.com" {
			t.Fatalf("delivered %v, want the due ones, oldest first", order)
		}
		clk.Advance(time.Minute)
		sendDue(t, s, 1)
		if n := len(ms.Received()); n != 3 {
			t.Fatalf("server received %d messages, want 3", n)
		}
	})
}

func TestSenderAddress(t *testing.T) {
	db := testdb.SQLite(t)
	cases := []struct {
		name, query, from, want string
	}{
		{"From field", "", "no-reply@admin.example.com", "no-reply@admin.example.com"},
		{"from parameter wins", "from=alerts%40example.org", "no-reply@admin.example.com", "alerts@example.org"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ms := mailtest.Start(t)
			clk := newClock()
			s := newSender(db, clk, ms)
			s.Server.RawQuery = c.query
			s.From = c.from
			m := enqueue(t, db, clk.Now(), mail.Email{To: "ada@example.com", Subject: "s", Body: "b"})
			sendDue(t, s, 1)
			got := ms.Received()
			if len(got) != 1 || got[0].From != c.want {
				t.Fatalf("received %+v, want envelope from %s", got, c.want)
			}
			msg, err := netmail.ReadMessage(bytes.NewReader(got[0].Data))
			if err != nil {
				t.Fatal(err)
			}
			addr, err := netmail.ParseAddress(msg.Header.Get("From"))
			if err != nil || addr.Address != c.want {
				t.Fatalf("From: %q, want %s", msg.Header.Get("From"), c.want)
			}
			domain := c.want[strings.IndexByte(c.want, '@'):]
			if id := msg.Header.Get("Message-ID"); id != fmt.Sprintf("<outbox-%d%s>", m.ID, domain) {
				t.Fatalf("Message-ID: %q", id)
			}
		})
	}
}

func TestDeliveredOnceServerAcceptsAgain(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ms := mailtest.Start(t)
		clk := newClock()
		s := newSender(db, clk, ms)
		m := enqueue(t, db, clk.Now(), mail.Email{To: "ada@example.com", Subject: "Welcome", Body: "Hello"})
		ms.Refuse("RCPT", mailtest.TryLater)
		sendDue(t, s, 0)
		if got := reread(t, db, m.ID); got.Attempts != 1 || got.LastError == "" {
			t.Fatalf("after refusal: %+v", got)
		}

		ms.Refuse("RCPT", nil)
		clk.Advance(30*time.Second - time.Microsecond)
		sendDue(t, s, 0)
		clk.Advance(time.Microsecond)
		sendDue(t, s, 1)

		got := reread(t, db, m.ID)
		if got.SentAt == nil || !got.SentAt.Equal(clk.Now()) || got.Attempts != 2 || got.LastError != "" || got.FailedAt != nil {
			t.Fatalf("after retry: %+v", got)
		}
		if r := ms.Received(); len(r) != 1 || ms.Rcpts() != 2 {
			t.Fatalf("server received %d messages in %d attempts, want 1 in 2", len(r), ms.Rcpts())
		}
		clk.Advance(time.Hour)
		sendDue(t, s, 0)
		if n := len(ms.Received()); n != 1 {
			t.Fatalf("delivered %d times", n)
		}
	})
}

func TestAuthPlain(t *testing.T) {
	cases := []struct {
		name       string
		host       string // how the sender names the loopback server
		user       *url.Userinfo
		wantLogins []mailtest.Login
	}{
		{"no credentials", "127.0.0.1", nil, nil},
		{"user and password", "127.0.0.1", url.UserPassword("mailer", "s3cret"), []mailtest.Login{{User: "mailer", Password: "s3cret"}}},
		{"localhost", "localhost", url.UserPassword("mailer", "s3cret"), []mailtest.Login{{User: "mailer", Password: "s3cret"}}},
		{"escaped characters", "127.0.0.1", url.UserPassword("mailer@example.com", "p@ss:w/rd ü%"), []mailtest.Login{{User: "mailer@example.com", Password: "p@ss:w/rd ü%"}}},
		{"empty password", "127.0.0.1", url.User("mailer"), []mailtest.Login{{User: "mailer", Password: ""}}},
	}
	db := testdb.SQLite(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ms := mailtest.Start(t)
			clk := newClock()
			s := newSender(db, clk, ms)
			// Parse the URL as the configuration does, to include its escaping.
			u := &url.URL{Scheme: "smtp", User: c.user, Host: net.JoinHostPort(c.host, ms.URL.Port())}
			server, err := url.Parse(u.String())
			if err != nil {
				t.Fatal(err)
			}
			s.Server = server
			enqueue(t, db, clk.Now(), mail.Email{To: "ada@example.com", Subject: "s", Body: "b"})
			sendDue(t, s, 1)
			if got := ms.Logins(); fmt.Sprint(got) != fmt.Sprint(c.wantLogins) {
				t.Fatalf("logins %v, want %v", got, c.wantLogins)
			}
		})
	}
}

// Once the server has accepted the message, a connection lost at QUIT must
// not send it a second time.
func TestLostQuitAfterAcceptedMessage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ms := mailtest.Start(t)
		ms.DropQuit(true)
		clk := newClock()
		s := newSender(db, clk, ms)
		m := enqueue(t, db, clk.Now(), mail.Email{To: "ada@example.com", Subject: "s", Body: "b"})

		sendDue(t, s, 1)
		if got := reread(t, db, m.ID); got.SentAt == nil || got.LastError != "" {
			t.Fatalf("accepted message recorded as %+v", got)
		}
		clk.Advance(time.Hour)
		sendDue(t, s, 0)
		if n := len(ms.Received()); n != 1 {
			t.Fatalf("delivered %d times", n)
		}
	})
}

// Run delivers at once, then stops when its context ends.
func TestRun(t *testing.T) {
	db := testdb.SQLite(t)
	ms := mailtest.Start(t)
	clk := newClock()
	s := newSender(db, clk, ms)
	m := enqueue(t, db, clk.Now(), mail.Email{To: "ada@example.com", Subject: "s", Body: "b"})
	delivered := make(chan struct{}, 1)
	ms.OnData(func() { delivered <- struct{}{} })

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	select {
	case <-delivered:
	case <-time.After(time.Minute):
		t.Fatal("Run delivered nothing")
	}
	stop()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Run did not stop with its context")
	}
	if got := reread(t, db, m.ID); got.SentAt == nil {
		t.Fatalf("message not recorded as sent: %+v", got)
	}
}
