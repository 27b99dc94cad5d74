// Package testdb gives tests fresh, migrated databases: SQLite in a
// temporary folder, and PostgreSQL from TEST_DATABASE_URL or else from a
// throwaway cluster started with Debian's initdb and pg_ctl. With CI=true a
// missing PostgreSQL fails the test instead of skipping it.
package testdb

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/database"
)

func init() { time.Local = time.UTC }

// Main runs a package's tests, then stops the cluster it started, if any.
// Use it from TestMain: os.Exit(testdb.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	pg.shutdown()
	return code
}

// Each runs f once on SQLite and once on PostgreSQL, as subtests.
func Each(t *testing.T, f func(t *testing.T, db *gorm.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { f(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, Postgres(t)) })
}

// EachURL is Each for tests that need a DATABASE_URL rather than a handle.
func EachURL(t *testing.T, f func(t *testing.T, url string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { f(t, SQLiteURL(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, PostgresURL(t)) })
}

// SQLiteURL returns the DATABASE_URL of a new, empty SQLite database.
func SQLiteURL(t testing.TB) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "admincenter.db")
}

// SQLite returns a new migrated SQLite database.
func SQLite(t testing.TB) *gorm.DB {
	return open(t, SQLiteURL(t))
}

// PostgresURL returns the URL of a new, migrated PostgreSQL database that
// is dropped when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin, err := pg.start()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required in CI: %v", err)
		}
		t.Skipf("PostgreSQL not available: %v", err)
	}
	name := fmt.Sprintf("admincenter_t%d_%d", os.Getpid(), pg.seq.Add(1))
	if err := pg.exec("CREATE DATABASE " + name + " TEMPLATE " + pg.template); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() {
		if err := pg.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("testdb: %v", err)
		}
	})
	return withDatabase(admin, name)
}

// Postgres returns a new migrated PostgreSQL database.
func Postgres(t testing.TB) *gorm.DB {
	return open(t, PostgresURL(t))
}

func open(t testing.TB, url string) *gorm.DB {
	t.Helper()
	db, err := database.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	if err := database.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

func withDatabase(rawURL, name string) string {
	u, _ := url.Parse(rawURL)
	u.Path = "/" + name
	return u.String()
}

// pg is the PostgreSQL server of this test process, started on first use.
var pg cluster

type cluster struct {
	once     sync.Once
	err      error
	admin    string // URL of the maintenance database
	template string // a migrated database copied for each test
	dir      string // the throwaway cluster's folder, if we started one
	pgCtl    string
	seq      atomic.Int64
	adminDB  *gorm.DB
}

func (c *cluster) start() (string, error) {
	c.once.Do(func() {
		c.admin = os.Getenv("TEST_DATABASE_URL")
		if c.admin == "" {
			if c.admin, c.err = c.startCluster(); c.err != nil {
				return
			}
		}
		if c.adminDB, c.err = database.Open(c.admin); c.err != nil {
			return
		}
		c.template = fmt.Sprintf("admincenter_tmpl%d", os.Getpid())
		if c.err = c.exec("CREATE DATABASE " + c.template); c.err != nil {
			return
		}
		tmpl, err := database.Open(withDatabase(c.admin, c.template))
		if err != nil {
			c.err = err
			return
		}
		c.err = database.Migrate(context.Background(), tmpl)
		if sqlDB, err := tmpl.DB(); err == nil {
			sqlDB.Close()
		}
	})
	return c.admin, c.err
}

func (c *cluster) exec(sql string) error {
	if err := c.adminDB.Exec(sql).Error; err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

func (c *cluster) shutdown() {
	if c.adminDB != nil && c.template != "" {
		c.exec("DROP DATABASE IF EXISTS " + c.template + " WITH (FORCE)")
	}
	if c.adminDB != nil {
		if sqlDB, err := c.adminDB.DB(); err == nil {
			sqlDB.Close()
		}
	}
	if c.dir != "" {
		c.asPostgres(c.pgCtl, "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop").Run()
		os.RemoveAll(c.dir)
	}
}

// startCluster creates a cluster in a temporary folder and starts it on a
// free loopback port, with durability off since it lives for one test run.
func (c *cluster) startCluster() (string, error) {
	initdbs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(initdbs) == 0 {
		return "", fmt.Errorf("no /usr/lib/postgresql/*/bin/initdb (install the postgresql package) and no TEST_DATABASE_URL")
	}
	sort.Slice(initdbs, func(i, j int) bool { return version(initdbs[i]) < version(initdbs[j]) })
	initdb := initdbs[len(initdbs)-1]
	c.pgCtl = filepath.Join(filepath.Dir(initdb), "pg_ctl")
	dir, err := os.MkdirTemp("", "admincenter-pg-")
	if err != nil {
		return "", err
	}
	c.dir = dir
	if os.Geteuid() == 0 {
		pgUser, err := user.Lookup("postgres")
		if err != nil {
			return "", fmt.Errorf("running as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(pgUser.Uid)
		gid, _ := strconv.Atoi(pgUser.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return "", err
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := c.asPostgres(initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "-N").CombinedOutput(); err != nil {
		return "", fmt.Errorf("initdb: %v: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, dir)
	if out, err := c.asPostgres(c.pgCtl, "-D", data, "-l", filepath.Join(dir, "log"), "-o", opts, "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return "", fmt.Errorf("pg_ctl start: %v: %s %s", err, out, log)
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port), nil
}

// asPostgres runs a PostgreSQL program as the postgres user when we are
// root (the server refuses to run as root), else as ourselves.
func (c *cluster) asPostgres(name string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

func version(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
