package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // served only with --debug-addr
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"admincenter/internal/app"
	"admincenter/internal/clock"
	"admincenter/internal/config"
	"admincenter/internal/database"
	"admincenter/internal/demo"
	"admincenter/internal/mail"
	"admincenter/web"
)

// Main holds what the commands share: the process's environment and, once
// opened, the configuration and the database.
type Main struct {
	Getenv         func(string) string
	Stdout, Stderr io.Writer

	Config *config.Config
	DB     *gorm.DB
	Now    func() time.Time
}

// open reads the configuration, sets up logging and opens the database
// with its schema up to date.
func (m *Main) open(ctx context.Context) error {
	cfg, err := config.Load(m.Getenv)
	if err != nil {
		return usageError{err}
	}
	m.Config = cfg
	m.setupLogging()
	if m.Now == nil {
		m.Now = clock.Now
	}
	if m.DB, err = database.Open(cfg.DatabaseURL); err != nil {
		return err
	}
	if err := database.Migrate(ctx, m.DB); err != nil {
		return err
	}
	return database.CheckSchema(ctx, m.DB)
}

func (m *Main) setupLogging() {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	var h slog.Handler = slog.NewJSONHandler(m.Stderr, opts)
	if m.Config.Dev {
		h = slog.NewTextHandler(m.Stderr, opts)
	}
	slog.SetDefault(slog.New(h))
}

// Close releases the database.
func (m *Main) Close() {
	if m.DB != nil {
		if sqlDB, err := m.DB.DB(); err == nil {
			sqlDB.Close()
		}
	}
}

// Migrate applies the migrations and exits.
func (m *Main) Migrate(ctx context.Context) error {
	defer m.Close()
	if err := m.open(ctx); err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, "The database schema is up to date.")
	return nil
}

// Demo adds the demo data and prints how to sign in.
func (m *Main) Demo(ctx context.Context) error {
	defer m.Close()
	if err := m.open(ctx); err != nil {
		return err
	}
	return m.seedDemo(ctx)
}

func (m *Main) seedDemo(ctx context.Context) error {
	added, err := demo.Seed(ctx, m.DB, m.Now(), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	base := m.Config.BaseURL.String()
	if added {
		fmt.Fprintln(m.Stdout, "Demo data added: Acme Corp, Globex and 60 people at acme.test.")
	} else {
		fmt.Fprintln(m.Stdout, "Demo data is already there.")
	}
	if added, err = demo.SeedDomain(ctx, m.DB, m.Now(), m.Config.RecheckInterval); err != nil {
		return err
	}
	if added {
		fmt.Fprintln(m.Stdout, "acme.test is verified for Acme Corp, with Bulk User Import on (no DNS record backs it: its next automatic re-check will ask to re-validate it).")
	}
	fmt.Fprintf(m.Stdout, "\nOpen %s and sign in with a password of %q:\n", base, demo.Password)
	for _, l := range demo.Logins {
		fmt.Fprintf(m.Stdout, "  %-28s %s\n", l.Role, l.Email)
	}
	fmt.Fprintf(m.Stdout, "\nEmails appear at %s/dev/mailbox while ADMINCENTER_DEV=true and SMTP_URL is unset.\n\n", base)
	return nil
}

// Serve runs the Admin Center until ctx ends.
func (m *Main) Serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	withDemo := fs.Bool("demo", false, "add the demo data and turn on the development mailbox")
	baseline := fs.Bool("bench-baseline", false, "benchmarks only: serve a bare handler at /bench/baseline/domains?org=ID")
	debugAddr := fs.String("debug-addr", "", "serve Go's profiler (net/http/pprof) on this address, e.g. 127.0.0.1:6060; never expose it")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	defer m.Close()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	if err := m.open(ctx); err != nil {
		return err
	}
	if *withDemo {
		// The demo shows every email at /dev/mailbox, reset links included:
		// keep it on this machine unless told otherwise.
		m.Config.Dev = true
		if m.Getenv("ADMINCENTER_ADDR") == "" {
			m.Config.Addr = "127.0.0.1:8080"
		}
		m.setupLogging()
		if err := m.seedDemo(ctx); err != nil {
			return err
		}
	}
	secret := m.Config.SessionSecret
	if secret == "" {
		var err error
		if secret, err = database.Secret(ctx, m.DB, "session_secret"); err != nil {
			return err
		}
	}
	svc, err := app.New(m.Config, m.DB, m.Now, bcrypt.DefaultCost)
	if err != nil {
		return usageError{err}
	}
	srv := web.New(svc.Deps(secret))
	svc.Domains.Pace = srv.Yield // re-checks give way to people using the pages
	svc.Imports.Pace = srv.Yield
	if *baseline {
		slog.Warn("web: --bench-baseline serves /bench/baseline/ without authentication; use it only to benchmark")
		srv.EnableBaseline()
	}

	var wg sync.WaitGroup
	if *debugAddr != "" {
		debug := &http.Server{Addr: *debugAddr, Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
		slog.Warn("debug: serving the profiler", "addr", *debugAddr)
		go debug.ListenAndServe()
		defer debug.Close()
	}
	wg.Go(func() {
		every(ctx, time.Hour, nil, func() {
			if err := errors.Join(srv.PurgeSessions(), svc.Users.Purge(ctx)); err != nil {
				slog.Error("housekeeping failed", "err", err)
			}
		})
	})
	wg.Go(func() {
		every(ctx, m.Config.Tick, nil, func() {
			if _, err := svc.Domains.RunDue(ctx, m.Config.CheckConcurrency); err != nil && ctx.Err() == nil {
				slog.Error("domains: automatic checks failed", "err", err)
			}
		})
	})
	wg.Go(func() {
		every(ctx, m.Config.Tick, svc.Imports.Wake(), func() {
			if err := svc.Imports.RunDue(ctx); err != nil && ctx.Err() == nil {
				slog.Error("imports: background work failed", "err", err)
			}
		})
	})
	mailMetrics := mail.NewMetrics(m.DB)
	srv.Register(mailMetrics.Collectors()...)
	switch {
	case m.Config.SMTPURL != nil:
		sender := m.newSender()
		sender.Metrics = mailMetrics
		wg.Go(func() { sender.Run(ctx) })
	case m.Config.Dev:
		slog.Info("mail: no SMTP_URL; emails stay in the outbox, readable at " + m.Config.BaseURL.String() + "/dev/mailbox")
	default:
		slog.Warn("mail: no SMTP_URL; emails stay in the outbox until one is set")
	}
	if m.Config.VerifyAllowPrivate {
		slog.Warn("verify: ADMINCENTER_VERIFY_ALLOW_PRIVATE=true lets domain checks reach private and loopback addresses; use it only for testing")
	}
	err = srv.Run(ctx)
	// Whatever stopped the server, the background work stops with it and
	// gives its claims back before the database closes.
	stop()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Healthcheck asks the local server for /healthz, for container health checks.
func (m *Main) Healthcheck(ctx context.Context) error {
	cfg, err := config.Load(m.Getenv)
	if err != nil {
		return usageError{err}
	}
	_, port, _ := net.SplitHostPort(cfg.Addr)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/healthz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %s", resp.Status)
	}
	return nil
}

// every runs f now and then every d, or sooner when wake receives, until
// ctx ends.
func every(ctx context.Context, d time.Duration, wake <-chan struct{}, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		f()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
	}
}
