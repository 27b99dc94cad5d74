package domains_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"admincenter/internal/domains"
)

// Names at the length limits, built from labels of 63 bytes.
var (
	label63 = strings.Repeat("a", 63)
	name253 = strings.Join([]string{label63, label63, label63, strings.Repeat("d", 57), "com"}, ".")
	name254 = strings.Join([]string{label63, label63, label63, strings.Repeat("d", 58), "com"}, ".")
)

// refusals lists one or more inputs per rule, with a part of the message
// that shows the person what was wrong with what they typed.
var refusals = []struct {
	input string
	rule  error
	want  string
}{
	{"", domains.ErrEmpty, "Enter a domain name, like example.com."},
	{"  \t ", domains.ErrEmpty, "Enter a domain name"},
	{".", domains.ErrEmpty, "Enter a domain name"},

	{"https://acme.com", domains.ErrNotAName, `"https://acme.com" is not a bare domain name`},
	{"acme.com/about", domains.ErrNotAName, `"acme.com/about"`},
	{"acme.com:8080", domains.ErrNotAName, `"acme.com:8080"`},
	{"info@acme.com", domains.ErrNotAName, `"info@acme.com"`},
	{"acme.com?lang=en", domains.ErrNotAName, "without https://, a path, a port or an email address"},
	{"acme.com#top", domains.ErrNotAName, `"acme.com#top"`},
	{"1.2.3.4:80", domains.ErrNotAName, `"1.2.3.4:80"`},

	{"192.0.2.10", domains.ErrIPAddress, "192.0.2.10 is an IP address"},
	{"192.0.2.10.", domains.ErrIPAddress, "192.0.2.10 is an IP address"},
	{"2001:db8::1", domains.ErrIPAddress, "2001:db8::1 is an IP address"},
	{"::1", domains.ErrIPAddress, "::1 is an IP address"},
	{"[2001:db8::1]", domains.ErrIPAddress, "[2001:db8::1] is an IP address"},
	{"[192.0.2.10]", domains.ErrIPAddress, "[192.0.2.10] is an IP address"},

	{"bad_name.com", domains.ErrBadCharacter, `"bad_name.com" contains '_'`},
	{"bad name.com", domains.ErrBadCharacter, `"bad name.com" contains ' '`},
	{"*.acme.com", domains.ErrBadCharacter, `"*.acme.com" contains '*'`},
	{"acme!.com", domains.ErrBadCharacter, `"acme!.com" contains '!'`},
	{"👩\u200d💻.com", domains.ErrBadCharacter, `"👩\u200d💻.com" contains characters that are not allowed`},
	{"\xff.com", domains.ErrBadCharacter, `"\xff.com" contains characters that are not allowed`},
	{"xn--zz.com", domains.ErrBadCharacter, `"xn--zz.com" contains characters that are not allowed`},
	{"-acme.com", domains.ErrBadCharacter, `"-acme" starts or ends with a hyphen`},
	{"acme-.com", domains.ErrBadCharacter, `"acme-" starts or ends with a hyphen`},
	{"eu.acme.com-", domains.ErrBadCharacter, `"com-" starts or ends with a hyphen`},

	{"a..com", domains.ErrEmptyLabel, `"a..com" has an empty part`},
	{".com", domains.ErrEmptyLabel, `".com" has an empty part`},
	{"acme.com..", domains.ErrEmptyLabel, `"acme.com.." ends with two dots`},

	{strings.Repeat("a", 64) + ".com", domains.ErrLabelTooLong, `"aaaaaaaaaaaaaaaaa…" has 64`},
	{name254, domains.ErrTooLong, "at most 253 characters; this one has 254"},

	{"localhost", domains.ErrSingleLabel, "Enter a full domain name with a dot, like localhost.com."},
	{"acme", domains.ErrSingleLabel, "like acme.com."},

	{"acme.123", domains.ErrNumericTLD, `"acme.123" does not end in a top-level domain`},
	{"1.2.3", domains.ErrNumericTLD, `"1.2.3" does not end in a top-level domain`},

	{"co.uk", domains.ErrPublicSuffix, "co.uk is a public suffix shared by many owners. Enter your own domain under it, like yourcompany.co.uk."},
	{"github.io", domains.ErrPublicSuffix, "github.io is a public suffix"},
	{"com", domains.ErrPublicSuffix, "com is a public suffix shared by many owners. Enter your own domain under it, like yourcompany.com."},
	{"UK.", domains.ErrPublicSuffix, "uk is a public suffix"},

	{"gmail.com", domains.ErrEmailProvider, "gmail.com is a common email provider"},
	{"mail.gmail.com", domains.ErrEmailProvider, "gmail.com is a common email provider"},
	{"GMAIL.COM.", domains.ErrEmailProvider, "gmail.com is a common email provider"},
	{"yahoo.co.uk", domains.ErrEmailProvider, "yahoo.co.uk is a common email provider"},
	{"hotmail.com", domains.ErrEmailProvider, "hotmail.com is a common email provider"},
	{"qq.com", domains.ErrEmailProvider, "qq.com is a common email provider"},
	{"163.com", domains.ErrEmailProvider, "163.com is a common email provider"},
	{"web.de", domains.ErrEmailProvider, "web.de is a common email provider"},
	{"mail.ru", domains.ErrEmailProvider, "mail.ru is a common email provider"},
	{"www.gmail.com", domains.ErrEmailProvider, "gmail.com is a common email provider"},

	{"www.acme.com", domains.ErrWWW, "Enter the bare domain without www: acme.com."},
	{"WWW.Bücher.Example", domains.ErrWWW, "without www: bücher.example."},
}

func TestNormalizeRefusals(t *testing.T) {
	providers := domains.DefaultBlocklist()
	for _, tc := range refusals {
		t.Run(tc.input, func(t *testing.T) {
			name, err := domains.Normalize(tc.input, providers)
			if err == nil {
				t.Fatalf("Normalize(%q) = %+v, want %v", tc.input, name, tc.rule)
			}
			if !errors.Is(err, tc.rule) {
				t.Fatalf("Normalize(%q) broke rule %v, want %v: %v", tc.input, ruleOf(err), tc.rule, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Normalize(%q) says %q, want it to contain %q", tc.input, err, tc.want)
			}
			if name != (domains.Name{}) {
				t.Fatalf("a refusal returned the name %+v", name)
			}
		})
	}
}

func ruleOf(err error) error {
	if ne, ok := errors.AsType[*domains.NameError](err); ok {
		return ne.Rule
	}
	return nil
}

func TestNormalizeAccepts(t *testing.T) {
	providers := domains.DefaultBlocklist()
	tests := []struct {
		input, ascii, unicode string
	}{
		{"acme.com", "acme.com", "acme.com"},
		{"  Acme.COM.  ", "acme.com", "acme.com"},
		{"eu.acme.com", "eu.acme.com", "eu.acme.com"},
		{"mail.eu.acme.co.uk", "mail.eu.acme.co.uk", "mail.eu.acme.co.uk"},
		{"acme.github.io", "acme.github.io", "acme.github.io"},
		{"my-company2.example", "my-company2.example", "my-company2.example"},
		{"123.com", "123.com", "123.com"},
		{"Bücher.Example", "xn--bcher-kva.example", "bücher.example"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example", "bücher.example"},
		{"XN--BCHER-KVA.EXAMPLE.", "xn--bcher-kva.example", "bücher.example"},
		{"ａｃｍｅ。com", "acme.com", "acme.com"}, // full-width letters and dot, as typed on some keyboards
		{"wwwacme.com", "wwwacme.com", "wwwacme.com"},
		{"www-acme.com", "www-acme.com", "www-acme.com"},
		{label63 + ".com", label63 + ".com", label63 + ".com"},
		{name253, name253, name253},
	}
	for _, tc := range tests {
		t.Run(tc.input, func(t *testing.T) {
			got, err := domains.Normalize(tc.input, providers)
			if err != nil {
				t.Fatalf("Normalize(%q): %v", tc.input, err)
			}
			if want := (domains.Name{ASCII: tc.ascii, Unicode: tc.unicode}); got != want {
				t.Fatalf("Normalize(%q) = %+v, want %+v", tc.input, got, want)
			}
		})
	}
}

// Normalize uses the list it is given, not the built-in one.
func TestNormalizeUsesGivenBlocklist(t *testing.T) {
	custom := loadList(t, "mail.example\n")
	if _, err := domains.Normalize("gmail.com", custom); err != nil {
		t.Fatalf("gmail.com refused by a list without it: %v", err)
	}
	_, err := domains.Normalize("eu.mail.example", custom)
	if !errors.Is(err, domains.ErrEmailProvider) || !strings.Contains(err.Error(), "mail.example is a common email provider") {
		t.Fatalf("eu.mail.example: %v", err)
	}
}

func TestDefaultBlocklist(t *testing.T) {
	b := domains.DefaultBlocklist()
	if b.Len() < 40 {
		t.Fatalf("the built-in list has %d providers, want at least 40", b.Len())
	}
	for _, provider := range []string{
		"gmail.com", "googlemail.com", "hotmail.com", "outlook.com", "live.com", "msn.com",
		"yahoo.com", "ymail.com", "aol.com", "icloud.com", "me.com", "mac.com", "proton.me",
		"protonmail.com", "gmx.com", "gmx.de", "web.de", "mail.ru", "yandex.ru", "qq.com",
		"163.com", "126.com", "zoho.com",
	} {
		if got := b.Match(provider); got != provider {
			t.Errorf("Match(%q) = %q", provider, got)
		}
	}
	tests := map[string]string{
		"smtp.mail.gmail.com": "gmail.com",
		"acme.com":            "",
		"notgmail.com":        "",
		"gmail.com.evil.test": "",
		"com":                 "",
		"":                    "",
	}
	for name, want := range tests {
		if got := b.Match(name); got != want {
			t.Errorf("Match(%q) = %q, want %q", name, got, want)
		}
	}
	for email, want := range map[string]string{
		"ada@gmail.com":         "gmail.com",
		"ada@eu.hotmail.co.uk":  "hotmail.co.uk",
		"a@b@yahoo.com":         "yahoo.com",
		"ada@acme.com":          "",
		"gmail.com@acme.com":    "",
		"ada@googlemail.com.au": "",
	} {
		if got := b.MatchEmail(email); got != want {
			t.Errorf("MatchEmail(%q) = %q, want %q", email, got, want)
		}
	}
}

func loadList(t *testing.T, content string) *domains.Blocklist {
	t.Helper()
	path := filepath.Join(t.TempDir(), "providers.txt")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := domains.LoadBlocklist(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadBlocklist(t *testing.T) {
	b := loadList(t, "# our own list\n\n  Mail.Example.  \nwebmail.test\r\n\t# indented comment\n")
	if b.Len() != 2 {
		t.Fatalf("%d providers, want 2", b.Len())
	}
	for name, want := range map[string]string{
		"mail.example":    "mail.example",
		"eu.mail.example": "mail.example",
		"webmail.test":    "webmail.test",
		"gmail.com":       "", // the file replaces the built-in list
	} {
		if got := b.Match(name); got != want {
			t.Errorf("Match(%q) = %q, want %q", name, got, want)
		}
	}

	bad := []struct{ content, want string }{
		{"mail.example\n\nlocalhost\n", `line 3 of the email provider list: "localhost" is not a domain name`},
		{"mail example.com\n", `line 1 of the email provider list: "mail example.com"`},
		{"ok.example\nhttps://mail.example/\n", "line 2"},
		{"ok.example\n@mail.example\n", "line 2"},
		{"com.\n", `line 1 of the email provider list: "com."`},
	}
	for _, tc := range bad {
		path := filepath.Join(t.TempDir(), "providers.txt")
		if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := domains.LoadBlocklist(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "domains: ") {
			t.Errorf("LoadBlocklist(%q) = %v, want an error containing %q", tc.content, err, tc.want)
		}
		if b != nil {
			t.Errorf("LoadBlocklist(%q) returned a list with an error", tc.content)
		}
	}

	_, err := domains.LoadBlocklist(filepath.Join(t.TempDir(), "missing.txt"))
	if err == nil || !strings.Contains(err.Error(), "unable to read the email provider list") || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestNormalizeEdgeMessages(t *testing.T) {
	for _, tc := range []struct {
		input string
		rule  error
		want  string
	}{
		{"www.co.uk", domains.ErrPublicSuffix, "public suffix"},
		{"www.com", domains.ErrPublicSuffix, "public suffix"},
		{"ab--cd.com", domains.ErrBadCharacter, "third and fourth places"},
	} {
		_, err := domains.Normalize(tc.input, domains.DefaultBlocklist())
		if !errors.Is(err, tc.rule) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %v containing %q", tc.input, err, tc.rule, tc.want)
		}
	}
}
