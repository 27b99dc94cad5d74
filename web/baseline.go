package web

import (
	"bufio"
	"html"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

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
	s.baseline = bare
}

func (s *Server) serveBaseline(w http.ResponseWriter, r *http.Request) bool {
	if s.baseline == nil || len(r.URL.Path) < len("/bench/baseline/") || r.URL.Path[:len("/bench/baseline/")] != "/bench/baseline/" {
		return false
	}
	s.baseline.ServeHTTP(w, r)
	return true
}
