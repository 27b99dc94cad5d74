package domains

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"admincenter/internal/apperr"
	"admincenter/internal/orgs"
)

// Rechecked is what an operator's check of one domain entry found.
type Rechecked struct {
	Organization string
	Before       Domain
	After        Domain
	Report       Report
}

// Recheck checks every organization's entry of a domain name now, by both
// methods, and records the results as the ticker would. It is the
// operator's tool for "why is this domain (not) verified?".
func (s *Service) Recheck(ctx context.Context, input string) ([]Rechecked, error) {
	name := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(input)), ".")
	if ascii, err := profile.ToASCII(name); err == nil {
		name = strings.ToLower(ascii)
	}
	var entries []Domain
	if err := s.DB.WithContext(ctx).Where("name = ?", name).Order("id").Find(&entries).Error; err != nil {
		return nil, fmt.Errorf("domains: unable to find %s: %w", name, err)
	}
	if len(entries) == 0 {
		return nil, apperr.New(apperr.NotFound, "No organization has the domain "+name+".")
	}
	var out []Rechecked
	for _, d := range entries {
		first := d.Method
		if d.VerifiedMethod != "" {
			first = d.VerifiedMethod
		}
		report := s.check(ctx, d, first)
		after, err := s.record(ctx, d.ID, report, nil, "")
		if err != nil && !errors.Is(err, ErrVerifiedElsewhere) {
			return out, err
		}
		var org orgs.Organization
		s.DB.WithContext(ctx).Take(&org, d.OrganizationID)
		out = append(out, Rechecked{Organization: org.Name, Before: d, After: after, Report: report})
	}
	return out, nil
}
