package main

import (
	"context"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"admincenter/internal/app"
	"admincenter/internal/apperr"
)

// Org runs the operator commands about organizations:
//
//	admincenter org feature ORG bulk-import on|off
func (m *Main) Org(ctx context.Context, args []string) error {
	if len(args) != 4 || args[0] != "feature" || args[2] != "bulk-import" || (args[3] != "on" && args[3] != "off") {
		return usageError{fmt.Errorf("usage: admincenter org feature ORG bulk-import on|off   (ORG: the organization's id or exact name)")}
	}
	defer m.Close()
	if err := m.open(ctx); err != nil {
		return err
	}
	svc, err := app.New(m.Config, m.DB, m.Now, bcrypt.DefaultCost)
	if err != nil {
		return usageError{err}
	}
	on := args[3] == "on"
	org, err := svc.Orgs.SetFeature(ctx, args[1], on)
	if c := apperr.CodeOf(err); c == apperr.NotFound || c == apperr.Conflict {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Bulk User Import is %s for %s (organization %d).\n", args[3], org.Name, org.ID)
	return nil
}
