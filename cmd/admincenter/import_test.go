package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"admincenter/internal/app"
	"admincenter/internal/clock"
	"admincenter/internal/config"
	"admincenter/internal/database"
	"admincenter/internal/imports"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
)

// An import interrupted by a killed process is finished by the next one:
// every eligible user is imported, audited and emailed exactly once.
func TestImportResumesAfterKill(t *testing.T) {
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

		// 4,000 more people signed up on their own at acme.test, with one to
		// three accounts each.
		now := time.Now().UTC()
		people := make([]users.User, 4000)
		for i := range people {
			people[i] = users.User{Email: fmt.Sprintf("signup%04d@acme.test", i), Name: fmt.Sprintf("Signup %d", i),
				PasswordHash: "x", SessionsValidAfter: now, CreatedAt: now, EmailVerifiedAt: &now}
		}
		if err := db.CreateInBatches(people, 500).Error; err != nil {
			t.Fatal(err)
		}
		var accounts []users.Account
		for i, u := range people {
			for a := range 1 + i%3 {
				accounts = append(accounts, users.Account{ID: users.NewAccountID(), Name: fmt.Sprint("project ", a), OwnerID: u.ID, CreatedAt: now})
			}
		}
		if err := db.CreateInBatches(accounts, 500).Error; err != nil {
			t.Fatal(err)
		}

		// The Owner asks for every eligible user to be imported without review.
		cfg, err := config.Load(env("DATABASE_URL", url))
		if err != nil {
			t.Fatal(err)
		}
		svc, err := app.New(cfg, db, clock.Now, bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		var owner users.User
		db.Where("email = ?", "owner@acme.test").Take(&owner)
		domainID := count(t, db, "SELECT id FROM domains WHERE name = 'acme.test'")
		imp, err := svc.Imports.Request(context.Background(), owner.ID, domainID, imports.All, true)
		if err != nil {
			t.Fatal(err)
		}

		l, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := l.Addr().String()
		l.Close()
		childEnv := []string{"DATABASE_URL=" + url, "ADMINCENTER_ADDR=" + addr, "ADMINCENTER_TICK=50ms", "ADMINCENTER_CLAIM_LEASE=1s"}
		imported := func() int64 { return count(t, db, "SELECT imported FROM imports WHERE id = ?", imp.ID) }

		first := startChild(t, childEnv, "serve")
		waitFor(t, first, "the import started", func() bool { return imported() > 0 })
		first.cmd.Process.Signal(syscall.SIGKILL)
		first.cmd.Wait()
		done := imported()
		if done >= 4000 || count(t, db, "SELECT COUNT(*) FROM imports WHERE id = ? AND status = 'importing'", imp.ID) != 1 {
			t.Fatalf("the kill came too late to interrupt the import (%d imported)", done)
		}

		second := startChild(t, childEnv, "serve")
		waitFor(t, second, "the import finished", func() bool {
			return count(t, db, "SELECT COUNT(*) FROM imports WHERE id = ? AND status = 'completed'", imp.ID) == 1
		})
		second.cmd.Process.Signal(syscall.SIGTERM)
		second.cmd.Wait()

		// The demo's 54 eligible people, and the 4,000.
		const eligible = 4054
		org := count(t, db, "SELECT id FROM organizations WHERE name = 'Acme Corp'")
		checks := []struct {
			what      string
			got, want int64
		}{
			{"imported", imported(), eligible},
			{"users waiting", count(t, db, "SELECT COUNT(*) FROM import_users WHERE import_id = ? AND outcome = ''", imp.ID), 0},
			{"users imported", count(t, db, "SELECT COUNT(*) FROM import_users WHERE import_id = ? AND outcome = 'imported'", imp.ID), eligible},
			{"new signups left out", count(t, db, "SELECT COUNT(*) FROM users WHERE email LIKE 'signup%' AND (organization_id IS NULL OR organization_id <> ?)", org), 0},
			{"their accounts left out", count(t, db, "SELECT COUNT(*) FROM accounts a JOIN users u ON u.id = a.owner_id WHERE u.email LIKE 'signup%' AND (a.organization_id IS NULL OR a.organization_id <> ?)", org), 0},
			{"imports in the audit log", count(t, db, "SELECT COUNT(*) FROM audit_log WHERE action = 'user.imported'"), eligible},
			{"users imported twice in the audit log", count(t, db, "SELECT COUNT(*) FROM (SELECT target_id FROM audit_log WHERE action = 'user.imported' GROUP BY target_id HAVING COUNT(*) > 1) d"), 0},
			{"welcome emails", count(t, db, "SELECT COUNT(*) FROM outbox WHERE subject = 'You are now managed by Acme Corp'"), eligible},
			{"people emailed twice", count(t, db, "SELECT COUNT(*) FROM (SELECT recipient FROM outbox WHERE subject = 'You are now managed by Acme Corp' GROUP BY recipient HAVING COUNT(*) > 1) d"), 0},
			{"summaries to the Owner", count(t, db, "SELECT COUNT(*) FROM outbox WHERE subject LIKE 'Import from acme.test finished%' AND recipient = 'owner@acme.test'"), 1},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
			}
		}
	})
}
