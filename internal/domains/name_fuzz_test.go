package domains_test

import (
	"errors"
	"strings"
	"testing"

	"admincenter/internal/domains"
)

var sentinels = []error{
	domains.ErrEmpty, domains.ErrNotAName, domains.ErrBadCharacter, domains.ErrEmptyLabel,
	domains.ErrLabelTooLong, domains.ErrTooLong, domains.ErrSingleLabel, domains.ErrNumericTLD,
	domains.ErrIPAddress, domains.ErrPublicSuffix, domains.ErrEmailProvider, domains.ErrWWW,
}

// FuzzNormalize checks what every accepted name looks like, that accepting
// is idempotent, and that every refusal names one rule.
func FuzzNormalize(f *testing.F) {
	for _, tc := range refusals {
		f.Add(tc.input)
	}
	for _, s := range []string{
		"acme.com", " Acme.COM. ", "eu.acme.com", "Bücher.Example", "xn--bcher-kva.example",
		"ａｃｍｅ。com", "xn--ls8h.la", "ß.de", "a\u00ad.com", "a.b.c.d", label63 + ".com", name253,
		"xn--p1ai", "пример.рф", "مثال.إختبار", "a.א", "1a.com", "acme.com\x00", "\xff.com",
	} {
		f.Add(s)
	}
	providers := domains.DefaultBlocklist()
	f.Fuzz(func(t *testing.T, input string) {
		name, err := domains.Normalize(input, providers)
		if err != nil {
			checkRefusal(t, input, err)
			return
		}
		checkName(t, input, name.ASCII)
		again, err := domains.Normalize(name.ASCII, providers)
		if err != nil || again != name {
			t.Fatalf("Normalize(%q) = %+v, but Normalize(%q) = %+v, %v", input, name, name.ASCII, again, err)
		}
	})
}

func checkRefusal(t *testing.T, input string, err error) {
	t.Helper()
	ne, ok := errors.AsType[*domains.NameError](err)
	if !ok {
		t.Fatalf("Normalize(%q) returned %T %v, want a *NameError", input, err, err)
	}
	matched := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			matched++
		}
	}
	if matched != 1 || ne.Message == "" {
		t.Fatalf("Normalize(%q) = %v (rule %v), want one rule and a message", input, err, ne.Rule)
	}
}

// checkName checks the A-label form of an accepted name.
func checkName(t *testing.T, input, ascii string) {
	t.Helper()
	if ascii != strings.ToLower(ascii) || len(ascii) > 253 {
		t.Fatalf("Normalize(%q) accepted %q: not lowercase, or longer than 253 bytes", input, ascii)
	}
	labels := strings.Split(ascii, ".")
	if len(labels) < 2 {
		t.Fatalf("Normalize(%q) accepted the single label %q", input, ascii)
	}
	for _, l := range labels {
		if len(l) < 1 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			t.Fatalf("Normalize(%q) accepted %q with the label %q", input, ascii, l)
		}
		for _, c := range []byte(l) {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				t.Fatalf("Normalize(%q) accepted %q with the byte %q", input, ascii, c)
			}
		}
	}
}
