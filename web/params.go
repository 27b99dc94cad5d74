package web

import (
	"admincenter/internal/domains"
	"strconv"

	"github.com/labstack/echo/v4"

	"admincenter/internal/apperr"
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
