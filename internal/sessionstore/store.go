// Package sessionstore keeps gorilla/sessions sessions in the database, so
// that every instance sees them. The cookie holds only the session's id,
// signed; the values stay on the server.
//
// Unlike a store that treats every failure as "no session", a database
// error here is an error: a signed-in person is never silently turned into
// a visitor whose next save would overwrite their session.
//
// Values are kept as JSON: they may be strings, int64s and lists of them
// (flashes), under string keys. A value under UserKey, the signed-in
// user's id, is kept in the row's user_id column too, so that one
// statement can read a session with its user (see Open).
package sessionstore

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"gorm.io/gorm"
)

// Store implements sessions.Store on the sessions table.
type Store struct {
	db      *gorm.DB
	now     func() time.Time
	codecs  []securecookie.Codec
	Options *sessions.Options // defaults for new sessions
	UserKey string            // the key of the value kept in user_id, an int64
}

// New returns a store whose cookies are signed with hashKey.
func New(db *gorm.DB, now func() time.Time, hashKey []byte, opts sessions.Options) *Store {
	sc := securecookie.New(hashKey, nil)
	sc.MaxAge(0) // the row's expiry decides, not the cookie's timestamp
	return &Store{db: db, now: now, codecs: []securecookie.Codec{sc}, Options: &opts, UserKey: "uid"}
}

type row struct {
	ID        string
	Data      string
	UserID    *int64
	CreatedAt time.Time
	UpdatedAt time.Time
	ExpiresAt time.Time
}

func (row) TableName() string { return "sessions" }

// Get returns the request's session, loading it once per request.
func (s *Store) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the request's cookie, or starts an empty
// one when there is no valid cookie or its session has expired.
func (s *Store) New(r *http.Request, name string) (*sessions.Session, error) {
	return s.Open(r, name, func(id string, now time.Time) (string, bool, error) {
		var found []row
		err := s.db.WithContext(r.Context()).Where("id = ? AND expires_at > ?", id, now).Limit(1).Find(&found).Error
		if err != nil || len(found) == 0 {
			return "", false, err
		}
		return found[0].Data, true, nil
	})
}

// Open is New with the statement that reads the row given: read returns
// the data of the session with this id if it expires after now. The
// statement may read more than the row, such as the session's user
// joined on user_id. read is called only for a validly signed cookie.
func (s *Store) Open(r *http.Request, name string, read func(id string, now time.Time) (data string, found bool, err error)) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	opts := *s.Options
	sess.Options, sess.IsNew = &opts, true
	c, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	var id string
	if securecookie.DecodeMulti(name, c.Value, &id, s.codecs...) != nil {
		return sess, nil // forged, or signed with an old key
	}
	data, found, err := read(id, s.now())
	if err != nil {
		return sess, fmt.Errorf("sessionstore: unable to load a session: %w", err)
	}
	if !found || decode(data, &sess.Values) != nil {
		return sess, nil
	}
	sess.ID, sess.IsNew = id, false
	return sess, nil
}

// Save writes the session's values and sets its cookie; a negative MaxAge
// deletes both. Rows are addressed by the session's id, never by the
// request's cookie.
func (s *Store) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	db := s.db.WithContext(r.Context())
	if sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := db.Where("id = ?", sess.ID).Delete(&row{}).Error; err != nil {
				return fmt.Errorf("sessionstore: unable to delete a session: %w", err)
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	data, err := encode(sess.Values)
	if err != nil {
		return err
	}
	now := s.now()
	expires := now.Add(time.Duration(sess.Options.MaxAge) * time.Second)
	var user *int64
	if id, ok := sess.Values[s.UserKey].(int64); ok {
		user = &id
	}
	updated := int64(0)
	if sess.ID != "" {
		res := db.Model(&row{}).Where("id = ?", sess.ID).Updates(map[string]any{"data": data, "user_id": user, "updated_at": now, "expires_at": expires})
		if res.Error != nil {
			return fmt.Errorf("sessionstore: unable to save a session: %w", res.Error)
		}
		updated = res.RowsAffected
	}
	if updated == 0 { // new, or purged meanwhile
		sess.ID = newID()
		if err := db.Create(&row{ID: sess.ID, Data: data, UserID: user, CreatedAt: now, UpdatedAt: now, ExpiresAt: expires}).Error; err != nil {
			return fmt.Errorf("sessionstore: unable to create a session: %w", err)
		}
	}
	value, err := securecookie.EncodeMulti(sess.Name(), sess.ID, s.codecs...)
	if err != nil {
		return fmt.Errorf("sessionstore: unable to sign a session cookie: %w", err)
	}
	http.SetCookie(w, sessions.NewCookie(sess.Name(), value, sess.Options))
	sess.IsNew = false
	return nil
}

// Purge deletes expired sessions.
func (s *Store) Purge() error {
	if err := s.db.Where("expires_at <= ?", s.now()).Delete(&row{}).Error; err != nil {
		return fmt.Errorf("sessionstore: unable to purge sessions: %w", err)
	}
	return nil
}

func newID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// encode writes the values as a JSON object. JSON numbers are read back
// as int64, the one kind of number sessions hold.
func encode(values map[any]any) (string, error) {
	out := make(map[string]any, len(values))
	for k, v := range values {
		key, ok := k.(string)
		if !ok {
			return "", fmt.Errorf("sessionstore: a session key must be a string, not %T", k)
		}
		if !storable(v) {
			return "", fmt.Errorf("sessionstore: unable to keep a %T in a session (%q)", v, key)
		}
		out[key] = v
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("sessionstore: unable to encode session values: %w", err)
	}
	return string(b), nil
}

// storable reports whether v reads back as itself: a string, an int64, or
// a list of those.
func storable(v any) bool {
	switch v := v.(type) {
	case string, int64:
		return true
	case []any:
		for _, e := range v {
			if !storable(e) {
				return false
			}
		}
		return true
	}
	return false
}

func decode(data string, values *map[any]any) error {
	d := json.NewDecoder(strings.NewReader(data))
	d.UseNumber()
	var in map[string]any
	if err := d.Decode(&in); err != nil {
		return errors.Join(errors.New("sessionstore: unreadable session"), err)
	}
	for k, v := range in {
		v, err := fromJSON(v)
		if err != nil {
			return err
		}
		(*values)[k] = v
	}
	return nil
}

// fromJSON turns decoded JSON back into what was stored.
func fromJSON(v any) (any, error) {
	switch v := v.(type) {
	case json.Number:
		return v.Int64()
	case []any:
		for i, e := range v {
			var err error
			if v[i], err = fromJSON(e); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}
