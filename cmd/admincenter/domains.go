package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/bcrypt"

	"admincenter/internal/app"
	"admincenter/internal/domains"
	"admincenter/internal/text"
)

const domainsUsage = "usage: admincenter domains recheck DOMAIN | domains diagnose DOMAIN [--token VALUE] [--file NAME] [--json]"

// Domains runs the operator commands about domains:
//
//	admincenter domains recheck DOMAIN
//	admincenter domains diagnose DOMAIN [--token VALUE] [--file NAME] [--json]
func (m *Main) Domains(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "diagnose" {
		return m.Diagnose(ctx, args[1:])
	}
	if len(args) != 2 || args[0] != "recheck" {
		return usageError{errors.New(domainsUsage)}
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
		printResult(w, res)
	}
	if r.After.NextCheckAt != nil {
		fmt.Fprintf(w, "  next automatic check: %s\n", text.Precise(*r.After.NextCheckAt))
	}
	if r.After.DeadlineAt != nil {
		fmt.Fprintf(w, "  re-validation deadline: %s\n", text.Precise(*r.After.DeadlineAt))
	}
}
