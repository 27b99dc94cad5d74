package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"golang.org/x/crypto/bcrypt"

	"admincenter/internal/app"
	"admincenter/internal/clock"
	"admincenter/internal/config"
	"admincenter/internal/database"
	"admincenter/internal/testdb"
	"admincenter/internal/testnet"
	"admincenter/internal/users"
	"admincenter/internal/webhooks"
)

// A process killed while it delivers webhooks leaves nothing lost: the
// next one delivers every event, the one in flight again under the same
// webhook-id, and each request verifies with the Standard Webhooks
// reference library.
func TestWebhooksDeliveredAfterKill(t *testing.T) {
	testdb.EachURL(t, func(t *testing.T, url string) {
		var out bytes.Buffer
		if code := run(context.Background(), []string{"demo"}, env("DATABASE_URL", url), &out, &out); code != 0 {
			t.Fatalf("demo: %s", out.String())
		}
		db, err := database.Open(url)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { sqlDB, _ := db.DB(); sqlDB.Close() }()

		// The receiver holds every request until it is told to answer,
		// or until the sender hangs up.
		ca := testnet.NewCA(t, "Webhooks test CA")
		var mu sync.Mutex
		var secret string
		var seen []string // webhook-ids, in order
		var bad []error
		answer := make(chan struct{})
		site := testnet.StartSite(t, ca.Issue(t, "hooks.test"), func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			wh, err := standardwebhooks.NewWebhook(secret)
			if err == nil {
				err = wh.Verify(body, r.Header)
			}
			if err != nil {
				bad = append(bad, err)
			}
			seen = append(seen, r.Header.Get("webhook-id"))
			mu.Unlock()
			select {
			case <-answer:
			case <-r.Context().Done():
			}
		})
		received := func() []string {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(seen)
		}
		dns := testnet.StartDNS(t, "hooks.test. 300 IN A 127.0.0.1")
		vars := []string{"DATABASE_URL", url, "ADMINCENTER_DNS_SERVERS", dns.Addr, "ADMINCENTER_VERIFY_ALLOW_PRIVATE", "true",
			"SSL_CERT_FILE", ca.WriteFile(t)}

		// Acme Corp's Owner adds an endpoint, then five domains.
		cfg, err := config.Load(env(vars...))
		if err != nil {
			t.Fatal(err)
		}
		svc, err := app.New(cfg, db, clock.Now, bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		var owner users.User
		db.Where("email = ?", "owner@acme.test").Take(&owner)
		ep, s, err := svc.Webhooks.Create(context.Background(), owner.ID,
			webhooks.Input{URL: "https://hooks.test:" + site.PortString() + "/events", All: true})
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		secret = s
		mu.Unlock()
		for _, name := range []string{"a.test", "b.test", "c.test", "d.test", "e.test"} {
			if _, err := svc.Domains.Add(context.Background(), owner.ID, name); err != nil {
				t.Fatal(err)
			}
		}
		var events []string
		db.Model(&webhooks.Event{}).Order("id").Pluck("public_id", &events)
		if len(events) != 5 {
			t.Fatalf("%d events", len(events))
		}

		l, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := l.Addr().String()
		l.Close()
		var childEnv []string
		for i := 0; i+1 < len(vars); i += 2 {
			childEnv = append(childEnv, vars[i]+"="+vars[i+1])
		}
		childEnv = append(childEnv, "ADMINCENTER_ADDR="+addr, "ADMINCENTER_TICK=50ms", "ADMINCENTER_CLAIM_LEASE=1s")
		delivered := func() int64 {
			return count(t, db, "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = ? AND status = 'delivered'", ep.ID)
		}

		first := startChild(t, childEnv, "serve")
		waitFor(t, first, "a delivery is in flight", func() bool { return len(received()) > 0 })
		first.cmd.Process.Signal(syscall.SIGKILL)
		first.cmd.Wait()
		inFlight := received()[0]
		if delivered() != 0 {
			t.Fatalf("%d deliveries were recorded before the kill", delivered())
		}

		close(answer)
		second := startChild(t, childEnv, "serve")
		waitFor(t, second, "every event delivered", func() bool { return delivered() == 5 })
		second.cmd.Process.Signal(syscall.SIGTERM)
		second.cmd.Wait()

		got := received()
		ids := slices.Compact(slices.Sorted(slices.Values(got)))
		if !slices.Equal(ids, slices.Sorted(slices.Values(events))) {
			t.Errorf("received ids %v, want the events' %v", ids, events)
		}
		if n := slices.Index(got[1:], inFlight); n < 0 {
			t.Errorf("the event in flight at the kill, %s, was not sent again: %v", inFlight, got)
		}
		if len(bad) > 0 {
			t.Errorf("signatures that do not verify: %v", bad)
		}
		checks := []struct {
			what      string
			got, want int64
		}{
			{"deliveries left", count(t, db, "SELECT COUNT(*) FROM webhook_deliveries WHERE status <> 'delivered'"), 0},
			{"claims left", count(t, db, "SELECT COUNT(*) FROM webhook_deliveries WHERE claim_token <> ''"), 0},
			{"delivered attempts", count(t, db, "SELECT COUNT(*) FROM webhook_attempts WHERE http_status = 200"), 5},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
			}
		}
	})
}
