package mail_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"admincenter/internal/mail"
	"admincenter/internal/mail/mailtest"
	"admincenter/internal/testdb"
)

// failure is a way for delivery to fail until heal is called.
type failure struct {
	name      string
	fail      func(t *testing.T, ms *mailtest.Server, s *mail.Sender)
	heal      func(ms *mailtest.Server, s *mail.Sender)
	wantError []string // parts of LastError
}

func refusal(code int, enhanced smtp.EnhancedCode, message string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: message}
}

// transientFailures are every failure that may pass: the server down, any
// 4xx, and 5xx that do not refuse the recipient (a login, sender or
// content refused: the operator can fix those).
var transientFailures = []failure{
	{"server down", func(t *testing.T, _ *mailtest.Server, s *mail.Sender) { s.Server = closedURL(t) },
		func(ms *mailtest.Server, s *mail.Sender) { u := *ms.URL; s.Server = &u }, []string{"connect to 127.0.0.1:", "refused"}},
	{"TLS handshake fails", func(_ *testing.T, _ *mailtest.Server, s *mail.Sender) { s.Server.Scheme = "smtps" },
		func(_ *mailtest.Server, s *mail.Sender) { s.Server.Scheme = "smtp" }, []string{"connect to 127.0.0.1:", "tls:"}},
	{"wrong password", func(_ *testing.T, ms *mailtest.Server, s *mail.Sender) {
		ms.RequireLogin("mailer", "right")
		s.Server.User = url.UserPassword("mailer", "wrong")
	}, func(_ *mailtest.Server, s *mail.Sender) { s.Server.User = url.UserPassword("mailer", "right") }, []string{"authenticate to 127.0.0.1:", "535"}},
	refused("MAIL", mailtest.TryLater, "MAIL FROM", "451", "Try again later"),
	refused("MAIL", refusal(550, smtp.EnhancedCode{5, 7, 1}, "Sender address rejected"), "MAIL FROM", "550"),
	refused("RCPT", mailtest.TryLater, "RCPT TO ada@example.com", "451"),
	refused("RCPT", refusal(450, smtp.EnhancedCode{4, 2, 1}, "Mailbox busy"), "RCPT TO ada@example.com", "450"),
	refused("RCPT", refusal(452, smtp.EnhancedCode{4, 2, 2}, "Mailbox full"), "RCPT TO ada@example.com", "452"),
	refused("DATA", mailtest.TryLater, "end of DATA", "451"),
	refused("DATA", refusal(554, smtp.EnhancedCode{5, 6, 0}, "Message content rejected"), "end of DATA", "554"),
}

func refused(command string, err *smtp.SMTPError, wantError ...string) failure {
	return failure{fmt.Sprintf("%d to %s", err.Code, command),
		func(_ *testing.T, ms *mailtest.Server, _ *mail.Sender) { ms.Refuse(command, err) },
		func(ms *mailtest.Server, _ *mail.Sender) { ms.Refuse(command, nil) }, wantError}
}

// Through an outage of 6 hours, longer than the 12 attempts (5 hours) mail
// once survived, every transient failure is retried with the capped
// backoff, never early, and the message goes out once the server is back.
func TestMailOutlivesALongOutage(t *testing.T) {
	const outage = 6 * time.Hour
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		for _, c := range transientFailures {
			t.Run(c.name, func(t *testing.T) {
				ms := mailtest.Start(t)
				clk := newClock()
				s := newSender(db, clk, ms)
				c.fail(t, ms, s)
				m := enqueue(t, db, clk.Now(), mail.Email{To: "ada@example.com", Subject: "s", Body: "b"})
				start := clk.Now()

				for attempt := 1; clk.Now().Before(start.Add(outage)); attempt++ {
					sendDue(t, s, 0)
					got := reread(t, db, m.ID)
					if got.SentAt != nil || got.FailedAt != nil || got.Attempts != attempt {
						t.Fatalf("attempt %d, %v into the outage: %+v", attempt, clk.Now().Sub(start), got)
					}
					for _, part := range c.wantError {
						if !strings.Contains(got.LastError, part) {
							t.Fatalf("LastError %q lacks %q", got.LastError, part)
						}
					}
					wait := mail.Backoff(attempt)
					if !got.NextAttemptAt.Equal(clk.Now().Add(wait)) {
						t.Fatalf("attempt %d: next at %v, want now + %v", attempt, got.NextAttemptAt, wait)
					}
					clk.Advance(wait - time.Second)
					sendDue(t, s, 0)
					if again := reread(t, db, m.ID); again.Attempts != attempt {
						t.Fatalf("attempt %d: retried before its backoff of %v", attempt, wait)
					}
					clk.Advance(time.Second)
				}

				c.heal(ms, s)
				sendDue(t, s, 1)
				got := reread(t, db, m.ID)
				if got.SentAt == nil || got.FailedAt != nil || got.LastError != "" {
					t.Fatalf("after the outage: %+v", got)
				}
				if n := len(ms.Received()); n != 1 {
					t.Fatalf("server received %d messages, want 1", n)
				}
			})
		}
	})
}

// logged captures the log records of the test.
type logged struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func captureLog(t *testing.T) *logged {
	l := &logged{}
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(l, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return l
}

func (l *logged) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// records returns the records whose message starts with prefix.
func (l *logged) records(t *testing.T, prefix string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if msg, _ := r["msg"].(string); strings.HasPrefix(msg, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// wantGaveUp checks the one ERROR line that tells the operator a message
// was given up.
func wantGaveUp(t *testing.T, l *logged, m mail.Message, attempts int, errPart string) {
	t.Helper()
	rs := l.records(t, "mail: giving up")
	if len(rs) != 1 {
		t.Fatalf("%d give-up log lines, want 1:\n%s", len(rs), l.buf.String())
	}
	r := rs[0]
	errText, _ := r["err"].(string)
	if r["level"] != "ERROR" || r["id"] != float64(m.ID) || r["to"] != m.Recipient || r["attempts"] != float64(attempts) || !strings.Contains(errText, errPart) {
		t.Fatalf("give-up log line %v, want level ERROR, id %d, to %s, attempts %d, err with %q", r, m.ID, m.Recipient, attempts, errPart)
	}
}

// Only a 5xx answer to RCPT TO refuses the recipient for good: the message
// fails at once, is logged and counted, and is never tried again.
func TestRecipientRefusedForGoodFailsAtOnce(t *testing.T) {
	cases := []*smtp.SMTPError{
		refusal(550, smtp.EnhancedCode{5, 1, 1}, "No such user"),
		refusal(551, smtp.EnhancedCode{5, 1, 6}, "User not local"),
		refusal(553, smtp.EnhancedCode{5, 1, 3}, "Mailbox name not allowed"),
		refusal(554, smtp.EnhancedCode{5, 7, 1}, "Relay access denied"),
		refusal(501, smtp.EnhancedCode{5, 1, 3}, "Bad recipient address syntax"),
	}
	for _, refusal := range cases {
		t.Run(fmt.Sprint(refusal.Code), func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, db *gorm.DB) {
				log := captureLog(t)
				ms := mailtest.Start(t)
				clk := newClock()
				s := newSender(db, clk, ms)
				s.Metrics = mail.NewMetrics(db)
				reg := prometheus.NewPedanticRegistry()
				reg.MustRegister(s.Metrics.Collectors()...)
				ms.Refuse("RCPT", refusal)
				m := enqueue(t, db, clk.Now(), mail.Email{To: "ghost@example.com", Subject: "s", Body: "b"})

				sendDue(t, s, 0)
				got := reread(t, db, m.ID)
				if got.FailedAt == nil || !got.FailedAt.Equal(clk.Now()) || got.SentAt != nil || got.Attempts != 1 ||
					!strings.Contains(got.LastError, fmt.Sprintf("RCPT TO ghost@example.com: %d", refusal.Code)) {
					t.Fatalf("after a %d: %+v", refusal.Code, got)
				}
				wantGaveUp(t, log, m, 1, fmt.Sprint(refusal.Code))
				wantScrape(t, reg, map[string]float64{
					"admincenter_mail_attempts_total outcome=failed": 1,
					"admincenter_mail_outbox state=pending":          0,
					"admincenter_mail_outbox state=failed":           1,
				})

				ms.Refuse("RCPT", nil)
				clk.Advance(24 * time.Hour)
				sendDue(t, s, 0)
				if again := reread(t, db, m.ID); again.Attempts != 1 || ms.Rcpts() != 1 {
					t.Fatalf("tried again: %d attempts", again.Attempts)
				}
			})
		})
	}
}

// A message that cannot be delivered is retried for the maximum age since
// it was queued, the last attempt falling on it, then given up: logged with
// its id, counted, and shown by the outbox gauge.
func TestGivesUpAtMaxAge(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		log := captureLog(t)
		ms := mailtest.Start(t)
		ms.Refuse("RCPT", mailtest.TryLater)
		clk := newClock()
		s := newSender(db, clk, ms)
		s.Metrics = mail.NewMetrics(db)
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(s.Metrics.Collectors()...)
		m := enqueue(t, db, clk.Now(), mail.Email{To: "ada@example.com", Subject: "s", Body: "b"})
		deadline := clk.Now().Add(maxAge)

		attempts := 0
		for {
			sendDue(t, s, 0)
			attempts++
			got := reread(t, db, m.ID)
			if got.Attempts != attempts || ms.Rcpts() != attempts {
				t.Fatalf("attempt %d: %+v, %d tries seen by the server", attempts, got, ms.Rcpts())
			}
			if got.FailedAt != nil {
				if !clk.Now().Equal(deadline) || !got.FailedAt.Equal(deadline) {
					t.Fatalf("gave up at %v, want at the max age %v", got.FailedAt, deadline)
				}
				break
			}
			if got.NextAttemptAt.After(deadline) {
				t.Fatalf("attempt %d: next at %v, after the max age %v", attempts, got.NextAttemptAt, deadline)
			}
			clk.Advance(got.NextAttemptAt.Sub(clk.Now()))
		}
		if attempts < 70 {
			t.Fatalf("gave up after %d attempts, want hourly ones for %v", attempts, maxAge)
		}
		wantGaveUp(t, log, m, attempts, "451")
		wantScrape(t, reg, map[string]float64{
			"admincenter_mail_attempts_total outcome=retry":  float64(attempts - 1),
			"admincenter_mail_attempts_total outcome=failed": 1,
			"admincenter_mail_outbox state=pending":          0,
			"admincenter_mail_outbox state=failed":           1,
		})

		// Failed for good: never tried again, even once the server accepts.
		ms.Refuse("RCPT", nil)
		clk.Advance(24 * time.Hour)
		sendDue(t, s, 0)
		if got := reread(t, db, m.ID); ms.Rcpts() != attempts || got.SentAt != nil || got.FailedAt == nil {
			t.Fatalf("after giving up: %+v, %d tries seen by the server", got, ms.Rcpts())
		}
	})
}

// The metrics count each instance's attempts by outcome, and the outbox by
// state from the database, as every instance sees it.
func TestMetrics(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		ms := mailtest.Start(t)
		clk := newClock()
		s := newSender(db, clk, ms)
		s.Metrics = mail.NewMetrics(db)
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(s.Metrics.Collectors()...)
		wantScrape(t, reg, map[string]float64{
			"admincenter_mail_outbox state=pending": 0,
			"admincenter_mail_outbox state=failed":  0,
		})

		ms.RefuseRecipient("later@example.com", mailtest.TryLater)
		ms.RefuseRecipient("ghost@example.com", refusal(550, smtp.EnhancedCode{5, 1, 1}, "No such user"))
		for _, to := range []string{"ada@example.com", "later@example.com", "ghost@example.com", "bob@example.com"} {
			enqueue(t, db, clk.Now(), mail.Email{To: to, Subject: "s", Body: "b"})
		}
		enqueue(t, db, clk.Now().Add(time.Hour), mail.Email{To: "tomorrow@example.com", Subject: "s", Body: "b"})
		sendDue(t, s, 2)
		wantScrape(t, reg, map[string]float64{
			"admincenter_mail_attempts_total outcome=sent":   2,
			"admincenter_mail_attempts_total outcome=retry":  1,
			"admincenter_mail_attempts_total outcome=failed": 1,
			"admincenter_mail_outbox state=pending":          2,
			"admincenter_mail_outbox state=failed":           1,
		})
	})
}

// scrape gathers the registry as /metrics would, as "name label=value..."
// → value.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += " " + l.GetName() + "=" + l.GetValue()
			}
			switch {
			case m.Counter != nil:
				out[key] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func wantScrape(t *testing.T, reg *prometheus.Registry, want map[string]float64) {
	t.Helper()
	if got := scrape(t, reg); !maps.Equal(got, want) {
		t.Fatalf("scraped %v\nwant %v", got, want)
	}
}
