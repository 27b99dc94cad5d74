package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"admincenter/internal/app"
	"admincenter/internal/config"
	"admincenter/internal/domains"
	"admincenter/internal/text"
	"admincenter/internal/verify"
)

// diagnosis is what `domains diagnose` found, as --json prints it.
type diagnosis struct {
	Domain      string
	Token       string
	TokenSource string // "given", "published" (read at _twilio) or "" when unknown
	Results     []verify.Result
}

// Diagnose runs the checks of a domain, and everything they look at when
// the proof is missing, without a database: for support, and for scripts.
// Without --token it judges the value published at _twilio, if one looks
// like a token; without --file it skips the HTML-file check, whose file
// name is random.
func (m *Main) Diagnose(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("diagnose", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	token := fs.String("token", "", "the expected TXT value, twilio-domain-verification=…")
	file := fs.String("file", "", "the name of the HTML file, to check it too")
	asJSON := fs.Bool("json", false, "print JSON")
	// The domain may come before or after the flags.
	var rest []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return usageError{fmt.Errorf("%v\n%s", err, domainsUsage)}
		}
		if args = fs.Args(); len(args) > 0 {
			rest, args = append(rest, args[0]), args[1:]
		}
	}
	if len(rest) != 1 {
		return usageError{errors.New(domainsUsage)}
	}
	name, err := domains.Normalize(rest[0], &domains.Blocklist{} /* any domain may be diagnosed */)
	if err != nil {
		return usageError{err}
	}
	cfg, err := config.Load(m.Getenv)
	if err != nil {
		return usageError{err}
	}
	checker, err := app.NewChecker(cfg)
	if err != nil {
		return usageError{err}
	}
	d := diagnosis{Domain: name.ASCII, Token: strings.TrimSpace(*token), TokenSource: "given", Results: []verify.Result{}}
	target := verify.Target{Domain: name.ASCII, Token: d.Token, FileName: strings.TrimPrefix(strings.TrimSpace(*file), "/")}
	if d.Token == "" {
		d.Token, d.TokenSource = checker.PublishedToken(ctx, name.ASCII)
		target.Token = d.Token
	}
	if d.Token != "" {
		d.Results = append(d.Results, checker.CheckDNS(ctx, target))
	}
	if target.FileName != "" && d.Token != "" {
		d.Results = append(d.Results, checker.CheckHTTPS(ctx, target))
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(d); err != nil {
			return err
		}
	} else {
		printDiagnosis(m.Stdout, d)
	}
	for _, r := range d.Results {
		if r.Outcome == verify.Found {
			return nil
		}
	}
	return fmt.Errorf("no proof of %s found", name.Unicode)
}

func printDiagnosis(w io.Writer, d diagnosis) {
	switch d.TokenSource {
	case "given":
		fmt.Fprintf(w, "%s, expecting %s\n", d.Domain, d.Token)
	case "published":
		fmt.Fprintf(w, "%s, judging the value published at %s: %s (give --token to check another)\n", d.Domain, verify.TXTName(d.Domain), d.Token)
	default:
		fmt.Fprintf(w, "%s: no value like %s… is published at %s; give --token VALUE to look for it elsewhere\n",
			d.Domain, domains.TokenPrefix, verify.TXTName(d.Domain))
	}
	for _, r := range d.Results {
		printResult(w, r)
	}
}

// printResult prints one check: its outcome, what was asked and found,
// the nameservers' answers and the mistakes named.
func printResult(w io.Writer, res verify.Result) {
	fmt.Fprintf(w, "  %s: %s (%s)\n    %s\n", res.Method, res.Outcome, res.Duration.Round(time.Millisecond), res.Summary)
	for _, m := range res.Mistakes {
		fmt.Fprintf(w, "    ! %s\n      %s\n", m.Found, m.Fix)
	}
	if r := res.DNS; r != nil {
		for _, q := range r.Queries {
			how := q.Transport
			if q.Direct {
				how += ", direct"
			}
			fmt.Fprintf(w, "    asked %s over %s: %s %s → %s\n", q.Server, how, q.Type, q.Name, q.Answer())
		}
		if len(r.CNAMEs) > 0 {
			fmt.Fprintf(w, "    followed CNAME %s\n", strings.Join(r.CNAMEs, " → "))
		}
		for _, v := range r.Values {
			fmt.Fprintf(w, "    TXT %q\n", v)
		}
		if r.More > 0 {
			fmt.Fprintf(w, "    and %d more\n", r.More)
		}
		if r.Authenticated {
			fmt.Fprintln(w, "    DNSSEC: the resolver validated the answer")
		}
		if r.NegativeUntil != nil {
			fmt.Fprintf(w, "    resolvers that asked before may say \"not found\" until %s\n", text.Precise(*r.NegativeUntil))
		}
		if p := r.Propagation(); p != "" {
			fmt.Fprintf(w, "    nameservers of %s: %s\n", r.Zone, p)
		} else if r.AuthorityProblem != "" {
			fmt.Fprintf(w, "    nameservers not asked: %s\n", r.AuthorityProblem)
		}
		for _, ns := range r.Nameservers {
			detail := ns.Detail
			if detail == "" {
				detail = strings.Join(ns.Values, ", ")
			}
			fmt.Fprintf(w, "      %s (%s): %s %s\n", ns.Name, cmp.Or(ns.Address, "not asked"), ns.Answer, detail)
		}
	}
	if r := res.HTTPS; r != nil {
		for _, h := range r.Hops {
			result := h.Error
			if h.Status != 0 {
				result = fmt.Sprint(h.Status)
			}
			fmt.Fprintf(w, "    GET %s via %s → %s %s\n", h.URL, h.Address, result, h.Location)
		}
		if c := r.Certificate; c != nil {
			fmt.Fprintf(w, "    certificate of %s, issued by %s, valid %s to %s, for %s\n", c.Subject, c.Issuer,
				text.Precise(c.NotBefore), text.Precise(c.NotAfter), strings.Join(c.Names, ", "))
		}
	}
}
