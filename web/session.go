package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/database"
	"admincenter/internal/domains"
	"admincenter/internal/orgs"
	"admincenter/internal/paths"
	"admincenter/internal/sessionstore"
	tokens "admincenter/internal/token"
	"admincenter/internal/users"
	"admincenter/templates"
)

const (
	sessionCookie = "admincenter_session"
	sessionMaxAge = 7 * 24 * 60 * 60 // a week; each sign-in starts a new session

	keySession = "session"
	keyUser    = "user"
	keyOrg     = "organization"
	keyNotices = "notices"
)

// newSessionStore keeps sessions in the database, so every instance sees
// them. The cookie holds only the signed session id.
func newSessionStore(db *gorm.DB, now func() time.Time, secret string, secure bool) *sessionstore.Store {
	hashKey := sha256.Sum256([]byte("session-hash:" + secret))
	return sessionstore.New(db, now, hashKey[:], sessions.Options{
		Path:     "/",
		MaxAge:   sessionMaxAge,
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// withSession loads the session and the signed-in user, if any. A database
// error is an error: it never turns a signed-in person into a visitor.
func (s *Server) withSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.loadSession(c); err != nil {
			return err
		}
		return next(c)
	}
}

// loadSession reads the session and the signed-in user, if any, without
// writing anything: one statement reads the session, its person, their
// organization and its notices.
func (s *Server) loadSession(c echo.Context) error {
	var p person
	sess, err := s.sessions.Open(c.Request(), sessionCookie, func(id string, now time.Time) (string, bool, error) {
		return s.readPerson(c.Request().Context(), id, now, &p)
	})
	if err != nil {
		return err
	}
	c.Set(keySession, sess)
	id, ok := sess.Values["uid"].(int64)
	authAt, _ := sess.Values["auth_at"].(int64)
	if ok && p.user.ID == id && p.user.Active() && !time.Unix(0, authAt).Before(p.user.SessionsValidAfter) {
		c.Set(keyUser, p.user)
		c.Set(keyOrg, p.org)
		c.Set(keyNotices, p.notices)
	}
	return nil
}

// person is what every page reads with its session.
type person struct {
	user    users.User
	org     orgs.Organization
	notices domains.Notices
}

// personQuery is readPerson's statement.
var personQuery = `SELECT sessions.data, ` + users.Columns + `,
		organizations.name, organizations.created_at, organizations.bulk_import, ` + domains.NoticesSQL("users.organization_id") + `
	FROM sessions
	LEFT JOIN users ON users.id = sessions.user_id
	LEFT JOIN organizations ON organizations.id = users.organization_id
	WHERE sessions.id = ? AND sessions.expires_at > ?`

// readPerson reads the session with this id, unexpired at now, with its
// user, their organization and its notices, into p; the user and the
// organization are zero when the session has none.
func (s *Server) readPerson(ctx context.Context, id string, now time.Time, p *person) (string, bool, error) {
	var (
		data    string
		found   bool
		orgName *string
		orgAt   *time.Time
		bulk    *bool
	)
	dest := append([]any{&data}, p.user.Fields()...)
	dest = append(append(dest, &orgName, &orgAt, &bulk), p.notices.Fields()...)
	err := database.Read(s.DB.WithContext(ctx), personQuery, append(s.Domains.NoticesArgs(), id, now), func(scan func(...any) error) error {
		found = true
		return scan(dest...)
	})
	if err != nil || !found {
		return "", false, err
	}
	if orgName != nil {
		p.org = orgs.Organization{ID: p.user.OrgID(), Name: *orgName, CreatedAt: *orgAt, BulkImport: *bulk}
	}
	return data, true, nil
}

func session(c echo.Context) *sessions.Session { return c.Get(keySession).(*sessions.Session) }

// currentUser returns the signed-in user.
func currentUser(c echo.Context) (users.User, bool) {
	u, ok := c.Get(keyUser).(users.User)
	return u, ok
}

// organization returns the organization of the signed-in user, read with
// them once per request (the zero Organization if none).
func organization(c echo.Context) orgs.Organization {
	org, _ := c.Get(keyOrg).(orgs.Organization)
	return org
}

// notices says what the pages of the signed-in person's organization
// have to tell (none for a visitor).
func notices(c echo.Context) domains.Notices {
	n, _ := c.Get(keyNotices).(domains.Notices)
	return n
}

// mustUser returns the signed-in user on routes behind requireUser.
func mustUser(c echo.Context) users.User {
	u, _ := currentUser(c)
	return u
}

// anonymousMaxAge bounds the sessions of visitors who never sign in: they
// exist only to carry a CSRF token.
const anonymousMaxAge = 60 * 60

// csrf gives each session a random token and refuses every unsafe request
// that does not echo it back, in the form field _csrf or, for htmx, in the
// X-CSRF-Token header.
func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess := session(c)
		token, _ := sess.Values["csrf"].(string)
		unsafe := c.Request().Method != http.MethodGet && c.Request().Method != http.MethodHead
		if token == "" && !unsafe {
			token = rand.Text()
			sess.Values["csrf"] = token
			if _, signedIn := currentUser(c); !signedIn {
				sess.Options.MaxAge = anonymousMaxAge
			}
			if err := s.saveSession(c, sess); err != nil {
				return err
			}
		}
		if unsafe {
			sent := c.Request().Header.Get("X-CSRF-Token")
			if sent == "" {
				sent = c.FormValue("_csrf")
			}
			if token == "" || subtle.ConstantTimeCompare([]byte(tokens.Unmask(sent)), []byte(token)) != 1 {
				return apperr.New(apperr.Forbidden, "This form has expired or did not come from this site. Go back, reload the page and try again.")
			}
		}
		exposeCSRF(c)
		return next(c)
	}
}

// exposeCSRF hands the session's CSRF token to the forms of the page.
func exposeCSRF(c echo.Context) {
	token, _ := session(c).Values["csrf"].(string)
	c.SetRequest(c.Request().WithContext(templates.WithCSRF(c.Request().Context(), token)))
}

func (s *Server) saveSession(c echo.Context, sess *sessions.Session) error {
	return s.sessions.Save(c.Request(), c.Response(), sess)
}

// requireUser sends signed-out people to the sign-in page and back.
func requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := currentUser(c); !ok {
			if c.Request().Method != http.MethodGet {
				return apperr.New(apperr.Unauthorized, "Your session has ended. Sign in again.")
			}
			return redirect(c, paths.LoginThen(c.Request().URL.RequestURI()))
		}
		return next(c)
	}
}

// errNoOrganization refuses the Admin Center to a person whom no
// organization manages; their error page offers to create one.
var errNoOrganization = apperr.New(apperr.Forbidden, "You do not belong to an organization yet, and the Admin Center is where an organization's Owner and Administrators manage it. Create your organization to add your domains, or ask your company's Owner to invite you.")

// requireAdmin lets only Owners and Administrators into the Admin Center.
func requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return requireUser(func(c echo.Context) error {
		if !mustUser(c).Managed() {
			return errNoOrganization
		}
		if !mustUser(c).CanAdminister() {
			return apperr.New(apperr.Forbidden, "The Admin Center is only for the Owner and Administrators of an organization. Ask your organization's Owner if you need access.")
		}
		return next(c)
	})
}

// signIn replaces the session with a new one for u, so a session id seen
// before sign-in is worth nothing after it. notice is shown on the next page.
func (s *Server) signIn(c echo.Context, u users.User, notice string) error {
	old := session(c)
	old.Options.MaxAge = -1
	if err := s.saveSession(c, old); err != nil {
		return err
	}
	sess := sessions.NewSession(s.sessions, sessionCookie)
	opts := *s.sessions.Options
	sess.Options, sess.IsNew = &opts, true
	sess.Values["uid"] = u.ID
	sess.Values["auth_at"] = s.Now().UnixNano()
	sess.Values["csrf"] = rand.Text()
	if notice != "" {
		sess.AddFlash(notice)
	}
	c.Set(keySession, sess)
	c.Set(keyUser, u)
	return s.saveSession(c, sess)
}

func (s *Server) signOut(c echo.Context) error {
	sess := session(c)
	sess.Options.MaxAge = -1
	return s.saveSession(c, sess)
}

// flash keeps a message for the next page the person sees.
func (s *Server) flash(c echo.Context, msg string) error {
	sess := session(c)
	sess.AddFlash(msg)
	return s.saveSession(c, sess)
}

const flashKindSep = "\x00"

// inform keeps news for the next page the person sees: neither a success
// nor a problem.
func (s *Server) inform(c echo.Context, msg string) error {
	return s.flash(c, "info"+flashKindSep+msg)
}

// warn keeps a warning for the next page the person sees.
func (s *Server) warn(c echo.Context, msg string) error {
	return s.flash(c, "warn"+flashKindSep+msg)
}

// localPath keeps a redirect target on this site: a path with no scheme,
// no host, and none of the characters browsers drop or turn into slashes
// (controls, spaces, backslashes), which could make "/\t/evil" go to
// another site.
func localPath(next, fallback string) string {
	if next == "" || strings.ContainsFunc(next, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\\' }) {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return fallback
	}
	return next
}
