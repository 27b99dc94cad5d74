package domains

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// The rules a domain name can break, one sentinel each; a NameError wraps
// one of them with a message that quotes the input.
var (
	ErrEmpty         = errors.New("empty")
	ErrNotAName      = errors.New("not a bare domain name")
	ErrBadCharacter  = errors.New("character not allowed")
	ErrEmptyLabel    = errors.New("empty label")
	ErrLabelTooLong  = errors.New("label longer than 63 bytes")
	ErrTooLong       = errors.New("longer than 253 bytes")
	ErrSingleLabel   = errors.New("single label")
	ErrNumericTLD    = errors.New("numeric top-level domain")
	ErrIPAddress     = errors.New("IP address")
	ErrPublicSuffix  = errors.New("public suffix")
	ErrEmailProvider = errors.New("common email provider")
	ErrWWW           = errors.New("www prefix")
)

// NameError says why a domain name was refused.
type NameError struct {
	Rule    error
	Message string
}

func (e *NameError) Error() string { return e.Message }
func (e *NameError) Unwrap() error { return e.Rule }

func refuse(rule error, format string, args ...any) (Name, error) {
	return Name{}, &NameError{Rule: rule, Message: fmt.Sprintf(format, args...)}
}

// Name is a normalised domain name.
type Name struct {
	ASCII   string // the A-label form, stored and queried: xn--bcher-kva.example
	Unicode string // the U-label form, shown: bücher.example
}

// profile converts Unicode input to A-labels the way browsers do for
// lookups, but without rewriting disallowed characters silently.
var profile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.ValidateLabels(true),
	idna.StrictDomainName(false), // our own LDH check below gives a clearer message
	idna.Transitional(false),
)

// Normalize turns what a person typed into a domain name that may be
// verified, or says precisely why it cannot be. It trims, lowercases,
// strips one trailing dot and converts IDNs to A-labels; it refuses IP
// addresses, malformed names, public suffixes, common email providers and
// names starting with www.
func Normalize(input string, providers *Blocklist) (Name, error) {
	s := strings.TrimSpace(input)
	if s == "" || s == "." {
		return refuse(ErrEmpty, "Enter a domain name, like example.com.")
	}
	if strings.Contains(s, "://") || strings.ContainsAny(s, "/@?#:") && !isIPv6(s) {
		return refuse(ErrNotAName, "%q is not a bare domain name. Enter only the domain name, like example.com, without https://, a path, a port or an email address.", s)
	}
	s = strings.TrimSuffix(s, ".")
	if isIP(s) {
		return refuse(ErrIPAddress, "%s is an IP address. Enter a domain name, like example.com.", s)
	}
	if strings.HasSuffix(s, ".") {
		return refuse(ErrEmptyLabel, "%q ends with two dots. Enter a name like example.com.", input)
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '_' || r == '*' }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return refuse(ErrBadCharacter, "%q contains %q, which is not allowed in a domain name. Use letters, digits, hyphens and dots.", s, r)
	}
	ascii, err := profile.ToASCII(s)
	if err != nil || !utf8.ValidString(s) { // IDNA would encode a bad byte as U+FFFD
		// IDNA also refuses ASCII names that break an LDH rule, such as a
		// leading hyphen: say which rule, as for any other ASCII name.
		if isASCII(s) {
			if err := checkLabels(strings.ToLower(s)); err != nil {
				return Name{}, err
			}
			for _, l := range strings.Split(strings.ToLower(s), ".") {
				if len(l) >= 4 && l[2:4] == "--" && !strings.HasPrefix(l, "xn--") {
					return refuse(ErrBadCharacter, "%q has hyphens in its third and fourth places, which are kept for internationalised names (xn--).", l)
				}
			}
		}
		return refuse(ErrBadCharacter, "%q contains characters that are not allowed in a domain name. Use letters, digits, hyphens and dots.", s)
	}
	ascii = strings.ToLower(ascii)
	if err := checkLabels(ascii); err != nil && !(errors.Is(err, ErrSingleLabel) && isTLD(ascii)) {
		return Name{}, err
	}
	unicode, err := profile.ToUnicode(ascii)
	if err != nil {
		unicode = ascii
	}
	if suffix, _ := publicsuffix.PublicSuffix(ascii); suffix == ascii {
		return refuse(ErrPublicSuffix, "%s is a public suffix shared by many owners. Enter your own domain under it, like yourcompany.%s.", unicode, unicode)
	}
	if provider := providers.Match(ascii); provider != "" {
		return refuse(ErrEmailProvider, "%s is a common email provider, shared by many people. Only domains your organization owns can be verified.", provider)
	}
	if bare, ok := strings.CutPrefix(ascii, "www."); ok {
		// Hint only at a bare name that could itself be verified.
		if name, err := Normalize(bare, providers); err == nil {
			return refuse(ErrWWW, "Enter the bare domain without www: %s.", name.Unicode)
		}
		return refuse(ErrPublicSuffix, "%s is a public suffix shared by many owners. Enter your own domain, like yourcompany.com.", unicode)
	}
	return Name{ASCII: ascii, Unicode: unicode}, nil
}

// checkLabels applies the LDH rules of RFC 1035/5890 to an A-label name.
func checkLabels(name string) error {
	if len(name) > 253 {
		_, err := refuse(ErrTooLong, "A domain name can be at most 253 characters; this one has %d.", len(name))
		return err
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		switch {
		case l == "":
			_, err := refuse(ErrEmptyLabel, "%q has an empty part: two dots in a row, or a dot at the start.", name)
			return err
		case len(l) > 63:
			_, err := refuse(ErrLabelTooLong, "Each part between dots can be at most 63 characters; %q has %d.", shorten(l), len(l))
			return err
		case l[0] == '-' || l[len(l)-1] == '-':
			_, err := refuse(ErrBadCharacter, "%q starts or ends with a hyphen, which is not allowed.", l)
			return err
		}
		for _, c := range []byte(l) {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				_, err := refuse(ErrBadCharacter, "%q contains %q, which is not allowed in a domain name. Use letters, digits, hyphens and dots.", name, rune(c))
				return err
			}
		}
	}
	if len(labels) < 2 {
		_, err := refuse(ErrSingleLabel, "Enter a full domain name with a dot, like %s.com.", name)
		return err
	}
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		_, err := refuse(ErrNumericTLD, "%q does not end in a top-level domain like .com; the last part cannot be a number.", name)
		return err
	}
	return nil
}

// isTLD reports whether name is a top-level domain like com or uk: it is
// refused below as the public suffix it is, not as a single label, whose
// hint would suggest com.com.
func isTLD(name string) bool {
	_, icann := publicsuffix.PublicSuffix(name)
	return icann && !strings.Contains(name, ".")
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(strings.Trim(s, "[]"))
	return err == nil
}

func isIPv6(s string) bool {
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	return err == nil && a.Is6()
}

func shorten(s string) string {
	if len(s) <= 20 {
		return s
	}
	return s[:17] + "…"
}
