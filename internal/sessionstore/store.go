// Package sessionstore keeps gorilla/sessions sessions in the database, so
// that every instance sees them. The cookie holds only the session's id,
// signed; the values stay on the server.
//
// Unlike a store that treats every failure as "no session", a database
// error here is an error: a signed-in person is never silently turned into
// a visitor whose next save would overwrite their session.
package sessionstore

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/gob"
	"errors"
	"fmt"
	"net/http"
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
}

// New returns a store whose cookies are signed with hashKey.
func New(db *gorm.DB, now func() time.Time, hashKey []byte, opts sessions.Options) *Store {
	sc := securecookie.New(hashKey, nil)
	sc.MaxAge(0) // the row's expiry decides, not the cookie's timestamp
	return &Store{db: db, now: now, codecs: []securecookie.Codec{sc}, Options: &opts}
}

type row struct {
	ID        string
	Data      string
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
	var found []row
	err = s.db.WithContext(r.Context()).Where("id = ? AND expires_at > ?", id, s.now()).Limit(1).Find(&found).Error
	if err != nil {
		return sess, fmt.Errorf("sessionstore: unable to load a session: %w", err)
	}
	if len(found) == 0 || decode(found[0].Data, &sess.Values) != nil {
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
	updated := int64(0)
	if sess.ID != "" {
		res := db.Model(&row{}).Where("id = ?", sess.ID).Updates(map[string]any{"data": data, "updated_at": now, "expires_at": expires})
		if res.Error != nil {
			return fmt.Errorf("sessionstore: unable to save a session: %w", res.Error)
		}
		updated = res.RowsAffected
	}
	if updated == 0 { // new, or purged meanwhile
		sess.ID = newID()
		if err := db.Create(&row{ID: sess.ID, Data: data, CreatedAt: now, UpdatedAt: now, ExpiresAt: expires}).Error; err != nil {
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

func encode(values map[any]any) (string, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(values); err != nil {
		return "", fmt.Errorf("sessionstore: unable to encode session values: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

func decode(data string, values *map[any]any) error {
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return err
	}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(values); err != nil {
		return errors.Join(errors.New("sessionstore: unreadable session"), err)
	}
	return nil
}
