package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"admincenter/internal/database"
	"admincenter/internal/testdb"
)

// TestMain runs the tests, or, when a test starts this binary again with
// ADMINCENTER_CHILD_ARGS, the admincenter command itself: a real process
// that a test can kill.
func TestMain(m *testing.M) {
	if args := os.Getenv("ADMINCENTER_CHILD_ARGS"); args != "" {
		time.Local = time.UTC
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		os.Exit(run(ctx, strings.Fields(args), os.Getenv, os.Stdout, os.Stderr))
	}
	os.Exit(testdb.Main(m))
}

func env(vars ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(vars); i += 2 {
		m[vars[i]] = vars[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestBadConfigurationExitsWithStatus2(t *testing.T) {
	cases := []struct{ name, value string }{
		{"ADMINCENTER_ADDR", "nonsense"},
		{"DATABASE_URL", "mysql://x"},
		{"ADMINCENTER_BASE_URL", "localhost:8080"},
		{"ADMINCENTER_SESSION_SECRET", "short"},
		{"ADMINCENTER_DNS_SERVERS", "1.1.1.1"},
		{"ADMINCENTER_VERIFY_HTTPS_PORT", "70000"},
		{"ADMINCENTER_VERIFY_ALLOW_PRIVATE", "maybe"},
		{"SSL_CERT_FILE", "/no/such/file.pem"},
		{"ADMINCENTER_RECHECK_INTERVAL", "daily"},
		{"ADMINCENTER_GRACE_PERIOD", "-5h"},
		{"ADMINCENTER_PROPAGATION_WINDOW", "0"},
		{"ADMINCENTER_TICK", "1 minute"},
		{"SMTP_URL", "http://mail"},
		{"ADMINCENTER_MAIL_MAX_AGE", "3 days"},
		{"ADMINCENTER_DEV", "yes please"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"migrate"}, env(c.name, c.value), &stdout, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), c.name) {
				t.Fatalf("exit %d, stderr %q", code, stderr.String())
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"frobnicate"}, env(), &stdout, &stderr); code != 2 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stderr.String(), "Usage") {
		t.Fatalf("no usage: %s", stderr.String())
	}
}

func TestDemoIsIdempotent(t *testing.T) {
	testdb.EachURL(t, func(t *testing.T, url string) {
		for i, want := range []string{"Demo data added", "Demo data is already there"} {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), []string{"demo"}, env("DATABASE_URL", url), &stdout, &stderr); code != 0 {
				t.Fatalf("run %d: exit %d: %s", i, code, stderr.String())
			}
			if !strings.Contains(stdout.String(), want) || !strings.Contains(stdout.String(), "owner@acme.test") {
				t.Fatalf("run %d printed %q", i, stdout.String())
			}
		}
		db, err := database.Open(url)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { sqlDB, _ := db.DB(); sqlDB.Close() }()
		counts := map[string]int64{}
		for _, q := range []struct{ name, sql string }{
			{"organizations", "SELECT COUNT(*) FROM organizations"},
			{"acme.test sign-ups", "SELECT COUNT(*) FROM users WHERE email LIKE '%@acme.test' AND email NOT IN ('owner@acme.test','admin@acme.test','sam@acme.test')"},
			{"unmanaged", "SELECT COUNT(*) FROM users WHERE organization_id IS NULL"},
			{"unverified", "SELECT COUNT(*) FROM users WHERE email_verified_at IS NULL"},
			{"deactivated", "SELECT COUNT(*) FROM users WHERE deactivated_at IS NOT NULL"},
			{"managed by Globex at acme.test", "SELECT COUNT(*) FROM users u JOIN organizations o ON o.id = u.organization_id WHERE o.name = 'Globex' AND u.email LIKE '%@acme.test'"},
			{"several accounts", "SELECT COUNT(*) FROM (SELECT owner_id FROM accounts GROUP BY owner_id HAVING COUNT(*) > 1) s"},
		} {
			var n int64
			if err := db.Raw(q.sql).Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			counts[q.name] = n
		}
		want := map[string]int64{"organizations": 2, "acme.test sign-ups": 60, "unmanaged": 59, "unverified": 4, "deactivated": 1, "managed by Globex at acme.test": 1}
		for k, v := range want {
			if counts[k] != v {
				t.Errorf("%s: %d, want %d", k, counts[k], v)
			}
		}
		if counts["several accounts"] < 5 {
			t.Errorf("only %d people own several accounts", counts["several accounts"])
		}
	})
}

func TestServeAndShutDownGracefully(t *testing.T) {
	testdb.EachURL(t, func(t *testing.T, url string) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		ctx, cancel := context.WithCancel(context.Background())
		var stdout, stderr bytes.Buffer
		done := make(chan int)
		go func() {
			done <- run(ctx, []string{"serve", "--demo"}, env("DATABASE_URL", url, "ADMINCENTER_ADDR", addr), &stdout, &stderr)
		}()
		var resp *http.Response
		for range 100 {
			if resp, err = http.Get("http://" + addr + "/readyz"); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("the server never answered: %v\n%s", err, stderr.String())
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/readyz: %s", resp.Status)
		}
		if code := run(context.Background(), []string{"healthcheck"}, env("ADMINCENTER_ADDR", addr), &stdout, &stderr); code != 0 {
			t.Fatalf("healthcheck exit %d: %s", code, stderr.String())
		}
		resp, err = http.Get("http://" + addr + "/dev/mailbox")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("--demo did not turn on the mailbox: %v %v", err, resp)
		}
		resp.Body.Close()
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the server did not stop")
		}
		if !strings.Contains(stderr.String(), "shutting down") {
			t.Fatalf("no shutdown log:\n%s", stderr.String())
		}
	})
}
