package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"github.com/wader/gormstore/v2"
	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/users"
	"admincenter/templates"
)

const (
	sessionCookie = "admincenter_session"
	sessionMaxAge = 7 * 24 * 60 * 60 // a week; each sign-in starts a new session

	keySession = "session"
	keyUser    = "user"
)

// newSessionStore keeps sessions in the database, so every instance sees
// them. The cookie holds only a signed, encrypted session id.
func newSessionStore(db *gorm.DB, secret string, secure bool) *gormstore.Store {
	hashKey := sha256.Sum256([]byte("session-hash:" + secret))
	blockKey := sha256.Sum256([]byte("session-block:" + secret))
	st := gormstore.NewOptions(db, gormstore.Options{TableName: "sessions", SkipCreateTable: true}, hashKey[:], blockKey[:])
	st.SessionOpts = &sessions.Options{
		Path:     "/",
		MaxAge:   sessionMaxAge,
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
	st.MaxAge(sessionMaxAge)
	return st
}

// withSession loads the session and the signed-in user, if any.
func (s *Server) withSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := s.sessions.Get(c.Request(), sessionCookie)
		if err != nil { // a cookie from an old key or a tampered one: start over
			sess, _ = s.sessions.New(c.Request(), sessionCookie)
		}
		c.Set(keySession, sess)
		if id, ok := sess.Values["uid"].(int64); ok {
			authAt, _ := sess.Values["auth_at"].(int64)
			u, err := s.Users.ByID(c.Request().Context(), id)
			switch {
			case apperr.CodeOf(err) == apperr.NotFound:
			case err != nil:
				return err
			case u.Active() && !time.Unix(0, authAt).Before(u.SessionsValidAfter):
				c.Set(keyUser, u)
			}
		}
		return next(c)
	}
}

func session(c echo.Context) *sessions.Session { return c.Get(keySession).(*sessions.Session) }

// currentUser returns the signed-in user.
func currentUser(c echo.Context) (users.User, bool) {
	u, ok := c.Get(keyUser).(users.User)
	return u, ok
}

// mustUser returns the signed-in user on routes behind requireUser.
func mustUser(c echo.Context) users.User {
	u, _ := currentUser(c)
	return u
}

// csrf gives each session a random token and refuses every unsafe request
// that does not echo it back, in the form field _csrf or, for htmx, in the
// X-CSRF-Token header.
func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess := session(c)
		token, _ := sess.Values["csrf"].(string)
		if token == "" {
			token = rand.Text()
			sess.Values["csrf"] = token
			if err := sess.Save(c.Request(), c.Response()); err != nil {
				return err
			}
		}
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			sent := c.Request().Header.Get("X-CSRF-Token")
			if sent == "" {
				sent = c.FormValue("_csrf")
			}
			if subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
				return apperr.New(apperr.Forbidden, "This form has expired or did not come from this site. Go back, reload the page and try again.")
			}
		}
		ctx := templates.WithCSRF(c.Request().Context(), token)
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// requireUser sends signed-out people to the sign-in page and back.
func requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := currentUser(c); !ok {
			if c.Request().Method != http.MethodGet {
				return apperr.New(apperr.Unauthorized, "Your session has ended. Sign in again.")
			}
			return redirect(c, "/login?"+url.Values{"next": {c.Request().URL.RequestURI()}}.Encode())
		}
		return next(c)
	}
}

// requireAdmin lets only Owners and Administrators into the Admin Center.
func requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return requireUser(func(c echo.Context) error {
		if !mustUser(c).CanAdminister() {
			return apperr.New(apperr.Forbidden, "The Admin Center is only for the Owner and Administrators of an organization. Ask your organization's Owner if you need access.")
		}
		return next(c)
	})
}

// signIn replaces the session with a new one for u, so a session id seen
// before sign-in is worth nothing after it.
func (s *Server) signIn(c echo.Context, u users.User) error {
	old := session(c)
	old.Options.MaxAge = -1
	if err := s.sessions.Save(c.Request(), c.Response(), old); err != nil {
		return err
	}
	sess, err := s.sessions.New(c.Request(), sessionCookie)
	if err != nil {
		return err
	}
	sess.Values["uid"] = u.ID
	sess.Values["auth_at"] = s.Now().UnixNano()
	sess.Values["csrf"] = rand.Text()
	c.Set(keySession, sess)
	c.Set(keyUser, u)
	return sess.Save(c.Request(), c.Response())
}

func (s *Server) signOut(c echo.Context) error {
	sess := session(c)
	sess.Options.MaxAge = -1
	return s.sessions.Save(c.Request(), c.Response(), sess)
}

// flash keeps a message for the next page the person sees.
func flash(c echo.Context, msg string) error {
	sess := session(c)
	sess.AddFlash(msg)
	return sess.Save(c.Request(), c.Response())
}

// localPath keeps a redirect target on this site.
func localPath(next, fallback string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, `/\`) {
		return fallback
	}
	return next
}
