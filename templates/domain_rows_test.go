package templates

import (
	"html"
	"testing"
)

// The rows written in Go escape as templ does (html.EscapeString).
func TestAppendEscapedIsTemplsEscaping(t *testing.T) {
	for _, s := range []string{"", "acme.test", `<a href="x">&'</a>`, "bücher.test & co's \"<>\"", "&&", "'", "ends with <"} {
		if got, want := string(appendEscaped([]byte("kept:"), s)), "kept:"+html.EscapeString(s); got != want {
			t.Errorf("appendEscaped(%q) = %q, want %q", s, got, want)
		}
	}
}

func FuzzAppendEscaped(f *testing.F) {
	f.Add(`<b a="1">&'</b>`)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendEscaped(nil, s)), html.EscapeString(s); got != want {
			t.Errorf("appendEscaped(%q) = %q, want %q", s, got, want)
		}
	})
}
