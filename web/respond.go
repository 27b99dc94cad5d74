package web

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"admincenter/internal/apperr"
	"admincenter/internal/paths"
	"admincenter/templates"
)

// buffers are reused across requests: a page is tens of kilobytes, and
// growing a fresh buffer for each was most of what rendering allocated.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render writes a component through a buffer, so that a template error
// never leaves a half-written page behind a 200.
func render(c echo.Context, status int, page templ.Component) error {
	buf := buffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 {
			buf.Reset()
			buffers.Put(buf)
		}
	}()
	if err := page.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set(echo.HeaderContentLength, strconv.Itoa(buf.Len())) // one write, not chunks (compression drops it)
	return c.HTMLBlob(status, buf.Bytes())
}

// startCSV begins the answer of a CSV download named name; the handler
// then streams the file.
func startCSV(c echo.Context, name string) {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
}

// redirect sends the browser to path after a POST or to a sign-in page.
// htmx requests get HX-Redirect so that the whole page changes.
func redirect(c echo.Context, path string) error {
	if c.Request().Header.Get("HX-Request") == "true" {
		c.Response().Header().Set("HX-Redirect", path)
		return c.NoContent(http.StatusOK)
	}
	return c.Redirect(http.StatusSeeOther, path)
}

// statusClientClosed is recorded (in logs and metrics) for requests whose
// client left before the answer, as nginx does.
const statusClientClosed = 499

var statusOf = map[apperr.Code]int{
	apperr.Invalid:      http.StatusUnprocessableEntity,
	apperr.NotFound:     http.StatusNotFound,
	apperr.Conflict:     http.StatusConflict,
	apperr.Forbidden:    http.StatusForbidden,
	apperr.RateLimited:  http.StatusTooManyRequests,
	apperr.Unauthorized: http.StatusUnauthorized,
	apperr.Internal:     http.StatusInternalServerError,
}

var titleOf = map[int]string{
	http.StatusBadRequest:            "Bad request",
	http.StatusUnauthorized:          "Sign in required",
	http.StatusForbidden:             "Access denied",
	http.StatusNotFound:              "Page not found",
	http.StatusMethodNotAllowed:      "Method not allowed",
	http.StatusConflict:              "Cannot do that now",
	http.StatusRequestEntityTooLarge: "Too large",
	http.StatusUnprocessableEntity:   "Check your input",
	http.StatusTooManyRequests:       "Too many attempts",
	http.StatusInternalServerError:   "Something went wrong",
}

// handleError turns every error into one status and one page, in one
// place. Unknown errors are logged in full and shown as "Internal error".
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil {
		// The client went away: nothing to answer, nothing went wrong here.
		c.Response().WriteHeader(statusClientClosed)
		return
	}
	status, message := http.StatusInternalServerError, apperr.MessageOf(err)
	if he, ok := errors.AsType[*echo.HTTPError](err); ok {
		status = he.Code
		message = http.StatusText(status) + "."
		if status == http.StatusNotFound {
			message = "There is no page at this address."
		}
	} else if e, ok := apperr.As(err); ok {
		status = statusOf[e.Code]
	}
	if status >= 500 {
		slog.Error("web: request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	title := titleOf[status]
	if title == "" {
		title = http.StatusText(status)
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	if rerr := s.renderError(c, err, status, title, message); rerr != nil {
		slog.Error("web: unable to render the error page", "err", rerr)
		c.String(status, message)
	}
}

// renderError shows an error: in the signed-in person's own pages, with
// their navigation, or on its own for a visitor. An unknown address gets
// no session middleware; its session is read here, writing nothing, so
// that a signed-in person is not shown a sign-in page.
func (s *Server) renderError(c echo.Context, err error, status int, title, message string) error {
	if c.Get(keySession) == nil {
		if lerr := s.loadSession(c); lerr != nil {
			slog.Error("web: unable to read the session of an error page", "err", lerr)
		}
		if c.Get(keySession) != nil {
			exposeCSRF(c) // for the sign-out form
		}
	}
	u, signedIn := currentUser(c)
	if !signedIn {
		return render(c, status, templates.ErrorPage(status, title, message))
	}
	var action templates.Link
	if errors.Is(err, errNoOrganization) {
		title, action = "No organization yet", templates.Link{Text: "Create an organization", Href: paths.NewOrganization}
	}
	nav := "accounts"
	if u.CanAdminister() {
		nav = ""
	}
	sh, serr := s.shell(c, title, nav)
	if serr != nil {
		return serr
	}
	return render(c, status, templates.ErrorInShell(sh, status, title, message, action))
}

// formOf turns a service error into a form to show again. Errors that are
// not about the input are returned as they are.
func formOf(err error, values map[string]string) (templates.Form, error) {
	e, ok := apperr.As(err)
	if !ok || (e.Code != apperr.Invalid && e.Code != apperr.Conflict && e.Code != apperr.Unauthorized &&
		e.Code != apperr.RateLimited && e.Code != apperr.Forbidden) {
		return templates.Form{}, err
	}
	f := templates.Form{Values: values, Errors: e.Fields}
	if len(e.Fields) == 0 {
		f.Message = e.Message
	}
	return f, nil
}

// renderForm shows a form again with its problems, or fails with err.
func renderForm(c echo.Context, err error, values map[string]string, page func(templates.Form) templ.Component) error {
	f, ferr := formOf(err, values)
	if ferr != nil {
		return ferr
	}
	return render(c, statusOf[apperr.CodeOf(err)], page(f))
}

// shell gathers what every signed-in page shows around its content, and
// takes the flash messages waiting in the session.
func (s *Server) shell(c echo.Context, title, nav string) (templates.Shell, error) {
	u := mustUser(c)
	orgName := organization(c).Name
	sh := templates.Shell{Title: title, Nav: nav, UserName: u.Name, UserEmail: u.Email, CanAdmin: u.CanAdminister(), OrgName: orgName}
	if u.CanAdminister() && notices(c).Revalidating {
		warnings, err := s.Domains.Warnings(c.Request().Context(), u.OrgID())
		if err != nil {
			return sh, err
		}
		for _, w := range warnings {
			sh.Banners = append(sh.Banners, banner(w, s.Now()))
		}
	}
	sess := session(c)
	if fl := sess.Flashes(); len(fl) > 0 {
		for _, f := range fl {
			if msg, ok := f.(string); ok {
				kind, text, found := strings.Cut(msg, flashKindSep)
				if !found {
					kind, text = "ok", msg
				}
				sh.Flashes = append(sh.Flashes, templates.Flash{Kind: kind, Text: text})
			}
		}
		if err := s.saveSession(c, sess); err != nil {
			return sh, err
		}
	}
	return sh, nil
}
