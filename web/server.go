// Package web is the Admin Center's HTTP server: routes, middleware and one
// thin handler per page or action. Handlers read the session, check the
// role, bind the form, call one service method and render or redirect.
package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"gorm.io/gorm"

	"admincenter/internal/audit"
	"admincenter/internal/config"
	"admincenter/internal/domains"
	"admincenter/internal/imports"
	"admincenter/internal/invites"
	"admincenter/internal/mail"
	"admincenter/internal/orgs"
	"admincenter/internal/sessionstore"
	"admincenter/internal/users"
)

// Deps are the services the server calls.
type Deps struct {
	Config        *config.Config
	DB            *gorm.DB // for /readyz
	Users         *users.Service
	Orgs          *orgs.Service
	Domains       *domains.Service
	Invites       *invites.Service
	Imports       *imports.Service
	Audit         *audit.Log
	Outbox        *mail.Outbox
	Now           func() time.Time
	SessionSecret string
}

// Server serves the Admin Center.
type Server struct {
	Deps
	echo     *echo.Echo
	baseline *echo.Echo // benchmarks only; see EnableBaseline
	sessions *sessionstore.Store
	metrics  *metrics
	inFlight atomic.Int64 // page requests being served
}

// New builds the server and its routes.
func New(d Deps) *Server {
	s := &Server{Deps: d, echo: echo.New(), metrics: newMetrics()}
	s.sessions = newSessionStore(d.DB, d.Now, d.SessionSecret, d.Config.SecureCookies())
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = ipExtractor(d.Config.TrustedProxies)
	e.HTTPErrorHandler = s.handleError
	e.Use(
		middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true}),
		middleware.RequestID(),
		s.logRequests,
		s.metrics.middleware,
		middleware.SecureWithConfig(middleware.SecureConfig{
			XSSProtection:         "0",
			ContentTypeNosniff:    "nosniff",
			XFrameOptions:         "DENY",
			HSTSMaxAge:            hstsMaxAge(d.Config),
			ReferrerPolicy:        "same-origin",
			ContentSecurityPolicy: "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
		}),
	)
	if d.Domains != nil && d.Domains.Metrics != nil {
		s.Register(d.Domains.Metrics.Collectors(d.Domains)...)
	}
	s.routes()
	return s
}

// ipExtractor finds the client address for sign-in throttling: from the
// connection, since forwarding headers can be forged by anyone, unless the
// connection comes from a trusted proxy, whose X-Forwarded-For is believed.
func ipExtractor(proxies []netip.Prefix) echo.IPExtractor {
	if len(proxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range proxies {
		_, ipnet, _ := net.ParseCIDR(p.String())
		opts = append(opts, echo.TrustIPRange(ipnet))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

func hstsMaxAge(c *config.Config) int {
	if c.SecureCookies() {
		return 31536000
	}
	return 0
}

// yieldPause is how long background work waits, per check, while people
// are using the pages: it keeps going, at a fraction of its pace.
const yieldPause = 50 * time.Millisecond

// Yield waits a moment when page requests are being served, so that
// background work (the domain re-checks) gives way to people.
func (s *Server) Yield(ctx context.Context) {
	if s.inFlight.Load() == 0 {
		return
	}
	t := time.NewTimer(yieldPause)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// countInFlight keeps count of the page requests being served.
func (s *Server) countInFlight(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		return next(c)
	}
}

// PurgeSessions deletes expired sessions.
func (s *Server) PurgeSessions() error { return s.sessions.Purge() }

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.serveBaseline(w, r) {
		return
	}
	s.echo.ServeHTTP(w, r)
}

// Run listens on the configured address until ctx ends, then finishes the
// requests in flight.
func (s *Server) Run(ctx context.Context) error {
	srv := &http.Server{
		Addr:              s.Config.Addr,
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	slog.Info("web: listening", "addr", s.Config.Addr, "url", s.Config.BaseURL.String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("web: shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		r := c.Request()
		level := slog.LevelInfo
		if c.Response().Status >= 500 {
			level = slog.LevelError
		}
		slog.Log(r.Context(), level, "web: request",
			"method", r.Method, "path", r.URL.Path, "route", c.Path(), "status", c.Response().Status,
			"duration", time.Since(start), "id", c.Response().Header().Get(echo.HeaderXRequestID))
		return nil
	}
}
