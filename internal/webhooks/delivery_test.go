package webhooks_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/mail"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
	"admincenter/internal/webhooks"
)

// delivery returns the only delivery of the endpoint.
func (f *fixture) delivery(ep webhooks.Endpoint) webhooks.Delivery {
	f.t.Helper()
	var d webhooks.Delivery
	if err := f.db.Where("endpoint_id = ?", ep.ID).Order("id DESC").Take(&d).Error; err != nil {
		f.t.Fatal(err)
	}
	return d
}

func (f *fixture) reloadEndpoint(ep webhooks.Endpoint) webhooks.Endpoint {
	f.t.Helper()
	got, err := f.hooks.Get(f.ctx, ep.OrganizationID, ep.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return got
}

// addDomain adds a domain, which writes a domain.added event.
func (f *fixture) addDomain(name string) {
	f.t.Helper()
	if _, err := f.svc.Domains.Add(f.ctx, f.owner.ID, name); err != nil {
		f.t.Fatal(err)
	}
}

// wantBackoff fails unless the delivery's next attempt is Backoff(n) after
// at, give or take the jitter.
func wantBackoff(t *testing.T, d webhooks.Delivery, at time.Time, n int) {
	t.Helper()
	wait, base := d.NextAttemptAt.Sub(at), webhooks.Backoff(n)
	if wait < base*4/5 || wait > base*6/5 {
		t.Errorf("after %d failed attempts the next is in %s; want %s give or take a fifth", n, wait, base)
	}
}

// A receiver that fails (500, no answer in time, a redirect) and then
// recovers gets the event again, with backoff, under the same webhook-id,
// and the log shows each attempt.
func TestRetriedUntilTheReceiverRecovers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		f.hooks.Timeout = time.Second
		ep := f.endpoint("/events", webhooks.Input{All: true})
		var mu sync.Mutex
		calls := 0
		f.recv.answerWith(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			calls++
			n := calls
			mu.Unlock()
			switch n {
			case 1:
				http.Error(w, "oops\x00", http.StatusInternalServerError)
			case 2:
				time.Sleep(1500 * time.Millisecond)
			case 3:
				http.Redirect(w, r, "https://elsewhere.test/hooks", http.StatusFound)
			default:
				w.Write([]byte(`{"ok":true}`))
			}
		})
		f.addDomain("acme.test")
		for n := 1; n <= 3; n++ {
			at := f.clk.Now()
			if got := f.deliver(); got != 0 {
				t.Fatalf("attempt %d delivered", n)
			}
			d := f.delivery(ep)
			if d.Status != webhooks.Pending || d.Attempts != n || d.ClaimToken != "" {
				t.Fatalf("after attempt %d: %+v", n, d)
			}
			wantBackoff(t, d, at, n)
			if f.deliver() != 0 || len(f.recv.take()) != 1 {
				t.Fatalf("attempt %d was retried before its time", n)
			}
			f.clk.Advance(d.NextAttemptAt.Sub(f.clk.Now()))
		}
		if got := f.deliver(); got != 1 {
			t.Fatalf("the fourth attempt delivered %d", got)
		}
		got := f.recv.take()
		if len(got) != 1 {
			t.Fatalf("received %d requests", len(got))
		}
		d := f.delivery(ep)
		if d.Status != webhooks.Delivered || d.Attempts != 4 || d.DeliveredAt == nil {
			t.Fatalf("delivered: %+v", d)
		}
		log, err := f.hooks.Log(f.ctx, ep, 1)
		if err != nil {
			t.Fatal(err)
		}
		if log.Total != 1 || len(log.Items[0].History) != 4 {
			t.Fatalf("log: %+v", log)
		}
		entry := log.Items[0]
		if entry.PublicID != got[0].ID || entry.Type != "domain.added" {
			t.Errorf("the log's event is %s %s, the receiver's %s", entry.Type, entry.PublicID, got[0].ID)
		}
		type seen struct {
			Number, Status int
			Response       string
			Error          string
		}
		var attempts []seen
		for _, a := range entry.History {
			attempts = append(attempts, seen{a.Number, a.HTTPStatus, a.Response, a.Error})
		}
		want := []seen{
			{1, 500, `"oops\x00\n"`, "Answered 500 Internal Server Error."},
			{2, 0, "", "No answer within 1 second."},
			{3, 302, "",
				"Answered 302 Found, a redirect to https://elsewhere.test/hooks: deliveries do not follow redirects, so update the endpoint's address."},
			{4, 200, `"{\"ok\":true}"`, ""},
		}
		if !slices.Equal(attempts, want) {
			t.Errorf("attempts:\n%+v\nwant\n%+v", attempts, want)
		}
		if ep := f.reloadEndpoint(ep); ep.FailingSince != nil || !ep.Enabled {
			t.Errorf("a delivery did not end the run of failures: %+v", ep)
		}
	})
}

// An endpoint whose every delivery fails for three days (MaxAge) is
// disabled, the Owner alone is emailed, in the transaction that records
// the last failure, and its events are no longer kept. The delivery is
// given up at its deadline.
func TestEndpointDisabledAfterFailingForThreeDays(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		f.Member(t, f.Person(t, "ada@acme.test", true, 0), f.acme.ID, users.Admin)
		ep := f.endpoint("/down", webhooks.Input{All: true})
		f.recv.answerWith(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
		f.addDomain("acme.test")
		start := f.clk.Now()
		var times []time.Time
		for f.reloadEndpoint(ep).Enabled {
			if len(times) > 40 {
				t.Fatal("the endpoint is never disabled")
			}
			times = append(times, f.clk.Now())
			f.deliver()
			d := f.delivery(ep)
			if d.Status == webhooks.Pending {
				f.clk.Advance(d.NextAttemptAt.Sub(f.clk.Now()))
			}
		}
		last := times[len(times)-1]
		if !last.Equal(start.Add(72 * time.Hour)) {
			t.Errorf("the last attempt was %s after the first, not 72 hours", last.Sub(start))
		}
		for i := 1; i < len(times); i++ {
			if gap := times[i].Sub(times[i-1]); gap <= 0 || gap > 8*time.Hour*6/5 {
				t.Errorf("attempt %d came %s after the one before", i+1, gap)
			}
		}
		d := f.delivery(ep)
		if d.Status != webhooks.Failed || d.Attempts != len(times) || d.FailedAt == nil {
			t.Errorf("delivery: %+v after %d attempts", d, len(times))
		}
		got := f.reloadEndpoint(ep)
		if got.Enabled || !strings.HasPrefix(got.DisabledReason, "Every delivery failed for 72 hours. The last: Answered 503 Service Unavailable.") {
			t.Errorf("endpoint: %+v", got)
		}
		var emails []mail.Message
		db.Where("subject = ?", "A webhook endpoint of Acme Corp was disabled").Find(&emails)
		if len(emails) != 1 || emails[0].Recipient != "olivia@acme.test" || !strings.Contains(emails[0].Body, ep.URL) ||
			!strings.Contains(emails[0].Body, "https://admin.example.test/admin/webhooks/") {
			t.Errorf("emails: %+v", emails)
		}
		var entries []audit.Entry
		db.Where("action = ?", "webhook.auto_disabled").Find(&entries)
		if len(entries) != 1 || entries[0].Actor != "system" || entries[0].Target != ep.URL {
			t.Errorf("audit: %+v", entries)
		}
		f.addDomain("globex.test")
		if n := f.count("webhook_deliveries", "endpoint_id = ?", ep.ID); n != 1 {
			t.Errorf("a disabled endpoint has %d deliveries", n)
		}
		if len(f.recv.take()) != len(times) {
			t.Error("the receiver did not get every attempt")
		}
	})
}

// Redeliver sends an event again under its id; a test event goes to one
// endpoint only. Neither is done for a delivery under way, a disabled
// endpoint, a Standard user or another organization.
func TestRedeliverAndTestEvent(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		ep := f.endpoint("/events", webhooks.Input{Events: []string{"domain.added"}})
		other := f.endpoint("/other", webhooks.Input{All: true})
		f.addDomain("acme.test")
		sent := f.delivery(ep)
		if err := f.hooks.Redeliver(f.ctx, f.owner.ID, ep.ID, sent.ID); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("redelivering a pending delivery: %v", err)
		}
		f.deliver()
		first := f.recv.take()
		if err := f.hooks.Redeliver(f.ctx, f.owner.ID, ep.ID, sent.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.hooks.SendTest(f.ctx, f.owner.ID, ep.ID); err != nil {
			t.Fatal(err)
		}
		f.deliver()
		got := f.recv.take()
		if len(got) != 2 {
			t.Fatalf("received %+v", got)
		}
		slices.SortFunc(got, func(a, b received) int { return strings.Compare(a.Event.Type, b.Event.Type) })
		if got[0].Event.Type != "domain.added" || got[0].ID != first[0].ID || got[0].Path != "/events" || string(got[0].Body) != string(first[0].Body) {
			t.Errorf("redelivered %s %s to %s, first %s", got[0].Event.Type, got[0].ID, got[0].Path, first[0].ID)
		}
		if got[1].Event.Type != "webhook.test" || got[1].Path != "/events" ||
			!strings.Contains(string(got[1].Event.Data), `"endpoint_id":`) || !strings.Contains(string(got[1].Event.Data), "olivia@acme.test") {
			t.Errorf("test event: %s to %s", got[1].Body, got[1].Path)
		}
		log, err := f.hooks.Log(f.ctx, ep, 1)
		if err != nil || log.Total != 3 {
			t.Fatalf("log: %+v, %v", log, err)
		}

		sam := f.Member(t, f.Person(t, "sam@acme.test", true, 0), f.acme.ID, users.Standard)
		_, gloria := f.Org(t, "Globex", "gloria@globex.test")
		for _, c := range []struct {
			what string
			err  error
			code apperr.Code
		}{
			{"a Standard user's test", f.hooks.SendTest(f.ctx, sam.ID, ep.ID), apperr.Forbidden},
			{"another organization's test", f.hooks.SendTest(f.ctx, gloria.ID, ep.ID), apperr.NotFound},
			{"another organization's redelivery", f.hooks.Redeliver(f.ctx, gloria.ID, ep.ID, sent.ID), apperr.NotFound},
			{"another endpoint's delivery", f.hooks.Redeliver(f.ctx, f.owner.ID, other.ID, sent.ID), apperr.NotFound},
		} {
			if apperr.CodeOf(c.err) != c.code {
				t.Errorf("%s: %v, want %s", c.what, c.err, c.code)
			}
		}
		if _, err := f.hooks.SetEnabled(f.ctx, f.owner.ID, ep.ID, false); err != nil {
			t.Fatal(err)
		}
		if err := f.hooks.SendTest(f.ctx, f.owner.ID, ep.ID); apperr.CodeOf(err) != apperr.Conflict {
			t.Errorf("a test of a disabled endpoint: %v", err)
		}
	})
}

// A sender that stops finishes and records the request in flight and
// gives the rest of its claim back, due at once, the attempt not counted.
func TestStopGivesTheClaimBack(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		f.hooks.Concurrency = 1
		ep := f.endpoint("/events", webhooks.Input{All: true})
		inside, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		f.recv.answerWith(func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() { close(inside); <-release })
		})
		f.addDomain("acme.test")
		f.addDomain("globex.test")
		ctx, cancel := context.WithCancel(f.ctx)
		done := make(chan int)
		go func() {
			n, _ := f.hooks.RunDue(ctx)
			done <- n
		}()
		<-inside
		cancel()
		close(release)
		if n := <-done; n != 1 {
			t.Fatalf("delivered %d", n)
		}
		var list []webhooks.Delivery
		db.Where("endpoint_id = ?", ep.ID).Order("id").Find(&list)
		if len(list) != 2 || list[0].Status != webhooks.Delivered ||
			list[1].Status != webhooks.Pending || list[1].Attempts != 0 || list[1].ClaimToken != "" || list[1].NextAttemptAt.After(f.clk.Now()) {
			t.Fatalf("deliveries: %+v", list)
		}
	})
}

// Two instances sending at once deliver each event once: each delivery is
// claimed by one of them.
func TestInstancesShareTheWork(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		f.endpoint("/events", webhooks.Input{All: true})
		for i := range 30 {
			f.addDomain("d" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ".test")
		}
		other := webhooks.Service{DB: db, Now: f.clk.Now, Checker: f.hooks.Checker, HTTPSPort: f.hooks.HTTPSPort, BaseURL: f.hooks.BaseURL}
		var wg sync.WaitGroup
		counts := make([]int, 2)
		for i, s := range []*webhooks.Service{f.hooks, &other} {
			wg.Go(func() {
				n, err := s.RunDue(f.ctx)
				if err != nil {
					t.Error(err)
				}
				counts[i] = n
			})
		}
		wg.Wait()
		got := f.recv.take()
		ids := map[string]int{}
		for _, g := range got {
			ids[g.ID]++
		}
		if len(got) != 30 || len(ids) != 30 || counts[0]+counts[1] != 30 {
			t.Errorf("received %d requests of %d events; the instances delivered %v", len(got), len(ids), counts)
		}
	})
}

// A poll that finds nothing due costs one statement, however many
// senders would share the work.
func TestAnIdlePollIsOneStatement(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		f.endpoint("/events", webhooks.Input{All: true})
		n := testdb.CountStatements(t, db)
		if sent, err := f.hooks.RunDue(f.ctx); err != nil || sent != 0 {
			t.Fatalf("delivered %d, %v", sent, err)
		}
		if got := n.Load(); got != 1 {
			t.Errorf("an idle poll ran %d statements, want 1", got)
		}
	})
}
