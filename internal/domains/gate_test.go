package domains_test

import (
	"slices"
	"testing"

	"gorm.io/gorm"

	"admincenter/internal/domains"
	"admincenter/internal/testdb"
)

func TestAllowsEmail(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		acme, owner := f.Org(t, "Acme Corp", "olivia@acme.test")
		_, globexOwner := f.Org(t, "Globex", "gloria@globex.test")
		f.verified(t, owner, "acme.test")
		f.verified(t, owner, "bücher.test")
		f.add(t, owner, "initech.test")
		failed := f.add(t, owner, "failed.test")
		f.setStatus(t, failed.ID, domains.Failed)
		revalidating := f.verified(t, owner, "labs.test")
		f.setStatus(t, revalidating.ID, domains.Revalidating)
		underVerified := f.verified(t, owner, "eu.acme.test")
		f.setStatus(t, underVerified.ID, domains.Revalidating)
		f.verified(t, globexOwner, "globex.test")

		refusals := []struct{ email, want string }{
			{"ada@gmail.com", "gmail.com is a common email provider. Add people by their address at one of your organization's verified domains."},
			{"ada@mail.yahoo.co.uk", "yahoo.co.uk is a common email provider"},
			{"ada@unknown.test", "unknown.test is not one of your organization's domains. Add and verify it in Domains before adding people with unknown.test addresses."},
			{"ada@globex.test", "globex.test is not one of your organization's domains"},
			{"ada@sub.labs.test", "labs.test needs re-validation"},
			{"ada@initech.test", "initech.test is not verified yet (Pending verification). Verify it in Domains before adding people with initech.test addresses."},
			{"ada@failed.test", "failed.test is not verified yet (Verification failed)."},
			{"ada@labs.test", "labs.test needs re-validation: until it is verified again, nobody with a labs.test address can be added."},
		}
		for _, tc := range refusals {
			wantField(t, domains.AllowsEmail(db, f.svc.Providers, acme.ID, tc.email), "email", tc.want)
		}
		// Verified domains allow their addresses and their subdomains'
		// (control of acme.test's DNS covers eu.acme.test), whichever form
		// of an internationalised name the address uses.
		for _, email := range []string{"ada@acme.test", "ada@sub.acme.test", "ada@eu.acme.test", "ada@bücher.test", "ada@xn--bcher-kva.test"} {
			if err := domains.AllowsEmail(db, f.svc.Providers, acme.ID, email); err != nil {
				t.Errorf("AllowsEmail(%q): %v", email, err)
			}
		}

		names, err := f.svc.VerifiedNames(f.ctx, acme.ID)
		if err != nil || !slices.Equal(names, []string{"acme.test", "bücher.test"}) {
			t.Fatalf("VerifiedNames = %q, %v", names, err)
		}
	})
}

// "An address is at this domain, or under it" is one rule with a Go form,
// EmailDomains, and an SQL form, AtDomain: both agree on every case, on
// both databases.
func TestEmailAtDomainIsOneRule(t *testing.T) {
	cases := []struct {
		email, domain string
		at            bool
	}{
		{"ada@acme.test", "acme.test", true},
		{"ada@eu.acme.test", "acme.test", true},
		{"ada@a.b.acme.test", "acme.test", true},
		{"ada@acme.test", "eu.acme.test", false},
		{"ada@notacme.test", "acme.test", false},
		{"ada@acme.testing", "acme.test", false},
		{"ada@acme.test.evil", "acme.test", false},
		{"ada.acme.test@gmail.com", "acme.test", false},
		{"ada@xn--bcher-kva.test", "xn--bcher-kva.test", true},
		{"ada@bücher.test", "xn--bcher-kva.test", true},
		{"ada@shop.bücher.test", "xn--bcher-kva.test", true},
		{"ada@shop.xn--bcher-kva.test", "xn--bcher-kva.test", true},
		{"ada@bucher.test", "xn--bcher-kva.test", false},
	}
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		for _, c := range cases {
			if got := slices.Contains(domains.EmailDomains(c.email), c.domain); got != c.at {
				t.Errorf("EmailDomains(%q) holds %s: %v, want %v", c.email, c.domain, got, c.at)
			}
			var n int64
			err := db.Table("(SELECT ? AS email) AS t", c.email).Where(domains.AtDomain("t.email", c.domain)).Count(&n).Error
			if err != nil {
				t.Fatal(err)
			}
			if got := n == 1; got != c.at {
				t.Errorf("AtDomain(%q, %s): %v, want %v", c.email, c.domain, got, c.at)
			}
		}
	})
}
