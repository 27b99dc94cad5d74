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
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"admincenter/internal/app"
	"admincenter/internal/config"
	"admincenter/internal/sessionstore"
)

// Server serves the Admin Center.
type Server struct {
	*app.Services
	echo     *echo.Echo
	sessions *sessionstore.Store
	metrics  *metrics
}

// New builds the server and its routes on the services. Its page requests
// are counted into the services' pacer, so that their background work
// gives way to people.
func New(svc *app.Services, sessionSecret string) *Server {
	s := &Server{Services: svc, echo: echo.New(), metrics: newMetrics()}
	s.sessions = newSessionStore(svc.DB, svc.Now, sessionSecret, svc.Config.SecureCookies())
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = ipExtractor(svc.Config.TrustedProxies)
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
			HSTSMaxAge:            hstsMaxAge(svc.Config),
			ReferrerPolicy:        "same-origin",
			ContentSecurityPolicy: "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
		}),
		// Pages, styles and scripts are text that shrinks to a third or less.
		// The CSRF token they repeat is masked afresh on every page, so
		// that compression tells nothing about it (BREACH).
		middleware.GzipWithConfig(middleware.GzipConfig{Level: 5, MinLength: 1024,
			Skipper: func(c echo.Context) bool { return c.Path() == "/metrics" }}), // it compresses itself
	)
	if svc.Domains != nil && svc.Domains.Metrics != nil {
		s.Register(svc.Domains.Metrics.Collectors(svc.Domains)...)
	}
	s.routes()
	s.apiRoutes()
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

// countInFlight counts the page requests being served into the pacer.
func (s *Server) countInFlight(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s.Pacer.Begin()
		defer s.Pacer.End()
		return next(c)
	}
}

// PurgeSessions deletes expired sessions.
func (s *Server) PurgeSessions() error { return s.sessions.Purge() }

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
