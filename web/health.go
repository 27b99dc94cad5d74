package web

import (
	"context"
	"mime"
	"net/http"
	"path"
	"time"

	"github.com/labstack/echo/v4"

	"admincenter/internal/database"
	"admincenter/static"
)

// healthz answers while the process is alive.
func (s *Server) healthz(c echo.Context) error { return c.String(http.StatusOK, "ok\n") }

// readyz answers 200 only while the database answers.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := database.Ping(ctx, s.DB); err != nil {
		return c.String(http.StatusServiceUnavailable, "database unreachable\n")
	}
	return c.String(http.StatusOK, "ready\n")
}

// serveStatic serves embedded assets; their paths change with their
// content, so they may be cached for a year.
func serveStatic(c echo.Context) error {
	b, ok := static.Open(c.Param("hash"), c.Param("name"))
	if !ok {
		return echo.ErrNotFound
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	return c.Blob(http.StatusOK, contentType(c.Param("name")), b)
}

func contentType(name string) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}
