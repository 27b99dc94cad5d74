// Package database opens the product's database (PostgreSQL in production,
// SQLite as the embedded default), applies the versioned migrations and
// answers the few questions that differ between the two dialects.
package database

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	mathrand "math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"admincenter/migrations"
)

// Open connects to the database named by a DATABASE_URL value:
// postgres://… or sqlite://PATH (the folder is created if needed).
func Open(rawURL string) (*gorm.DB, error) {
	var dialector gorm.Dialector
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		dialector = postgres.Open(rawURL)
	case strings.HasPrefix(rawURL, "sqlite://"):
		path := strings.TrimPrefix(rawURL, "sqlite://")
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("database: unable to create the folder of %s: %w", path, err)
		}
		// WAL lets pages read while the ticker writes; immediate transactions
		// take the write lock up front, so two writers wait for each other
		// instead of failing with SQLITE_BUSY halfway through.
		q := url.Values{}
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
		dialector = sqlite.Open("file:" + path + "?" + q.Encode())
	default:
		return nil, fmt.Errorf("database: unsupported DATABASE_URL %q: want postgres://… or sqlite://PATH", rawURL)
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		TranslateError: true,
		Logger:         slowQueryLogger{threshold: 500 * time.Millisecond},
	})
	if err != nil {
		return nil, fmt.Errorf("database: unable to open: %w", err)
	}
	sqlDB, _ := db.DB()
	if IsSQLite(db) {
		sqlDB.SetMaxOpenConns(4)
	} else {
		// Keep connections open: setting one up costs far more than a query.
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	return db, nil
}

// slowQueryLogger logs only slow statements: failed ones are returned to
// their callers, who wrap and report them.
type slowQueryLogger struct{ threshold time.Duration }

func (l slowQueryLogger) LogMode(logger.LogLevel) logger.Interface { return l }
func (slowQueryLogger) Info(context.Context, string, ...any)       {}
func (slowQueryLogger) Warn(context.Context, string, ...any)       {}
func (slowQueryLogger) Error(context.Context, string, ...any)      {}
func (l slowQueryLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if elapsed := time.Since(begin); elapsed > l.threshold {
		sql, rows := fc()
		slog.WarnContext(ctx, "database: slow query", "duration", elapsed, "rows", rows, "sql", sql)
	}
}

// IsSQLite reports whether db is the embedded SQLite database.
func IsSQLite(db *gorm.DB) bool { return db.Dialector.Name() == "sqlite" }

// SkipLocked adds FOR NO KEY UPDATE SKIP LOCKED to a query that claims
// background work on PostgreSQL, where several instances compete. SQLite
// needs no clause: its immediate transactions let one writer in at a time.
func SkipLocked(db *gorm.DB) *gorm.DB {
	if IsSQLite(db) {
		return db
	}
	return db.Clauses(clause.Locking{Strength: noKeyUpdate, Options: clause.LockingOptionsSkipLocked})
}

const noKeyUpdate = "NO KEY UPDATE"

// Lazy lets a PostgreSQL transaction commit without waiting for its write
// to reach the disk. Use it only where losing the last moments of work in a
// crash is harmless because the work is redone (claims, passing
// re-checks); SQLite commits as it always does.
func Lazy(tx *gorm.DB) error {
	if IsSQLite(tx) {
		return nil
	}
	return tx.Exec("SET LOCAL synchronous_commit = off").Error
}

// Analyze refreshes PostgreSQL's statistics of a table that just grew a
// lot, so that the next statements over it use its indexes.
func Analyze(tx *gorm.DB, table string) error {
	if IsSQLite(tx) {
		return nil
	}
	return tx.Exec("ANALYZE " + table).Error
}

// Locks. Every transaction that locks more than one kind of row takes
// them in this order, so that two transactions never wait for each other:
//
//  1. the acting user, then other people the change is about, by id;
//  2. their organization;
//  3. the domain;
//  4. its report or import;
//  5. the rows a background batch moves: the users it imports (by id;
//     they are not members yet, so no request of the organization holds
//     them), their accounts, the report's rows.
//
// Audit entries, emails, webhook events and checks are only ever
// inserted in the transactions of the changes they are about. A webhook
// endpoint is locked after its organization and before its deliveries,
// by the pages and by the sender recording an attempt alike.
// Background work claims its rows with SkipLocked and then follows the
// same order from where it starts.
//
// Rows that are changed but keep their keys are locked FOR NO KEY UPDATE.
// That matters on PostgreSQL: inserting or updating a row that refers to
// another takes a FOR KEY SHARE lock on the row referred to, which FOR
// UPDATE would block and FOR NO KEY UPDATE does not. A job row is updated
// once per batch, for the same reason: a row updated twice in one
// transaction has its foreign keys checked again, locking the rows they
// refer to halfway through the batch.

// ForNoKeyUpdate locks the rows a query reads until the transaction ends,
// for a change that keeps their keys (every change but a delete), so that
// competing writers on PostgreSQL wait their turn. SQLite needs no clause:
// its immediate transactions let one writer in at a time.
func ForNoKeyUpdate(db *gorm.DB) *gorm.DB {
	if IsSQLite(db) {
		return db
	}
	return db.Clauses(clause.Locking{Strength: noKeyUpdate})
}

// ForNoKeyUpdateOf is ForNoKeyUpdate for a query that joins tables: only
// the rows it reads of table are locked, so that the others are locked, or
// not, in their own turn.
func ForNoKeyUpdateOf(db *gorm.DB, table string) *gorm.DB {
	if IsSQLite(db) {
		return db
	}
	return db.Clauses(clause.Locking{Strength: noKeyUpdate, Table: clause.Table{Name: table}})
}

// ForUpdate locks the rows a query reads for a change of their keys: a
// delete.
func ForUpdate(db *gorm.DB) *gorm.DB {
	if IsSQLite(db) {
		return db
	}
	return db.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
}

// transactionAttempts bounds how often a transaction is tried.
const transactionAttempts = 5

var retried atomic.Int64

// Retried is how many transactions were retried since the process
// started. With the lock order kept, it stays at zero.
func Retried() int64 { return retried.Load() }

// Transaction runs fn in a transaction and runs it again, whole, when
// PostgreSQL broke a deadlock by ending it or refused it for a
// serialization conflict, at most transactionAttempts times. fn must be
// safe to run again: it sets what it returns instead of appending to it,
// and does nothing outside the database. Inside a transaction, fn runs in
// it, once: only the outermost transaction can be retried.
func Transaction(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	if _, inside := db.Statement.ConnPool.(gorm.TxCommitter); inside {
		return fn(db.WithContext(ctx))
	}
	for attempt := 1; ; attempt++ {
		err := db.WithContext(ctx).Transaction(fn)
		if err == nil || attempt == transactionAttempts || !retryable(err) {
			return err
		}
		retried.Add(1)
		wait := time.Duration(attempt*attempt)*10*time.Millisecond + time.Duration(mathrand.Int64N(int64(10*time.Millisecond)))
		slog.WarnContext(ctx, "database: transaction retried", "attempt", attempt, "wait", wait, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// retryable reports whether err is PostgreSQL's deadlock_detected or
// serialization_failure.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// Migrate applies every pending migration of the database's dialect. On
// PostgreSQL an advisory lock lets several instances start at once.
func Migrate(ctx context.Context, db *gorm.DB) error {
	p, err := provider(db)
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	for _, r := range results {
		slog.Info("database: migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	if err != nil {
		return fmt.Errorf("database: unable to migrate: %w", err)
	}
	return nil
}

// CheckSchema refuses a database whose schema is older or newer than this
// binary's migrations: an old binary must not write to a newer schema.
func CheckSchema(ctx context.Context, db *gorm.DB) error {
	p, err := provider(db)
	if err != nil {
		return err
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("database: unable to read the schema version: %w", err)
	}
	sources := p.ListSources()
	want := sources[len(sources)-1].Version
	switch {
	case current < want:
		return fmt.Errorf("database: schema version is %d, this binary needs %d: run `admincenter migrate`", current, want)
	case current > want:
		return fmt.Errorf("database: schema version is %d, newer than this binary knows (%d): run the newer release", current, want)
	}
	return nil
}

func provider(db *gorm.DB) (*goose.Provider, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	dialect, dir := goose.DialectSQLite3, "sqlite"
	var opts []goose.ProviderOption
	if !IsSQLite(db) {
		dialect, dir = goose.DialectPostgres, "postgres"
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	fsys, err := fs.Sub(migrations.FS, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(dialect, sqlDB, fsys, opts...)
}

// Ping checks that the database answers.
func Ping(ctx context.Context, db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Secret returns the value of a generated secret setting, creating it once.
// Concurrent first starts agree on one value.
func Secret(ctx context.Context, db *gorm.DB, key string) (string, error) {
	b := make([]byte, 32)
	rand.Read(b)
	err := db.WithContext(ctx).Exec(
		"INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", key, hex.EncodeToString(b)).Error
	if err != nil {
		return "", fmt.Errorf("database: unable to store setting %s: %w", key, err)
	}
	var value string
	if err := db.WithContext(ctx).Raw("SELECT value FROM settings WHERE key = ?", key).Scan(&value).Error; err != nil {
		return "", fmt.Errorf("database: unable to read setting %s: %w", key, err)
	}
	if value == "" {
		return "", errors.New("database: setting " + key + " is empty")
	}
	return value, nil
}

// IsDuplicate reports whether err is a unique-constraint violation.
func IsDuplicate(err error) bool { return errors.Is(err, gorm.ErrDuplicatedKey) }
