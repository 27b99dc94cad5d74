package users

import (
	"fmt"
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
