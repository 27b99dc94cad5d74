package domains

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"os"
	"strings"
)

//go:embed providers.txt
var defaultProviders string

// Blocklist holds the common email providers whose domains nobody may
// verify: they are shared by many unrelated people.
type Blocklist struct {
	domains map[string]bool
}

// DefaultBlocklist is the built-in list of common email providers.
func DefaultBlocklist() *Blocklist {
	b, _ := parseBlocklist(strings.NewReader(defaultProviders))
	return b
}

// LoadBlocklist reads a list from a file, one domain per line; blank lines
// and lines starting with # are ignored. It replaces the built-in list.
func LoadBlocklist(path string) (*Blocklist, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("domains: unable to read the email provider list: %w", err)
	}
	defer f.Close()
	return parseBlocklist(f)
}

func parseBlocklist(r io.Reader) (*Blocklist, error) {
	b := &Blocklist{domains: map[string]bool{}}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		d := strings.ToLower(strings.TrimSpace(sc.Text()))
		if d == "" || strings.HasPrefix(d, "#") {
			continue
		}
		// The dot test applies to the name without its final dot: "com."
		// would otherwise block every .com domain.
		name := strings.TrimSuffix(d, ".")
		if strings.ContainsAny(d, " \t/@") || !strings.Contains(name, ".") {
			return nil, fmt.Errorf("domains: line %d of the email provider list: %q is not a domain name", line, d)
		}
		b.domains[name] = true
	}
	return b, sc.Err()
}

// Len returns the number of providers in the list.
func (b *Blocklist) Len() int { return len(b.domains) }

// Match returns the listed provider that name is or belongs to, if any:
// gmail.com and mail.gmail.com both match gmail.com.
func (b *Blocklist) Match(name string) string {
	for d := name; d != ""; {
		if b.domains[d] {
			return d
		}
		_, rest, ok := strings.Cut(d, ".")
		if !ok {
			break
		}
		d = rest
	}
	return ""
}

// MatchEmail returns the provider of an email address, if it is listed.
func (b *Blocklist) MatchEmail(email string) string {
	return b.Match(email[strings.LastIndexByte(email, '@')+1:])
}
