package imports_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"admincenter/internal/apperr"
	"admincenter/internal/database"
	"admincenter/internal/domains"
	"admincenter/internal/imports"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
)

// TestRequestsDuringBatchesOnPostgres clicks Start import, Add Domain and
// Delete Domain while report, notify and import batches run, on
// PostgreSQL, where a wrong lock order shows as "deadlock detected". Each
// click either does what it says or is refused with a message; none fails,
// none has to be retried, and every round ends in the same state.
func TestRequestsDuringBatchesOnPostgres(t *testing.T) {
	db := testdb.Postgres(t)
	f := newFixture(t, db)
	dom := &domains.Service{DB: db, Now: f.clk.Now, Providers: domains.DefaultBlocklist()}
	retriedBefore := database.Retried()

	const rounds, people = 4, 1200
	for round := range rounds {
		// Each round imports its own people, at its own domain.
		name := fmt.Sprintf("r%d.acme.test", round)
		d := f.verifiedDomain(t, name)
		f.people(t, name, people)

		clicks := &clickLog{}
		imp, err := f.svc.Request(f.ctx, f.owner.ID, d.ID, imports.All, false)
		if err != nil {
			t.Fatal(err)
		}
		worker := f.runInBackground()
		clicks.during(10, func(i int) error { // Add Domain while the report is generated
			_, err := dom.Add(f.ctx, f.owner.ID, fmt.Sprintf("added-%d-%d.example", round, i))
			return err
		})
		clicks.wait()
		worker.wait(t, f)
		if _, err := f.svc.RequestNotify(f.ctx, f.owner.ID, d.ID, imp.ID); err != nil {
			t.Fatal(err)
		}
		worker = f.runInBackground()
		clicks.during(12, func(int) error { // Start import while the notice is emailed
			_, err := f.svc.Start(f.ctx, f.owner.ID, d.ID, imp.ID)
			return err
		})
		clicks.during(10, func(i int) error { // Add Domain during the import
			_, err := dom.Add(f.ctx, f.owner.ID, fmt.Sprintf("during-%d-%d.example", round, i))
			return err
		})
		clicks.wait()
		worker.wait(t, f)
		clicks.check(t)

		got, err := f.svc.Get(f.ctx, f.acme.ID, d.ID, imp.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := counts{Status: imports.Completed, Expected: people, Found: people, Eligible: people, Selected: people,
			Imported: people, Notified: people}
		if got := countsOf(got); got != want {
			t.Fatalf("round %d: import %+v, want %+v", round, got, want)
		}
		if n := f.count(t, "users", "email LIKE ? AND organization_id = ?", "%@"+name, f.acme.ID); n != people {
			t.Fatalf("round %d: %d people at %s in Acme, want %d", round, n, name, people)
		}
		if n := f.count(t, "audit_log", "action = 'user.imported' AND details LIKE ?", fmt.Sprintf("Bulk User Import #%d %%", imp.ID)); n != people {
			t.Fatalf("round %d: %d audit entries of imported users, want %d", round, n, people)
		}

		// Delete Domain during an import: the import of the next people
		// stops with its domain; what it imported stays imported.
		more := fmt.Sprintf("d%d.acme.test", round)
		d2 := f.verifiedDomain(t, more)
		f.people(t, more, people)
		imp2, err := f.svc.Request(f.ctx, f.owner.ID, d2.ID, imports.All, true)
		if err != nil {
			t.Fatal(err)
		}
		worker = f.runInBackground()
		clicks = &clickLog{}
		clicks.during(4, func(i int) error {
			if i < 3 { // the others are domains added in this round
				var added domains.Domain
				if err := db.Where("name = ?", fmt.Sprintf("during-%d-%d.example", round, i)).Take(&added).Error; err != nil {
					return err
				}
				_, err := dom.Delete(f.ctx, f.owner.ID, added.ID)
				return err
			}
			time.Sleep(50 * time.Millisecond) // well into the import
			_, err := dom.Delete(f.ctx, f.owner.ID, d2.ID)
			return err
		})
		clicks.wait()
		worker.wait(t, f)
		clicks.check(t)
		if n := f.count(t, "imports", "id = ?", imp2.ID); n != 0 {
			t.Fatalf("round %d: the import of a deleted domain is still there", round)
		}
		imported := f.count(t, "users", "email LIKE ? AND organization_id = ?", "%@"+more, f.acme.ID)
		audited := f.count(t, "audit_log", "action = 'user.imported' AND details LIKE ?", fmt.Sprintf("Bulk User Import #%d %%", imp2.ID))
		emailed := f.count(t, "outbox", "recipient LIKE ? AND subject = 'You are now managed by Acme Corp'", "%@"+more)
		if imported != audited || imported != emailed {
			t.Fatalf("round %d: %d imported, %d audited, %d emailed: each imported user is audited and emailed once", round, imported, audited, emailed)
		}
	}
	if n := database.Retried() - retriedBefore; n != 0 {
		t.Errorf("%d transactions met a deadlock or serialization failure and were retried: the lock order is not kept", n)
	}
}

// clickLog runs clicks concurrently and keeps the ones that failed for a
// reason other than a message to the person who clicked.
type clickLog struct {
	mu       sync.Mutex
	failures []error
	wg       sync.WaitGroup
}

// during starts n clicks at once.
func (c *clickLog) during(n int, click func(i int) error) {
	for i := range n {
		c.wg.Go(func() {
			err := click(i)
			if err != nil && apperr.CodeOf(err) == apperr.Internal {
				c.mu.Lock()
				c.failures = append(c.failures, err)
				c.mu.Unlock()
			}
		})
	}
}

// wait waits for the clicks to be done.
func (c *clickLog) wait() { c.wg.Wait() }

// check fails the test with the clicks that failed.
func (c *clickLog) check(t *testing.T) {
	t.Helper()
	c.wait()
	for _, err := range c.failures {
		t.Errorf("a click failed: %v", err)
	}
	if len(c.failures) > 0 {
		t.FailNow()
	}
}

// background is a worker running until no work is left.
type background struct {
	done chan error
}

func (f *fixture) runInBackground() background {
	b := background{done: make(chan error, 1)}
	go func() { b.done <- f.svc.RunDue(context.Background()) }()
	return b
}

// wait waits for the worker, then runs it again: work recorded by a click
// after the worker found none left is done too.
func (b background) wait(t *testing.T, f *fixture) {
	t.Helper()
	if err := <-b.done; err != nil {
		t.Fatalf("worker: %v", err)
	}
	f.run(t)
}

// verifiedDomain adds a verified domain to Acme.
func (f *fixture) verifiedDomain(t *testing.T, name string) domains.Domain {
	t.Helper()
	now := f.clk.Now()
	d := domains.Domain{
		OrganizationID: f.acme.ID, Name: name, UnicodeName: name, Token: "twilio-domain-verification=" + name,
		FileName: name + ".html", Method: "dns", Status: domains.Verified, VerifiedAt: &now, VerifiedMethod: "dns", CreatedAt: now,
	}
	if err := f.db.Create(&d).Error; err != nil {
		t.Fatal(err)
	}
	return d
}

// people signs up n eligible people at the domain, each with an account.
func (f *fixture) people(t *testing.T, domain string, n int) {
	t.Helper()
	now := f.clk.Now()
	list := make([]users.User, n)
	for i := range list {
		list[i] = users.User{Email: fmt.Sprintf("p%d@%s", i, domain), Name: fmt.Sprint("Person ", i),
			PasswordHash: "x", SessionsValidAfter: now, CreatedAt: now, EmailVerifiedAt: &now}
	}
	if err := f.db.CreateInBatches(list, 500).Error; err != nil {
		t.Fatal(err)
	}
	accounts := make([]users.Account, n)
	for i, u := range list {
		accounts[i] = users.Account{ID: users.NewAccountID(), Name: "project", OwnerID: u.ID, CreatedAt: now}
	}
	if err := f.db.CreateInBatches(accounts, 500).Error; err != nil {
		t.Fatal(err)
	}
}
