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
		if err := m.startDemo(ctx); err != nil {
			return err
		}
	}
	svc, srv, err := m.newServer(ctx)
	if err != nil {
		return err
	}
	if *debugAddr != "" {
		defer serveDebug(*debugAddr)()
	}
	var wg sync.WaitGroup
	m.startBackground(ctx, &wg, svc, srv)
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

// startDemo adds the demo data and turns on the development mailbox. The
// demo shows every email at /dev/mailbox, reset links included: it keeps
// to this machine unless ADMINCENTER_ADDR says otherwise.
func (m *Main) startDemo(ctx context.Context) error {
	m.Config.Dev = true
	if m.Getenv("ADMINCENTER_ADDR") == "" {
		m.Config.Addr = "127.0.0.1:8080"
	}
	m.setupLogging()
	return m.seedDemo(ctx)
}

// newServer builds the services and the web server on them, with the
// session secret from the configuration or, when it has none, the one
// generated once and kept in the database.
func (m *Main) newServer(ctx context.Context) (*app.Services, *web.Server, error) {
	secret := m.Config.SessionSecret
	if secret == "" {
		var err error
		if secret, err = database.Secret(ctx, m.DB, "session_secret"); err != nil {
			return nil, nil, err
		}
	}
	svc, err := app.New(m.Config, m.DB, m.Now, bcrypt.DefaultCost)
	if err != nil {
		return nil, nil, usageError{err}
	}
	return svc, web.New(svc, secret), nil
}

// serveDebug serves Go's profiler on addr until the returned func is called.
func serveDebug(addr string) (stop func()) {
	debug := &http.Server{Addr: addr, Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
	slog.Warn("debug: serving the profiler", "addr", addr)
	go debug.ListenAndServe()
	return func() { debug.Close() }
}

// startBackground starts, in wg, the background work of this instance
// until ctx ends: housekeeping, the automatic domain checks, the imports,
// the webhook deliveries and, with SMTP_URL, the mail sender. The domain
// checks and the imports give way to the server's page requests through
// the services' pacer.
func (m *Main) startBackground(ctx context.Context, wg *sync.WaitGroup, svc *app.Services, srv *web.Server) {
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
	// Webhooks are looked for every few seconds, as email is, whatever the
	// tick: the changes they report are written by other instances too.
	wg.Go(func() {
		every(ctx, min(m.Config.Tick, webhookTick), svc.Webhooks.Wake(), func() {
			if _, err := svc.Webhooks.RunDue(ctx); err != nil && ctx.Err() == nil {
				slog.Error("webhooks: delivery pass failed", "err", err)
			}
		})
	})
	m.startMail(ctx, wg, srv)
}

// webhookTick is the longest wait before a webhook is first sent.
const webhookTick = 5 * time.Second

// startMail starts the sender when SMTP_URL is set, and says where the
// email stays when it is not. The outbox's series are on /metrics either way.
func (m *Main) startMail(ctx context.Context, wg *sync.WaitGroup, srv *web.Server) {
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
