// Package app builds the product's services from the configuration, for
// the server and for tests alike.
package app

import (
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/apikeys"
	"admincenter/internal/audit"
	"admincenter/internal/config"
	"admincenter/internal/domains"
	"admincenter/internal/imports"
	"admincenter/internal/invites"
	"admincenter/internal/mail"
	"admincenter/internal/orgs"
	"admincenter/internal/pace"
	"admincenter/internal/users"
	"admincenter/internal/verify"
	"admincenter/internal/webhooks"
)

// Services are the product's services, sharing one database, clock and
// pacer.
type Services struct {
	Config  *config.Config
	DB      *gorm.DB
	Now     func() time.Time
	Users   *users.Service
	Orgs    *orgs.Service
	Domains *domains.Service
	Invites *invites.Service
	Imports *imports.Service
	Audit   *audit.Log
	Outbox  *mail.Outbox
	// Webhooks is told of the changes of Domains and Imports, in their
	// transactions, and delivers them.
	Webhooks *webhooks.Service
	APIKeys  *apikeys.Service
	// Pacer is counted into by whoever serves the pages (the web server);
	// the automatic domain checks and the imports give way to them.
	Pacer *pace.Pacer
}

// New builds the services. passwordCost is bcrypt's cost: tests lower it.
func New(cfg *config.Config, db *gorm.DB, now func() time.Time, passwordCost int) (*Services, error) {
	providers := domains.DefaultBlocklist()
	if cfg.EmailProvidersFile != "" {
		var err error
		if providers, err = domains.LoadBlocklist(cfg.EmailProvidersFile); err != nil {
			return nil, err
		}
	}
	checker, err := NewChecker(cfg)
	if err != nil {
		return nil, err
	}
	pacer := &pace.Pacer{}
	// A claim of webhook deliveries is renewed while they are sent: like
	// the imports', its lease may be short.
	hooks := &webhooks.Service{DB: db, Now: now, Checker: checker, HTTPSPort: cfg.VerifyHTTPSPort, BaseURL: cfg.BaseURL,
		Lease: min(cfg.ClaimLease, 2*time.Minute)}
	people := &users.Service{DB: db, Now: now, BaseURL: cfg.BaseURL, PasswordCost: passwordCost}
	// Bulk import jobs renew their lease every batch: a short one lets a
	// restarted instance resume a stopped import soon.
	bulk := &imports.Service{DB: db, Now: now, BaseURL: cfg.BaseURL, Lease: min(cfg.ClaimLease, 30*time.Second), Pace: pacer.Yield,
		Announce: hooks.Import}
	people.OnEmailVerified = bulk.AddOnSignup
	return &Services{
		Config: cfg, DB: db, Now: now,
		Users: people,
		Orgs:  &orgs.Service{DB: db, Now: now},
		Domains: &domains.Service{
			DB: db, Now: now, Checker: checker, Providers: providers, BaseURL: cfg.BaseURL,
			RecheckInterval: cfg.RecheckInterval, PropagationWindow: cfg.PropagationWindow,
			GracePeriod: cfg.GracePeriod, InconclusiveLimit: cfg.InconclusiveLimit, ClaimLease: cfg.ClaimLease,
			Metrics: domains.NewMetrics(db), Pace: pacer.Yield, Announce: hooks.Domain,
		},
		Invites:  &invites.Service{DB: db, Now: now, BaseURL: cfg.BaseURL, Providers: providers, Users: people},
		Imports:  bulk,
		Audit:    &audit.Log{DB: db},
		APIKeys:  &apikeys.Service{DB: db, Now: now},
		Outbox:   &mail.Outbox{DB: db},
		Webhooks: hooks,
		Pacer:    pacer,
	}, nil
}

// rootCAs trusts the system's roots plus the certificates in SSL_CERT_FILE.
// NewChecker is the domain checker the configuration asks for. It needs
// no database, so that a domain can be diagnosed without one.
func NewChecker(cfg *config.Config) (*verify.Checker, error) {
	roots, err := rootCAs(cfg.SSLCertFile)
	if err != nil {
		return nil, err
	}
	return verify.New(verify.Config{
		DNSServers: cfg.DNSServers, HTTPSPort: cfg.VerifyHTTPSPort, HTTPPort: cfg.VerifyHTTPPort,
		AuthoritativePort: cfg.AuthoritativePort, AllowPrivate: cfg.VerifyAllowPrivate, RootCAs: roots,
	})
}

func rootCAs(file string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if file == "" {
		return pool, nil
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("SSL_CERT_FILE: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("SSL_CERT_FILE: %s holds no PEM certificate", file)
	}
	return pool, nil
}
