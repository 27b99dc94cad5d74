package web

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"admincenter/internal/api"
	"admincenter/internal/apikeys"
	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/paths"
	"admincenter/templates"
)

// The API's rate limit, per key: a steady 10 requests a second, in bursts
// of up to 30. Each instance counts its own requests.
const (
	apiRate  = 10
	apiBurst = 30
)

// apiRoutes registers the JSON API: Bearer keys only (a session cookie is
// never read, so no CSRF token is needed), a rate limit per key, every
// request validated against the OpenAPI document before its handler runs,
// and every error answered as application/problem+json.
func (s *Server) apiRoutes() {
	spec, err := api.GetSwagger()
	if err != nil {
		panic(fmt.Sprintf("web: the OpenAPI document does not load: %v", err))
	}
	doc, err := json.Marshal(spec)
	if err != nil {
		panic(fmt.Sprintf("web: the OpenAPI document does not encode: %v", err))
	}
	// Paths are matched as the API serves them, under /api/v1.
	spec.Servers = openapi3.Servers{{URL: "/api/v1"}}
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		panic(fmt.Sprintf("web: the OpenAPI document does not route: %v", err))
	}
	e := s.echo
	e.GET(paths.OpenAPI, func(c echo.Context) error { return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, doc) })
	docs := apiDocsView(spec) // read once: the document does not change while the server runs
	e.GET(paths.APIDocs, func(c echo.Context) error { return render(c, http.StatusOK, templates.APIDocsPage(docs)) })
	limits := &keyLimits{limiters: map[int64]*rate.Limiter{}}
	g := e.Group("/api/v1", apiProblems, middleware.BodyLimit("1M"), s.apiAuth, limits.middleware, validated(router))
	api.RegisterHandlers(g, api.NewStrictHandler(&api.Server{
		Domains: s.Domains, Imports: s.Imports, Orgs: s.Orgs, Audit: s.Audit, HTTPSPort: s.Config.VerifyHTTPSPort,
	}, nil))
	// What the document does not have answers as a problem too.
	g.Any("/*", func(c echo.Context) error { return echo.ErrNotFound })
}

// apiAuth takes the key from the Authorization header, and only from
// there, and puts its caller in the request's context. A read key may only
// read.
func (s *Server) apiAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		header := c.Request().Header.Get(echo.HeaderAuthorization)
		secret, ok := strings.CutPrefix(header, "Bearer ")
		if !ok || strings.TrimSpace(secret) == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="api"`)
			return apperr.New(apperr.Unauthorized, "Send an API key in the Authorization header: Authorization: Bearer ack_… (create one at Admin Center › API keys).")
		}
		key, creator, err := s.APIKeys.Authenticate(c.Request().Context(), strings.TrimSpace(secret), c.RealIP())
		if err != nil {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="api", error="invalid_token"`)
			return err
		}
		if m := c.Request().Method; key.Scope != apikeys.Write && m != http.MethodGet && m != http.MethodHead {
			return apperr.New(apperr.Forbidden, fmt.Sprintf("The key %s may only read: create a read and write key to change things.", key.Label()))
		}
		ctx := audit.ByKey(api.WithCaller(c.Request().Context(), api.Caller{Key: key, User: creator}), key.Label())
		c.SetRequest(c.Request().WithContext(ctx))
		c.Set("api_key", key.ID)
		return next(c)
	}
}

// keyLimits holds a token bucket per key.
type keyLimits struct {
	mu       sync.Mutex
	limiters map[int64]*rate.Limiter
}

func (l *keyLimits) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, _ := c.Get("api_key").(int64)
		l.mu.Lock()
		lim := l.limiters[id]
		if lim == nil {
			lim = rate.NewLimiter(apiRate, apiBurst)
			l.limiters[id] = lim
		}
		r := lim.Reserve()
		wait := r.Delay()
		if wait > 0 {
			r.Cancel()
		}
		l.mu.Unlock()
		if wait > 0 {
			c.Response().Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(wait.Seconds()))))
			return apperr.New(apperr.RateLimited, fmt.Sprintf("Too many requests with this key: at most %d a second, in bursts of %d. Try again after the Retry-After header's seconds.", apiRate, apiBurst))
		}
		return next(c)
	}
}

// validated checks each request against the OpenAPI document: its path,
// method, parameters and body. A refusal names the field.
func validated(router routers.Router) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			route, params, err := router.FindRoute(req)
			switch {
			case errors.Is(err, routers.ErrMethodNotAllowed):
				return echo.ErrMethodNotAllowed
			case err != nil:
				return echo.ErrNotFound
			}
			err = openapi3filter.ValidateRequest(req.Context(), &openapi3filter.RequestValidationInput{
				Request: req, PathParams: params, Route: route,
				Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
			})
			if err != nil {
				return invalidRequest(err)
			}
			return next(c)
		}
	}
}

// invalidRequest says which field of the request the document refuses.
func invalidRequest(err error) error {
	var re *openapi3filter.RequestError
	if !errors.As(err, &re) {
		return apperr.New(apperr.Invalid, "The request does not follow the API's document: "+err.Error())
	}
	field, what := "body", "The request body"
	if re.Parameter != nil {
		field, what = re.Parameter.Name, fmt.Sprintf("The %s parameter %q", re.Parameter.In, re.Parameter.Name)
	}
	reason := re.Reason
	var se *openapi3.SchemaError
	if errors.As(re.Err, &se) {
		if p := se.JSONPointer(); len(p) > 0 && re.Parameter == nil {
			field = strings.Join(p, ".")
			what = fmt.Sprintf("The field %q", field)
		}
		reason = se.Reason
	} else if re.Err != nil && reason == "" {
		reason = re.Err.Error()
	}
	if missing, ok := strings.CutPrefix(reason, "property \""); ok && strings.HasSuffix(missing, "\" is missing") {
		field = strings.TrimSuffix(missing, "\" is missing")
		return apperr.Field(field, fmt.Sprintf("The field %q is required.", field))
	}
	return apperr.Field(field, fmt.Sprintf("%s is not valid: %s.", what, plainReason(reason)))
}

// plainReason rewords the validator's reasons that quote its internals.
func plainReason(reason string) string {
	switch {
	case strings.Contains(reason, `format "date-time"`):
		return "it must be a date and time as RFC 3339 writes it, such as 2026-12-01T14:05:00Z"
	case strings.Contains(reason, "an invalid integer"):
		return "it must be a whole number"
	}
	return strings.TrimSuffix(reason, ".")
}

// problem is an error as RFC 9457 writes it.
type problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail,omitempty"`
	Errors []fieldProblem `json:"errors,omitempty"`
}

type fieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// problemTypes are the stable types of the API's problems, by code.
var problemTypes = map[apperr.Code]string{
	apperr.Invalid:      "validation",
	apperr.NotFound:     "not-found",
	apperr.Conflict:     "conflict",
	apperr.Forbidden:    "forbidden",
	apperr.RateLimited:  "rate-limited",
	apperr.Unauthorized: "unauthorized",
	apperr.Internal:     "internal",
	methodNotAllowed:    "method-not-allowed",
}

// methodNotAllowed is the problem of a method an operation does not take,
// which no service reports.
const methodNotAllowed apperr.Code = "method_not_allowed"

// apiProblems answers every error of the API as a problem.
func apiProblems(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil || c.Response().Committed {
			return err
		}
		code, status, message := apperr.Internal, http.StatusInternalServerError, "Something went wrong on our side; it was logged."
		var fields map[string]string
		if he, ok := errors.AsType[*echo.HTTPError](err); ok {
			status, message = he.Code, http.StatusText(he.Code)+"."
			code = map[int]apperr.Code{http.StatusNotFound: apperr.NotFound, http.StatusRequestEntityTooLarge: apperr.Invalid,
				http.StatusMethodNotAllowed: methodNotAllowed, http.StatusUnauthorized: apperr.Unauthorized}[he.Code]
			switch he.Code {
			case http.StatusNotFound:
				message = "There is no such operation in the API: see " + paths.OpenAPI + "."
			case http.StatusMethodNotAllowed:
				message = "This operation does not take this method: see " + paths.OpenAPI + "."
			case http.StatusRequestEntityTooLarge:
				message = "The request body is larger than 1 MB."
			}
		} else if e, ok := apperr.As(err); ok {
			code, status, message, fields = e.Code, statusOf[e.Code], e.Message, e.Fields
			if code == apperr.Invalid {
				status = http.StatusBadRequest
			}
		} else if errors.Is(err, context.Canceled) {
			return nil
		}
		if status >= 500 {
			slog.Error("web: API request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		}
		p := problem{Type: "/api/problems/" + cmp.Or(problemTypes[code], "internal"), Title: http.StatusText(status), Status: status, Detail: message}
		for _, f := range slices.Sorted(maps.Keys(fields)) {
			p.Errors = append(p.Errors, fieldProblem{Field: f, Message: fields[f]})
		}
		body, _ := json.Marshal(p)
		return c.Blob(status, "application/problem+json", body)
	}
}
