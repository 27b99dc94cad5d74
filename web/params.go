package web

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"admincenter/internal/apperr"
	"admincenter/internal/domains"
)

// pageParam reads ?page=, treating anything odd as the first page.
func pageParam(c echo.Context) int {
	n, err := strconv.Atoi(c.QueryParam("page"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// idParam reads a numeric id from the path; anything else is not found.
func idParam(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, apperr.New(apperr.NotFound, "There is no page at this address.")
	}
	return id, nil
}

// domainParam returns the domain of the path, if it is the signed-in
// person's organization's.
func (s *Server) domainParam(c echo.Context) (domains.Domain, error) {
	id, err := idParam(c)
	if err != nil {
		return domains.Domain{}, err
	}
	return s.Domains.ForActor(c.Request().Context(), mustUser(c), id)
}

// acknowledged reports whether the form ticked each of the n boxes of its
// confirmation dialog (ack=0 … ack=n-1): the browser requires them, and so
// does the server, so that a forged or scripted request cannot skip them.
func acknowledged(c echo.Context, n int) (bool, error) {
	form, err := c.FormParams()
	if err != nil {
		return false, err
	}
	ticked := map[string]bool{}
	for _, v := range form["ack"] {
		ticked[v] = true
	}
	for i := range n {
		if !ticked[strconv.Itoa(i)] {
			return false, nil
		}
	}
	return true, nil
}
