package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"admincenter/internal/app"
	"admincenter/internal/domains"
	"admincenter/internal/text"
)

// Domains runs the operator commands about domains:
//
//	admincenter domains recheck DOMAIN
func (m *Main) Domains(ctx context.Context, args []string) error {
	if len(args) != 2 || args[0] != "recheck" {
		return usageError{fmt.Errorf("usage: admincenter domains recheck DOMAIN")}
	}
	defer m.Close()
	if err := m.open(ctx); err != nil {
		return err
	}
	svc, err := app.New(m.Config, m.DB, m.Now, bcrypt.DefaultCost)
	if err != nil {
		return usageError{err}
	}
	results, err := svc.Domains.Recheck(ctx, args[1])
	for _, r := range results {
		printRecheck(m.Stdout, r)
	}
	return err
}

func printRecheck(w io.Writer, r domains.Rechecked) {
	fmt.Fprintf(w, "%s in %s: %s → %s\n", r.After.UnicodeName, r.Organization, r.Before.Status.Label(), r.After.Status.Label())
	for _, res := range r.Report.Results {
		fmt.Fprintf(w, "  %s: %s (%s)\n    %s\n", res.Method, res.Outcome, res.Duration.Round(time.Millisecond), res.Summary)
		if res.DNS != nil {
			for _, q := range res.DNS.Queries {
				answer := q.Rcode
				if q.Error != "" {
					answer = strings.TrimSpace(answer + " " + q.Error)
				}
				fmt.Fprintf(w, "    asked %s over %s: %s %s → %s\n", q.Server, q.Transport, q.Type, q.Name, answer)
			}
			if len(res.DNS.CNAMEs) > 0 {
				fmt.Fprintf(w, "    followed CNAME %s\n", strings.Join(res.DNS.CNAMEs, " → "))
			}
			for _, v := range res.DNS.Values {
				fmt.Fprintf(w, "    TXT %q\n", v)
			}
			if res.DNS.More > 0 {
				fmt.Fprintf(w, "    and %d more\n", res.DNS.More)
			}
		}
		if res.HTTPS != nil {
			for _, h := range res.HTTPS.Hops {
				result := h.Error
				if h.Status != 0 {
					result = fmt.Sprint(h.Status)
				}
				fmt.Fprintf(w, "    GET %s via %s → %s %s\n", h.URL, h.Address, result, h.Location)
			}
		}
	}
	if r.After.NextCheckAt != nil {
		fmt.Fprintf(w, "  next automatic check: %s\n", text.Precise(*r.After.NextCheckAt))
	}
	if r.After.DeadlineAt != nil {
		fmt.Fprintf(w, "  re-validation deadline: %s\n", text.Precise(*r.After.DeadlineAt))
	}
}
