package users

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CheckText says what is wrong with one line of text a person typed (a
// name, an email address, a search), in a message that starts with what,
// such as "A name". It is the one rule for such text, checked before the
// text is lowercased or stored:
//
//   - bytes that are not UTF-8: PostgreSQL refuses them, and lowercasing
//     would silently turn them into U+FFFD;
//   - control characters (C0 including NUL, tab and newline, DEL, C1):
//     PostgreSQL refuses NUL, terminals obey escapes, and these fields
//     are one line;
//   - the invisible direction characters: the embeddings and overrides
//     U+202A–U+202E, the isolates U+2066–U+2069 and the marks U+200E,
//     U+200F and U+061C. They make text display in another order than
//     it is stored, so that an email address or a name in a list can
//     pass for another.
//
// Other invisible characters such as the zero-width joiners stay allowed:
// some scripts and emoji need them. Messages name the character found by
// its code point, since it cannot be seen.
func CheckText(what, s string) string {
	if !utf8.ValidString(s) {
		return what + " must be text: it contains bytes that are not valid UTF-8."
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r):
			return fmt.Sprintf("%s cannot contain control characters (found %U).", what, r)
		case isDirectionControl(r):
			return fmt.Sprintf("%s cannot contain invisible direction characters (found %U).", what, r)
		}
	}
	return ""
}

func isDirectionControl(r rune) bool {
	return r >= '\u202A' && r <= '\u202E' || r >= '\u2066' && r <= '\u2069' ||
		r == '\u200E' || r == '\u200F' || r == '\u061C'
}

// NameRule is the rule for a name a person gives (their own, an account's,
// an organization's): one line of text by CheckText, not empty, and at
// most Max characters.
type NameRule struct {
	What  string // how messages start: "A name"
	Empty string // the message for a name left empty
	Max   int    // in characters
}

// Check trims *name and says what is wrong with it, if anything.
func (r NameRule) Check(name *string) string {
	*name = strings.TrimSpace(*name)
	if msg := CheckText(r.What, *name); msg != "" {
		return msg
	}
	switch {
	case *name == "":
		return r.Empty
	case utf8.RuneCountInString(*name) > r.Max:
		return fmt.Sprintf("%s can be at most %d characters.", r.What, r.Max)
	}
	return ""
}

// The names people give.
var (
	PersonName  = NameRule{What: "A name", Empty: "Enter your name.", Max: 100}
	AccountName = NameRule{What: "An account name", Empty: "Enter a name for the account.", Max: 64}
)
