package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/clock"
	"admincenter/internal/database"
	"admincenter/internal/mail"
	"admincenter/internal/mail/mailtest"
	"admincenter/internal/testdb"
)

// migrated returns a handle on the migrated database at url.
func migrated(t *testing.T, url string) *gorm.DB {
	t.Helper()
	var out bytes.Buffer
	if code := run(context.Background(), []string{"migrate"}, env("DATABASE_URL", url), &out, &out); code != 0 {
		t.Fatalf("migrate: %s", out.String())
	}
	db, err := database.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlDB, _ := db.DB(); sqlDB.Close() })
	return db
}

// queue writes an email to to@example.com with the given delivery state.
func queue(t *testing.T, db *gorm.DB, to string, state map[string]any) int64 {
	t.Helper()
	if err := mail.Enqueue(db, clock.Now(), mail.Email{To: to, Subject: "Hello " + to, Body: "b"}); err != nil {
		t.Fatal(err)
	}
	var id int64
	db.Model(&mail.Message{}).Where("recipient = ?", to).Pluck("id", &id)
	if err := db.Model(&mail.Message{}).Where("id = ?", id).Updates(state).Error; err != nil {
		t.Fatal(err)
	}
	return id
}

// `admincenter mail retry` makes waiting email due now and, with --failed,
// brings back failed email; with SMTP_URL it sends the due email and says
// what went out and what did not.
func TestMailRetry(t *testing.T) {
	testdb.EachURL(t, func(t *testing.T, url string) {
		db := migrated(t, url)
		now := clock.Now()
		ids := map[string]int64{
			"waiting": queue(t, db, "waiting@example.com", map[string]any{"attempts": 9, "next_attempt_at": now.Add(time.Hour), "last_error": "connect: refused"}),
			"later":   queue(t, db, "later@example.com", map[string]any{"attempts": 2, "next_attempt_at": now.Add(time.Minute)}),
			"failed":  queue(t, db, "failed@example.com", map[string]any{"attempts": 80, "failed_at": now.Add(-time.Hour), "created_at": now.Add(-100 * time.Hour)}),
			"sent":    queue(t, db, "sent@example.com", map[string]any{"attempts": 1, "sent_at": now.Add(-time.Hour)}),
		}
		due := func(name string) bool {
			return count(t, db, "SELECT COUNT(*) FROM outbox WHERE id = ? AND sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?", ids[name], clock.Now()) == 1
		}
		ms := mailtest.Start(t)
		ms.RefuseRecipient("later@example.com", mailtest.TryLater)
		ms.RefuseRecipient("failed@example.com", mailtest.TryLater)
		smtpURL := ms.URL.String() + "?from=no-reply@admin.example.com"

		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"mail", "retry"}, env("DATABASE_URL", url), &stdout, &stderr)
		want := "Re-queued: 2 waiting for their next attempt, 0 that had failed.\n" +
			"Left failed: 1 (add --failed to send them again).\n" +
			"SMTP_URL is not set, so nothing is sent from here; a running server with SMTP_URL sends them within seconds.\n"
		if code != 0 || stdout.String() != want {
			t.Fatalf("mail retry: exit %d, printed\n%s\nwant\n%s%s", code, stdout.String(), want, stderr.String())
		}
		if !due("waiting") || !due("later") || due("failed") || due("sent") {
			t.Fatal("mail retry re-queued the wrong messages")
		}

		stdout.Reset()
		code = run(context.Background(), []string{"mail", "retry", "--failed"}, env("DATABASE_URL", url, "SMTP_URL", smtpURL), &stdout, &stderr)
		got := stdout.String()
		for _, line := range []string{
			"Re-queued: 0 waiting for their next attempt, 1 that had failed.\n",
			"Sending the due messages through " + ms.URL.Host + ":\n",
			fmt.Sprintf("  sent    #%d to waiting@example.com: \"Hello waiting@example.com\"\n", ids["waiting"]),
			fmt.Sprintf("  not yet #%d to later@example.com: RCPT TO later@example.com: 451", ids["later"]),
			// Brought back with a new max-age window: not given up again at
			// once for having been queued 100 hours ago.
			fmt.Sprintf("  not yet #%d to failed@example.com: RCPT TO failed@example.com: 451", ids["failed"]),
			"Sent: 1 of 3.\n",
		} {
			if !strings.Contains(got, line) {
				t.Errorf("mail retry --failed printed\n%s\nwithout %q", got, line)
			}
		}
		if code != 1 || !strings.Contains(stderr.String(), "not sent: 2 of 3") {
			t.Errorf("exit %d, stderr %q; want 1 and the count of unsent messages", code, stderr.String())
		}
		if n := len(ms.Received()); n != 1 {
			t.Errorf("server received %d messages, want 1", n)
		}
		for _, c := range []struct {
			name, where string
		}{
			{"waiting", "sent_at IS NOT NULL AND attempts = 10"},
			{"later", "sent_at IS NULL AND failed_at IS NULL AND attempts = 3 AND next_attempt_at > ?"},
			{"failed", "sent_at IS NULL AND failed_at IS NULL AND attempts = 1 AND retried_at IS NOT NULL AND next_attempt_at > ?"},
			{"sent", "sent_at IS NOT NULL AND attempts = 1"},
		} {
			args := []any{ids[c.name]}
			if strings.Contains(c.where, "?") {
				args = append(args, clock.Now())
			}
			if count(t, db, "SELECT COUNT(*) FROM outbox WHERE id = ? AND "+c.where, args...) != 1 {
				t.Errorf("%s: not %s", c.name, c.where)
			}
		}
	})
}

func TestMailRetryBadUsage(t *testing.T) {
	cases := [][]string{
		{"mail"},
		{"mail", "resend"},
		{"mail", "retry", "--all"},
		{"mail", "retry", "now"},
		{"mail", "retry", "--failed", "now"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), args, env("DATABASE_URL", testdb.SQLiteURL(t)), &stdout, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), "usage: admincenter mail retry [--failed]") {
				t.Fatalf("exit %d, stderr %q", code, stderr.String())
			}
		})
	}
}

// A server told to stop (SIGTERM, a deploy) gives back the email it had
// claimed but not sent before it exits, so that the next instance sends it
// at once instead of after the lease.
func TestServeGivesMailBackAtShutdown(t *testing.T) {
	testdb.EachURL(t, func(t *testing.T, url string) {
		db := migrated(t, url)
		var ids []int64
		for i := range 3 {
			ids = append(ids, queue(t, db, fmt.Sprintf("u%d@example.com", i), map[string]any{}))
		}
		ms := mailtest.Start(t)
		firstData, release := make(chan struct{}), make(chan struct{})
		calls := 0
		ms.OnData(func() {
			if calls++; calls == 1 {
				close(firstData)
				<-release
			}
		})

		l, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := l.Addr().String()
		l.Close()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "ADMINCENTER_CHILD_ARGS=serve", "DATABASE_URL="+url, "ADMINCENTER_ADDR="+addr, "SMTP_URL="+ms.URL.String())
		logs, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

		select {
		case <-firstData:
		case <-time.After(90 * time.Second):
			t.Fatal("the server sent no email")
		}
		cmd.Process.Signal(syscall.SIGTERM)
		var log strings.Builder
		lines := bufio.NewScanner(logs)
		for lines.Scan() && !strings.Contains(lines.Text(), "web: shutting down") {
			log.WriteString(lines.Text() + "\n")
		}
		close(release) // the first message is accepted once the server is stopping
		for lines.Scan() {
			log.WriteString(lines.Text() + "\n")
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("serve: %v\n%s", err, log.String())
		}

		if count(t, db, "SELECT COUNT(*) FROM outbox WHERE id = ? AND sent_at IS NOT NULL", ids[0]) != 1 {
			t.Errorf("the message being sent at shutdown was not recorded\n%s", log.String())
		}
		for _, id := range ids[1:] {
			if count(t, db, "SELECT COUNT(*) FROM outbox WHERE id = ? AND sent_at IS NULL AND attempts = 0 AND claim_token = '' AND next_attempt_at <= ?", id, clock.Now()) != 1 {
				t.Errorf("message %d was not given back, due now\n%s", id, log.String())
			}
		}
		if n := len(ms.Received()); n != 1 {
			t.Errorf("server received %d messages, want 1", n)
		}
	})
}

// A server that cannot listen stops its background work, the sender among
// it, and exits with the error instead of waiting for a signal.
func TestServeOnABusyAddressExits(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ms := mailtest.Start(t)
	var stdout, stderr bytes.Buffer
	done := make(chan int)
	go func() {
		done <- run(context.Background(), []string{"serve"}, env("DATABASE_URL", testdb.SQLiteURL(t),
			"ADMINCENTER_ADDR", l.Addr().String(), "SMTP_URL", ms.URL.String()), &stdout, &stderr)
	}()
	select {
	case code := <-done:
		if code != 1 || !strings.Contains(stderr.String(), "address already in use") {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve kept running without its listener")
	}
}
