package users

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm/schema"
)

// The hand-written scan reads every column of a user, in the order GORM
// names them, so that a column added to User cannot be forgotten.
func TestUserColumnsAreEveryField(t *testing.T) {
	var names []string
	for i := range reflect.TypeFor[User]().NumField() {
		names = append(names, "users."+schema.NamingStrategy{}.ColumnName("", reflect.TypeFor[User]().Field(i).Name))
	}
	if got := strings.Join(strings.Fields(strings.ReplaceAll(Columns, ",", " ")), " "); got != strings.Join(names, " ") {
		t.Errorf("Columns\n got %s\nwant %s", got, strings.Join(names, " "))
	}
	if n := len((&User{}).Fields()); n != len(names) {
		t.Errorf("Fields() has %d destinations for %d columns", n, len(names))
	}
}

// NULL, as a LEFT JOIN that finds no user gives it, reads as the zero
// value; anything else as itself.
func TestOrZero(t *testing.T) {
	s, at := "kept", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := orZero(&s).Scan(nil); err != nil || s != "" {
		t.Errorf("NULL read as %q, %v", s, err)
	}
	var got time.Time
	if err := orZero(&got).Scan(at); err != nil || !got.Equal(at) {
		t.Errorf("a time read as %v, %v", got, err)
	}
	var n int64
	if err := orZero(&n).Scan("x"); err == nil {
		t.Errorf("a string read into an int64 as %d, without an error", n)
	}
}
