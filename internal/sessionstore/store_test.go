package sessionstore_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"gorm.io/gorm"

	"admincenter/internal/clock"
	"admincenter/internal/sessionstore"
	"admincenter/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

func newStore(db *gorm.DB, clk *clock.Fake) *sessionstore.Store {
	return sessionstore.New(db, clk.Now, []byte("0123456789abcdef0123456789abcdef"), sessions.Options{Path: "/", MaxAge: 3600, HttpOnly: true})
}

// roundTrip saves sess in one request and returns the cookie it set.
func save(t *testing.T, st *sessionstore.Store, r *http.Request, sess *sessions.Session) *http.Cookie {
	t.Helper()
	w := httptest.NewRecorder()
	if err := st.Save(r, w, sess); err != nil {
		t.Fatal(err)
	}
	cookies := w.Result().Cookies()
	return cookies[len(cookies)-1]
}

func request(c *http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if c != nil {
		r.AddCookie(c)
	}
	return r
}

func TestSaveLoadDelete(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		st := newStore(db, clk)
		sess, err := st.New(request(nil), "s")
		if err != nil || !sess.IsNew {
			t.Fatalf("new: %v %+v", err, sess)
		}
		sess.Values["uid"] = int64(42)
		sess.AddFlash("hello")
		cookie := save(t, st, request(nil), sess)
		if cookie.Value == "" || cookie.Value == sess.ID || !cookie.HttpOnly {
			t.Fatalf("cookie %+v", cookie)
		}

		got, err := st.New(request(cookie), "s")
		if err != nil || got.IsNew || got.Values["uid"] != int64(42) || got.ID != sess.ID {
			t.Fatalf("loaded %v %+v", err, got)
		}
		if fl := got.Flashes(); len(fl) != 1 || fl[0] != "hello" {
			t.Fatalf("flashes %v", fl)
		}
		save(t, st, request(cookie), got)
		again, _ := st.New(request(cookie), "s")
		if len(again.Flashes()) != 0 {
			t.Fatal("a flash survived being read")
		}

		// A tampered cookie starts a new session and leaves the row alone.
		forged := *cookie
		forged.Value = cookie.Value[:len(cookie.Value)-2] + "xx"
		if s, err := st.New(request(&forged), "s"); err != nil || !s.IsNew {
			t.Fatalf("forged cookie: %v %+v", err, s)
		}

		// Expired rows are not loaded, and are purged.
		clk.Advance(2 * time.Hour)
		if s, _ := st.New(request(cookie), "s"); !s.IsNew {
			t.Fatal("an expired session loaded")
		}
		if err := st.Purge(); err != nil {
			t.Fatal(err)
		}
		var n int64
		db.Table("sessions").Count(&n)
		if n != 0 {
			t.Fatalf("%d sessions after purge", n)
		}

		// MaxAge < 0 deletes the row and expires the cookie.
		fresh, _ := st.New(request(nil), "s")
		c2 := save(t, st, request(nil), fresh)
		fresh.Options.MaxAge = -1
		if del := save(t, st, request(c2), fresh); del.MaxAge >= 0 {
			t.Fatalf("deleting cookie %+v", del)
		}
		db.Table("sessions").Count(&n)
		if n != 0 {
			t.Fatal("the session row survived deletion")
		}
	})
}

// A database failure is an error, never an empty session that a later
// save would write over the real one.
func TestDatabaseErrorIsAnError(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		st := newStore(db, clk)
		sess, _ := st.New(request(nil), "s")
		sess.Values["uid"] = int64(7)
		cookie := save(t, st, request(nil), sess)
		sqlDB, _ := db.DB()
		sqlDB.Close()
		if _, err := st.New(request(cookie), "s"); err == nil {
			t.Fatal("a closed database loaded no session and no error")
		}
	})
}

// Values read back as they were kept: strings, int64s and lists of them
// (flashes); the user's id is kept in user_id too, for statements that
// join a session to its user. Any other kind of value is refused when
// saved rather than read back as something else.
func TestValuesKeepTheirKinds(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		st := newStore(db, clk)
		sess, _ := st.New(request(nil), "s")
		sess.Values["uid"] = int64(1) << 60
		sess.Values["auth_at"] = int64(-5)
		sess.Values["csrf"] = "tök\"en"
		sess.AddFlash("info\x00news")
		cookie := save(t, st, request(nil), sess)
		var user *int64
		db.Table("sessions").Select("user_id").Where("id = ?", sess.ID).Scan(&user)
		if user == nil || *user != int64(1)<<60 {
			t.Errorf("user_id %v, want the uid value", user)
		}
		got, err := st.New(request(cookie), "s")
		if err != nil || got.Values["uid"] != int64(1)<<60 || got.Values["auth_at"] != int64(-5) || got.Values["csrf"] != "tök\"en" {
			t.Fatalf("loaded %v %#v", err, got.Values)
		}
		if fl := got.Flashes(); len(fl) != 1 || fl[0] != "info\x00news" {
			t.Errorf("flashes %#v", fl)
		}

		got.Values["n"] = 3 // an int, not an int64
		if err := st.Save(request(cookie), httptest.NewRecorder(), got); err == nil {
			t.Error("an int was kept, to be read back as an int64")
		}
	})
}
