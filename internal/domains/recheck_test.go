package domains_test

import (
	"strings"
	"testing"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/domains"
	"admincenter/internal/testdb"
	"admincenter/internal/verify"
)

// Recheck checks every organization's entry of a name now, by both
// methods, and records what it found as the ticker would.
func TestRecheck(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		acme, acmeOwner := f.Org(t, "Acme Corp", "olivia@acme.test")
		globex, globexOwner := f.Org(t, "Globex", "gloria@globex.test")
		mine := f.add(t, acmeOwner, "shared.test") // never clicked Verify
		theirs := f.verifiedBy(t, globexOwner, "shared.test", verify.HTTPS)
		f.publishTXT(t, mine)

		got, err := f.svc.Recheck(f.ctx, "  Shared.TEST. ")
		if err != nil || len(got) != 2 {
			t.Fatalf("Recheck: %+v, %v", got, err)
		}
		now := f.clk.Now()
		if r := got[0]; r.Organization != "Acme Corp" || r.Before.ID != mine.ID || r.Before.Status != domains.Pending ||
			r.After.Status != domains.Pending || r.Report.Outcome() != verify.Found || r.Report.Results[0].Method != verify.DNS ||
			!sameTime(r.After.LastCheckedAt, &now) {
			t.Fatalf("Acme's entry: %+v", r)
		}
		if r := got[1]; r.Organization != "Globex" || r.Before.ID != theirs.ID || r.After.Status != domains.Verified ||
			r.Report.Outcome() != verify.Found || r.Report.Results[0].Method != verify.HTTPS || len(r.Report.Results) != 2 {
			t.Fatalf("Globex's entry: %+v", r)
		}
		for _, d := range []domains.Domain{mine, theirs} {
			checks := f.checks(t, d.ID)
			last := checks[len(checks)-2:]
			if !last[0].Automatic || !last[1].Automatic || !last[0].CheckedAt.Equal(now) {
				t.Fatalf("%s's checks %+v", d.Name, last)
			}
		}
		// A proof found for a domain verified elsewhere changes nothing,
		// and a pending entry stays pending: no window was ever open.
		if got := f.reload(t, mine.ID); got.Status != domains.Pending || got.NextCheckAt != nil {
			t.Fatalf("Acme's entry after Recheck: %+v", got)
		}
		if got := actions(f.history(t, acme.ID, mine.ID)); strings.Join(got, " ") != "domain.added" {
			t.Fatalf("Acme's history: %v", got)
		}
		if got := actions(f.history(t, globex.ID, theirs.ID)); strings.Join(got, " ") != "domain.added domain.verified" {
			t.Fatalf("Globex's history: %v", got)
		}

		// A domain in re-validation whose proof is back is restored.
		d := f.demote(t, f.verified(t, acmeOwner, "acme.test"))
		f.publishTXT(t, d)
		got, err = f.svc.Recheck(f.ctx, "acme.test")
		if err != nil || len(got) != 1 || got[0].Before.Status != domains.Revalidating || got[0].After.Status != domains.Verified {
			t.Fatalf("Recheck in re-validation: %+v, %v", got, err)
		}
		if e := f.audited(t, acme.ID, "domain.restored"); len(e) != 1 || e[0].Actor != "system" {
			t.Fatalf("domain.restored entries %+v", e)
		}
		if got := f.recipients(t, "acme.test is verified again"); len(got) != 1 || got[0] != "olivia@acme.test" {
			t.Fatalf("told %q", got)
		}

		// Internationalised names are found by either form.
		idn := f.verified(t, acmeOwner, "bücher.test")
		for _, name := range []string{"Bücher.test", "xn--bcher-kva.test"} {
			if got, err := f.svc.Recheck(f.ctx, name); err != nil || len(got) != 1 || got[0].After.ID != idn.ID {
				t.Fatalf("Recheck(%q): %+v, %v", name, got, err)
			}
		}

		// A failed entry stays failed without proof, and is verified with it.
		failed := f.add(t, acmeOwner, "initech.test")
		f.setStatus(t, failed.ID, domains.Failed)
		if got, err := f.svc.Recheck(f.ctx, "initech.test"); err != nil || got[0].After.Status != domains.Failed {
			t.Fatalf("Recheck of a failed entry: %+v, %v", got, err)
		}
		if n := len(f.history(t, acme.ID, failed.ID)); n != 1 {
			t.Fatalf("Recheck of a failed entry wrote %d audit entries", n-1)
		}
		f.publishTXT(t, failed)
		if got, err := f.svc.Recheck(f.ctx, "initech.test"); err != nil || got[0].After.Status != domains.Verified {
			t.Fatalf("Recheck of a failed entry with its proof: %+v, %v", got, err)
		}

		_, err = f.svc.Recheck(f.ctx, "nowhere.test")
		wantCode(t, err, apperr.NotFound, "No organization has the domain nowhere.test.")
		if n := f.count(t, &domains.Check{}, "1 = 1"); n == 0 {
			t.Fatal("no checks recorded")
		}
	})
}
