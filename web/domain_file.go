package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// verificationFile downloads the HTML file that proves the domain.
func (s *Server) verificationFile(c echo.Context) error {
	d, err := s.domainParam(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="`+d.FileName+`"`)
	h.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/html; charset=utf-8", d.FileContent())
}
