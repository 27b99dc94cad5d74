package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/database"
	"admincenter/internal/testdb"
	"admincenter/internal/testnet"
	"admincenter/internal/users"
)

// child is the admincenter command running as its own process.
type child struct {
	cmd *exec.Cmd
	out bytes.Buffer
}

func startChild(t *testing.T, env []string, args string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(os.Args[0], "-test.run=^$")}
	c.cmd.Env = append(append(os.Environ(), env...), "ADMINCENTER_CHILD_ARGS="+args)
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.cmd.Process.Kill(); c.cmd.Wait() })
	return c
}

// waitFor polls the database until cond holds.
func waitFor(t *testing.T, c *child, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s\n%s", what, c.out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func count(t *testing.T, db *gorm.DB, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.Raw(sql, args...).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// An expiry interrupted by a killed process is finished by the next one,
// and every user is removed, audited and emailed exactly once.
func TestExpiryResumesAfterKill(t *testing.T) {
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

		// Acme Corp manages a thousand more people at acme.test, and the
		// domain's re-validation deadline has just passed.
		org := count(t, db, "SELECT id FROM organizations WHERE name = 'Acme Corp'")
		now := time.Now().UTC()
		people := make([]users.User, 1000)
		for i := range people {
			people[i] = users.User{Email: fmt.Sprintf("staff%04d@acme.test", i), Name: fmt.Sprintf("Staff %d", i),
				PasswordHash: "x", SessionsValidAfter: now, CreatedAt: now, OrganizationID: &org, Role: users.Standard, JoinedAt: &now}
		}
		if err := db.CreateInBatches(people, 200).Error; err != nil {
			t.Fatal(err)
		}
		past := now.Add(-time.Minute)
		started := now.Add(-30 * 24 * time.Hour)
		// The demo verified acme.test for Acme Corp.
		err = db.Exec(`UPDATE domains SET status = 'revalidating', verified_at = ?, next_check_at = ?,
			revalidation_started_at = ?, deadline_at = ?, warned_first_at = ?, warned_last_at = ?
			WHERE organization_id = ? AND name = 'acme.test'`, started, past, started, past, past, past, org).Error
		if err != nil {
			t.Fatal(err)
		}
		atDomain := count(t, db, "SELECT COUNT(*) FROM users WHERE organization_id = ? AND email LIKE '%@acme.test' AND role <> 'owner'", org)

		dns := testnet.StartDNS(t) // answers NXDOMAIN: the proof is gone
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := l.Addr().String()
		l.Close()
		childEnv := []string{"DATABASE_URL=" + url, "ADMINCENTER_ADDR=" + addr, "ADMINCENTER_DNS_SERVERS=" + dns.Addr,
			"ADMINCENTER_TICK=50ms", "ADMINCENTER_CLAIM_LEASE=1s", "ADMINCENTER_VERIFY_ALLOW_PRIVATE=true"}

		first := startChild(t, childEnv, "serve")
		removed := func() int64 {
			return count(t, db, "SELECT COUNT(*) FROM expiry_removals WHERE outcome = 'removed'")
		}
		waitFor(t, first, "the expiry started removing users", func() bool { return removed() >= 20 })
		first.cmd.Process.Signal(syscall.SIGKILL)
		first.cmd.Wait()

		left := count(t, db, "SELECT COUNT(*) FROM expiry_removals WHERE outcome = 'pending'")
		if left == 0 || count(t, db, "SELECT COUNT(*) FROM domain_expiries WHERE finished_at IS NULL") != 1 {
			t.Fatalf("the kill came too late to interrupt the expiry (%d pending)", left)
		}

		second := startChild(t, childEnv, "serve")
		waitFor(t, second, "the expiry finished", func() bool {
			return count(t, db, "SELECT COUNT(*) FROM domain_expiries WHERE finished_at IS NOT NULL") == 1
		})
		second.cmd.Process.Signal(syscall.SIGTERM)
		second.cmd.Wait()

		checks := []struct {
			what string
			got  int64
			want int64
		}{
			{"users recorded for removal", count(t, db, "SELECT COUNT(*) FROM expiry_removals"), atDomain},
			{"users removed", removed(), atDomain},
			{"managed users left at acme.test", count(t, db, "SELECT COUNT(*) FROM users WHERE organization_id = ? AND email LIKE '%@acme.test'", org), 1},
			{"users removed twice in the audit log", count(t, db, "SELECT COUNT(*) FROM (SELECT target_id FROM audit_log WHERE action = 'member.removed' GROUP BY target_id HAVING COUNT(*) > 1) d"), 0},
			{"removals in the audit log", count(t, db, "SELECT COUNT(*) FROM audit_log WHERE action = 'member.removed'"), atDomain},
			{"expiries in the audit log", count(t, db, "SELECT COUNT(*) FROM audit_log WHERE action = 'domain.expired'"), 1},
			{"people emailed twice", count(t, db, "SELECT COUNT(*) FROM (SELECT recipient FROM outbox WHERE subject = 'You are no longer managed by Acme Corp' GROUP BY recipient HAVING COUNT(*) > 1) d"), 0},
			{"removal emails", count(t, db, "SELECT COUNT(*) FROM outbox WHERE subject = 'You are no longer managed by Acme Corp'"), atDomain},
			{"summaries to the Owner", count(t, db, "SELECT COUNT(*) FROM outbox WHERE subject = 'acme.test was deleted from Acme Corp' AND recipient = 'owner@acme.test'"), 1},
			{"domains left", count(t, db, "SELECT COUNT(*) FROM domains WHERE name = 'acme.test'"), 0},
			{"accounts outside the organization", count(t, db, "SELECT COUNT(*) FROM accounts a JOIN users u ON u.id = a.owner_id WHERE u.email LIKE '%@acme.test' AND u.organization_id IS NULL AND a.organization_id = ?", org), 0},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
			}
		}
	})
}
