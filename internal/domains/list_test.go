package domains_test

import (
	"reflect"
	"strings"
	"testing"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/domains"
	"admincenter/internal/testdb"
)

func names(list []domains.Domain) []string {
	out := []string{}
	for _, d := range list {
		out = append(out, d.UnicodeName)
	}
	return out
}

// TestListing filters the Domains list in the database and counts every
// status, on both databases, never showing another organization's
// domains.
func TestListing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		acme, owner := f.Org(t, "Acme Corp", "olivia@acme.test")
		_, rival := f.Org(t, "Globex", "gina@globex.test")
		f.verified(t, owner, "acme.test")
		f.add(t, owner, "eu.acme.test")
		f.add(t, owner, "Bücher.test")
		f.setStatus(t, f.add(t, owner, "initech.test").ID, domains.Failed)
		f.setStatus(t, f.verified(t, owner, "shared.test").ID, domains.Revalidating)
		// Another organization's domains, one of each status that Acme
		// also has, and names that the filters would match.
		f.verified(t, rival, "globex.test")
		f.add(t, rival, "acme-rival.test")
		f.add(t, rival, "bücher-rival.test")

		wantCounts := domains.Counts{domains.Verified: 1, domains.Pending: 2, domains.Revalidating: 1, domains.Failed: 1}
		cases := []struct {
			name    string
			filter  domains.Filter
			want    []string // by A-label
			applied domains.Filter
			refused apperr.Fields
		}{
			{"no filter", domains.Filter{}, []string{"acme.test", "eu.acme.test", "initech.test", "shared.test", "bücher.test"}, domains.Filter{}, apperr.Fields{}},
			{"part of a name, any case, trimmed", domains.Filter{Name: "  ACME "}, []string{"acme.test", "eu.acme.test"}, domains.Filter{Name: "ACME"}, apperr.Fields{}},
			{"Unicode name", domains.Filter{Name: "BÜCH"}, []string{"bücher.test"}, domains.Filter{Name: "BÜCH"}, apperr.Fields{}},
			{"A-label", domains.Filter{Name: "xn--bcher"}, []string{"bücher.test"}, domains.Filter{Name: "xn--bcher"}, apperr.Fields{}},
			{"status", domains.Filter{Status: domains.Pending}, []string{"eu.acme.test", "bücher.test"}, domains.Filter{Status: domains.Pending}, apperr.Fields{}},
			{"each status", domains.Filter{Status: domains.Revalidating}, []string{"shared.test"}, domains.Filter{Status: domains.Revalidating}, apperr.Fields{}},
			{"name and status", domains.Filter{Name: "acme", Status: domains.Pending}, []string{"eu.acme.test"}, domains.Filter{Name: "acme", Status: domains.Pending}, apperr.Fields{}},
			{"nothing matches", domains.Filter{Name: "globex"}, []string{}, domains.Filter{Name: "globex"}, apperr.Fields{}},
			// LIKE's wildcards are matched as themselves, which no name has.
			{"percent", domains.Filter{Name: "%"}, []string{}, domains.Filter{Name: "%"}, apperr.Fields{}},
			{"underscore", domains.Filter{Name: "xn_-"}, []string{}, domains.Filter{Name: "xn_-"}, apperr.Fields{}},
			{"backslash", domains.Filter{Name: `acme\`}, []string{}, domains.Filter{Name: `acme\`}, apperr.Fields{}},
			// A filter that no domain can match is named and left out.
			{"unknown status", domains.Filter{Name: "acme", Status: "gone"}, []string{"acme.test", "eu.acme.test"}, domains.Filter{Name: "acme"},
				apperr.Fields{"status": `There is no status "gone": choose one from the list.`}},
			{"control character", domains.Filter{Name: "acme\x00", Status: domains.Verified}, []string{"acme.test"}, domains.Filter{Status: domains.Verified},
				apperr.Fields{"name": "A search cannot contain control characters (found U+0000)."}},
			{"direction character", domains.Filter{Name: "acme\u202e"}, []string{"acme.test", "eu.acme.test", "initech.test", "shared.test", "bücher.test"}, domains.Filter{},
				apperr.Fields{"name": "A search cannot contain invisible direction characters (found U+202E)."}},
			{"not text", domains.Filter{Name: "\xff", Status: "\xfe"}, []string{"acme.test", "eu.acme.test", "initech.test", "shared.test", "bücher.test"}, domains.Filter{},
				apperr.Fields{"name": "A search must be text: it contains bytes that are not valid UTF-8.", "status": "There is no status \"\ufffd\": choose one from the list."}},
			{"long status", domains.Filter{Status: domains.Status(strings.Repeat("x", 500))}, []string{"acme.test", "eu.acme.test", "initech.test", "shared.test", "bücher.test"}, domains.Filter{},
				apperr.Fields{"status": `There is no status "` + strings.Repeat("x", 30) + `…": choose one from the list.`}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := f.svc.Listing(f.ctx, acme.ID, tc.filter, domains.Whole)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(names(got.Domains), tc.want) || got.Filter != tc.applied || !reflect.DeepEqual(got.Refused, tc.refused) || !reflect.DeepEqual(got.Counts, wantCounts) {
					t.Fatalf("Listing(%+v) = %v, applied %+v, refused %v, counts %v;\nwant %v, applied %+v, refused %v, counts %v",
						tc.filter, names(got.Domains), got.Filter, got.Refused, got.Counts, tc.want, tc.applied, tc.refused, wantCounts)
				}
			})
		}

		if got := wantCounts.String(); got != "1 verified · 2 pending · 1 needs re-validation · 1 failed" {
			t.Errorf("counts read %q", got)
		}
		// An organization without domains counts zero of each.
		empty, _ := f.Org(t, "Initech", "ian@initech.test")
		got, err := f.svc.Listing(f.ctx, empty.ID, domains.Filter{}, domains.Whole)
		zero := domains.Counts{domains.Verified: 0, domains.Pending: 0, domains.Revalidating: 0, domains.Failed: 0}
		if err != nil || len(got.Domains) != 0 || !reflect.DeepEqual(got.Counts, zero) || got.Counts.Total() != 0 {
			t.Fatalf("empty organization: %+v, %v", got, err)
		}
		if got := zero.String(); got != "0 verified · 0 pending · 0 need re-validation · 0 failed" {
			t.Errorf("zero counts read %q", got)
		}
	})
}
