package database_test

import (
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/database"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
)

// Read gives the same rows on both databases, into the destinations the
// hand-written scans use: NULL moments into pointers, named strings,
// scanners and booleans; inside a transaction it reads the transaction's
// own writes.
func TestReadScansOnBothDatabases(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		for i, email := range []string{"ada@acme.test", "bob@acme.test"} {
			u := users.User{Email: email, Name: "N", PasswordHash: "x", SessionsValidAfter: at, CreatedAt: at}
			if i == 0 {
				u.EmailVerifiedAt = &at
			}
			if err := db.Create(&u).Error; err != nil {
				t.Fatal(err)
			}
		}
		type row struct {
			Email    string
			Verified *time.Time
			Role     users.Role
			Ada      bool
		}
		read := func(db *gorm.DB) []row {
			t.Helper()
			var out []row
			var r row
			err := database.Read(db, "SELECT email, email_verified_at, role, email = ? FROM users WHERE email LIKE ? ORDER BY email",
				[]any{"ada@acme.test", "%@acme.test"}, func(scan func(...any) error) error {
					if err := scan(&r.Email, &r.Verified, &r.Role, &r.Ada); err != nil {
						return err
					}
					out = append(out, r)
					return nil
				})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		got := read(db)
		if len(got) != 2 || got[0].Email != "ada@acme.test" || got[0].Verified == nil || !got[0].Verified.Equal(at) || !got[0].Ada ||
			got[1].Verified != nil || got[1].Role != "" || got[1].Ada {
			t.Errorf("read %+v", got)
		}

		// On PostgreSQL the rows come from pgx itself, which (unlike
		// database/sql) reads an array into a slice.
		if !database.IsSQLite(db) {
			var names []string
			err := database.Read(db, "SELECT ARRAY['a', 'b']", nil, func(scan func(...any) error) error { return scan(&names) })
			if err != nil || len(names) != 2 {
				t.Errorf("the array read as %v, %v: not through pgx", names, err)
			}
		}

		err := db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Model(&users.User{}).Where("email = ?", "bob@acme.test").Update("email", "carl@acme.test").Error; err != nil {
				return err
			}
			if got := read(tx); len(got) != 2 || got[1].Email != "carl@acme.test" {
				t.Errorf("inside a transaction, read %+v", got)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
