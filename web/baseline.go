//go:build bench

package web

import (
	"bufio"
	"html"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// baseline is, in benchmark builds (go build -tags bench), the bare handler
// the Domains page is measured against; the product binary has none (see
// nobaseline.go).
type baseline struct{ bare *echo.Echo }

// EnableBaseline adds, for benchmarks only, a bare Echo handler under
// /bench/baseline/: no middleware, no session, no template. It runs the
// Domains page's query and writes the rows as plain HTML, as the yardstick
// the real page is measured against.
func (s *Server) EnableBaseline() {
	bare := echo.New()
	bare.GET("/bench/baseline/domains", func(c echo.Context) error {
		orgID, _ := strconv.ParseInt(c.QueryParam("org"), 10, 64)
		list, err := s.Domains.List(c.Request().Context(), orgID)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Content-Type", "text/html; charset=utf-8")
		w := bufio.NewWriter(c.Response())
		w.WriteString("<!doctype html><table>")
		for _, d := range list {
			w.WriteString("<tr><td>" + html.EscapeString(d.UnicodeName) + "</td><td>" + string(d.Status) + "</td><td>" + string(d.Method) + "</td></tr>")
		}
		w.WriteString("</table>")
		return w.Flush()
	})
	s.baseline.bare = bare
}

// serve answers the request when it is for the enabled baseline.
func (b baseline) serve(w http.ResponseWriter, r *http.Request) bool {
	if b.bare == nil || !strings.HasPrefix(r.URL.Path, "/bench/baseline/") {
		return false
	}
	b.bare.ServeHTTP(w, r)
	return true
}
