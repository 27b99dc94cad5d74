package users_test

import (
	"testing"

	"admincenter/internal/users"
)

func TestCheckText(t *testing.T) {
	cases := []struct{ text, want string }{
		// Allowed: letters of any script, the joiners some scripts and
		// emoji need, and right-to-left text typed without controls.
		{"Zoë O’Brien-Łukasiewicz", ""},
		{"מרים כהן", ""},
		{"محمد\u200cعلی", ""},       // ZERO WIDTH NON-JOINER, needed in Persian
		{"Ana 👩\u200d💻", ""},        // ZERO WIDTH JOINER in an emoji sequence
		{"name@bücher.example", ""}, // only the email check says what an address is
		{"Eve\x00", "A name cannot contain control characters (found U+0000)."},
		{"E\xffve", "A name must be text: it contains bytes that are not valid UTF-8."},
		{"Eve\nEvil", "A name cannot contain control characters (found U+000A)."},
		{"Eve\u009bEvil", "A name cannot contain control characters (found U+009B)."},
		{"\u202aEve", "A name cannot contain invisible direction characters (found U+202A)."},
		{"Eve\u2069", "A name cannot contain invisible direction characters (found U+2069)."},
		{"Eve\u200e", "A name cannot contain invisible direction characters (found U+200E)."},
		{"Eve\u061c", "A name cannot contain invisible direction characters (found U+061C)."},
	}
	for _, c := range cases {
		if got := users.CheckText("A name", c.text); got != c.want {
			t.Errorf("CheckText(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

// An address is checked as typed: lowercasing first would turn a byte
// that is not UTF-8 into U+FFFD, and the address would be accepted.
func TestNormalizeEmailChecksBeforeLowercasing(t *testing.T) {
	if got, msg := users.NormalizeEmail(" Eve\xff@Example.com "); got != "" || msg != "An email address must be text: it contains bytes that are not valid UTF-8." {
		t.Fatalf("got %q, %q", got, msg)
	}
	if got, msg := users.NormalizeEmail(" Eve@Example.com\t"); got != "eve@example.com" || msg != "" {
		t.Fatalf("got %q, %q", got, msg)
	}
}
