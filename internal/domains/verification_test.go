package domains_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/domains"
	"admincenter/internal/mail"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
	"admincenter/internal/verify"
)

func TestVerifyByDNS(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		org, owner := f.Org(t, "Acme Corp", "olivia@acme.test")
		admin := f.Member(t, f.Person(t, "adam@acme.test", true, 0), org.ID, users.Admin)
		d := f.add(t, owner, "acme.test")
		f.publishTXT(t, d)
		f.clk.Advance(time.Hour)
		now := f.clk.Now()

		got, report, err := f.svc.Verify(f.ctx, admin.ID, d.ID, verify.DNS)
		if err != nil {
			t.Fatal(err)
		}
		if report.Outcome() != verify.Found || len(report.Results) != 2 || report.Results[0].Method != verify.DNS ||
			report.Results[0].Outcome != verify.Found || report.Results[1].Method != verify.HTTPS {
			t.Fatalf("report %+v", report)
		}
		stored := f.reload(t, d.ID)
		for _, d := range []domains.Domain{got, stored} {
			if d.Status != domains.Verified || d.VerifiedMethod != verify.DNS || d.Method != verify.DNS ||
				!sameTime(d.VerifiedAt, at(now)) || !sameTime(d.LastCheckedAt, at(now)) ||
				!sameTime(d.NextCheckAt, at(now.Add(recheck))) || d.WindowEndsAt != nil || d.LeaseUntil != nil {
				t.Fatalf("after Verify: %+v", d)
			}
		}
		checks := f.checks(t, d.ID)
		if len(checks) != 2 || checks[0].Method != verify.DNS || checks[0].Outcome != verify.Found || checks[0].Automatic ||
			checks[0].Summary != "Found the expected TXT record at _twilio.acme.test." || !checks[0].CheckedAt.Equal(now) ||
			!strings.Contains(checks[0].Diagnostics, `"Name":"_twilio.acme.test"`) {
			t.Fatalf("checks %+v", checks)
		}
		if checks[1].Method != verify.HTTPS || checks[1].Outcome != verify.Absent ||
			checks[1].Summary != fmt.Sprintf("https://acme.test:%d/%s answered 404 Not Found.", f.site.Port, d.FileName) {
			t.Fatalf("HTTPS check %+v", checks[1])
		}
		entries := f.history(t, org.ID, d.ID)
		if got := strings.Join(actions(entries), " "); got != "domain.added domain.verified" {
			t.Fatalf("history: %s", got)
		}
		if e := entries[1]; e.Actor != "adam@acme.test" ||
			e.Details != "Pending verification → Verified by DNS record: Found the expected TXT record at _twilio.acme.test." {
			t.Fatalf("audit entry %+v", e)
		}

		// Checking a verified domain again records the check, not a new event.
		f.clk.Advance(time.Minute)
		if got, _, err = f.svc.Verify(f.ctx, admin.ID, d.ID, verify.DNS); err != nil || got.Status != domains.Verified ||
			!sameTime(got.NextCheckAt, at(f.clk.Now().Add(recheck))) || !sameTime(got.VerifiedAt, at(now)) {
			t.Fatalf("second Verify: %+v, %v", got, err)
		}
		if n := len(f.checks(t, d.ID)); n != 4 {
			t.Fatalf("%d checks, want 4", n)
		}
		if n := len(f.history(t, org.ID, d.ID)); n != 2 {
			t.Fatalf("%d audit entries, want 2", n)
		}
	})
}

// Either method proves the domain, whichever the admin chose.
func TestVerifyByTheOtherMethod(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		org, owner := f.Org(t, "Acme Corp", "olivia@acme.test")

		byFile := f.add(t, owner, "acme.test")
		f.publishFile(byFile)
		got, report, err := f.svc.Verify(f.ctx, owner.ID, byFile.ID, verify.DNS)
		if err != nil || got.Status != domains.Verified || got.VerifiedMethod != verify.HTTPS || got.Method != verify.DNS {
			t.Fatalf("file proof, DNS chosen: %+v, %v", got, err)
		}
		if report.Results[0].Method != verify.DNS || report.Results[0].Outcome != verify.Absent ||
			report.Results[0].Summary != "No TXT record at _twilio.acme.test: the name does not exist (NXDOMAIN)." {
			t.Fatalf("the chosen method comes first: %+v", report.Results[0])
		}
		proof, ok := report.Proof()
		if !ok || proof.Method != verify.HTTPS || !strings.HasSuffix(proof.Summary, "answered 200 OK with the token.") {
			t.Fatalf("proof %+v", proof)
		}
		if f.reload(t, byFile.ID).VerifiedMethod != verify.HTTPS {
			t.Fatal("verified_method not stored")
		}
		entries := f.history(t, org.ID, byFile.ID)
		if e := entries[len(entries)-1]; e.Action != "domain.verified" || !strings.Contains(e.Details, "Verified by HTML file: https://acme.test:") {
			t.Fatalf("audit entry %+v", e)
		}
		if seen := f.site.Seen(); len(seen) == 0 || seen[len(seen)-1].URL.Path != "/"+byFile.FileName {
			t.Fatal("the website was not asked for the file")
		}

		byDNS := f.add(t, owner, "globex.test")
		f.publishTXT(t, byDNS)
		got, report, err = f.svc.Verify(f.ctx, owner.ID, byDNS.ID, verify.HTTPS)
		if err != nil || got.Status != domains.Verified || got.VerifiedMethod != verify.DNS || got.Method != verify.HTTPS {
			t.Fatalf("DNS proof, file chosen: %+v, %v", got, err)
		}
		if report.Results[0].Method != verify.HTTPS || report.Outcome() != verify.Found {
			t.Fatalf("report %+v", report)
		}
		if f.reload(t, byDNS.ID).Method != verify.HTTPS {
			t.Fatal("the chosen method is not stored")
		}
	})
}

// A click on Verify Domain demotes a verified domain only when the proof
// of the method that verified it is definitively gone, whichever tab was
// clicked: the other method, never used, finding nothing changes nothing,
// and neither does a check of the proof that could not be completed.
func TestVerifyClickDecidesByTheVerifiedMethod(t *testing.T) {
	tests := []struct {
		name       string
		verifiedBy verify.Method
		clicked    verify.Method
		breakProof func(t *testing.T, f *fixture, d domains.Domain)
		want       domains.Status
	}{
		{name: "file proof, site answers 503, DNS tab clicked", verifiedBy: verify.HTTPS, clicked: verify.DNS,
			breakProof: func(t *testing.T, f *fixture, d domains.Domain) { f.mu.Lock(); f.siteDown = true; f.mu.Unlock() },
			want:       domains.Verified},
		{name: "DNS proof, DNS times out, file tab clicked", verifiedBy: verify.DNS, clicked: verify.HTTPS,
			breakProof: func(t *testing.T, f *fixture, d domains.Domain) {
				f.dns.Silence(dns.TypeTXT)
				f.svc.Checker = f.checkerAsking(t, f.dns.Addr, 20*time.Millisecond)
			},
			want: domains.Verified},
		{name: "file proof removed, DNS tab clicked", verifiedBy: verify.HTTPS, clicked: verify.DNS,
			breakProof: func(t *testing.T, f *fixture, d domains.Domain) { f.unpublishFile(d) },
			want:       domains.Revalidating},
		{name: "DNS proof removed, file tab clicked", verifiedBy: verify.DNS, clicked: verify.HTTPS,
			breakProof: func(t *testing.T, f *fixture, d domains.Domain) { f.dns.Remove(d.TXTName()) },
			want:       domains.Revalidating},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, db *gorm.DB) {
				f := newFixture(t, db)
				_, owner := f.Org(t, "Acme Corp", "olivia@acme.test")
				d := f.verifiedBy(t, owner, "acme.test", tt.verifiedBy)
				tt.breakProof(t, f, d)
				f.clk.Advance(time.Hour)

				got, report, err := f.svc.Verify(f.ctx, owner.ID, d.ID, tt.clicked)
				if err != nil {
					t.Fatal(err)
				}
				if report.Results[0].Method != tt.clicked || report.Results[0].Outcome != verify.Absent {
					t.Fatalf("the clicked method comes first and finds nothing: %+v", report.Results[0])
				}
				if got.Status != tt.want || f.reload(t, d.ID).Status != tt.want {
					t.Fatalf("status %s, want %s", got.Status, tt.want)
				}
				emails := f.count(t, &mail.Message{}, "subject LIKE ?", "Action needed: re-validate %")
				if tt.want == domains.Verified {
					if got.InconclusiveSince == nil || got.DeadlineAt != nil || emails != 0 {
						t.Fatalf("a check that could not tell demoted the domain: %+v, %d emails", got, emails)
					}
					if from, ok := f.svc.MissingFrom(got); !ok || !from.Equal(f.clk.Now().Add(inconclusiveLimit)) {
						t.Fatalf("MissingFrom = %v, %v; want the limit from now", from, ok)
					}
				} else if got.DeadlineAt == nil || emails == 0 {
					t.Fatalf("a missing proof did not start re-validation: %+v, %d emails", got, emails)
				}
			})
		})
	}
}

func TestVerifyRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		acme, owner := f.Org(t, "Acme Corp", "olivia@acme.test")
		sam := f.Member(t, f.Person(t, "sam@acme.test", true, 0), acme.ID, users.Standard)
		_, globexOwner := f.Org(t, "Globex", "gloria@globex.test")
		d := f.add(t, owner, "acme.test")
		f.publishTXT(t, d)

		_, _, err := f.svc.Verify(f.ctx, owner.ID, d.ID, "ftp")
		wantField(t, err, "method", "Choose a verification method")
		_, _, err = f.svc.Verify(f.ctx, sam.ID, d.ID, verify.DNS)
		wantCode(t, err, apperr.Forbidden, "Only the Owner and Administrators")
		_, _, err = f.svc.Verify(f.ctx, globexOwner.ID, d.ID, verify.DNS)
		wantCode(t, err, apperr.NotFound, "No such domain")
		if n := len(f.checks(t, d.ID)); n != 0 {
			t.Fatalf("refused Verify ran %d checks", n)
		}
		if got := f.reload(t, d.ID); got.Status != domains.Pending || got.LastCheckedAt != nil {
			t.Fatalf("refused Verify changed the domain: %+v", got)
		}
	})
}

// A proof for a domain verified by another organization is refused; the
// entry stays pending and is verified once the other organization lets go.
func TestVerifiedElsewhere(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		acme, acmeOwner := f.Org(t, "Acme Corp", "olivia@acme.test")
		_, globexOwner := f.Org(t, "Globex", "gloria@globex.test")
		mine := f.add(t, acmeOwner, "shared.test")
		theirs := f.verified(t, globexOwner, "shared.test")
		f.publishTXT(t, mine)

		now := f.clk.Now()
		got, report, err := f.svc.Verify(f.ctx, acmeOwner.ID, mine.ID, verify.DNS)
		if !errors.Is(err, domains.ErrVerifiedElsewhere) || apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("Verify: %v", err)
		}
		if report.Outcome() != verify.Found {
			t.Fatalf("the proof was not found: %+v", report)
		}
		stored := f.reload(t, mine.ID)
		for _, d := range []domains.Domain{got, stored} {
			if d.Status != domains.Pending || d.VerifiedAt != nil || !sameTime(d.WindowEndsAt, at(now.Add(window))) ||
				!sameTime(d.NextCheckAt, at(now.Add(time.Minute))) {
				t.Fatalf("refused entry: %+v", d)
			}
		}
		if n := len(f.checks(t, mine.ID)); n != 2 {
			t.Fatalf("%d checks recorded", n)
		}
		entries := f.history(t, acme.ID, mine.ID)
		if last := entries[len(entries)-1]; last.Action != "domain.verification_refused" ||
			last.Details != "proof found, but the domain is verified by another organization" {
			t.Fatalf("audit entry %+v", last)
		}

		// Automatic checks keep refusing while the other organization holds it.
		f.clk.Advance(time.Minute)
		if n := f.runDue(t); n != 1 {
			t.Fatalf("RunDue checked %d", n)
		}
		if got := f.reload(t, mine.ID); got.Status != domains.Pending || got.WindowStep != 1 {
			t.Fatalf("after an automatic check: %+v", got)
		}
		if got := f.reload(t, theirs.ID); got.Status != domains.Verified {
			t.Fatalf("the other organization's domain changed: %+v", got)
		}

		if _, err := f.svc.Delete(f.ctx, globexOwner.ID, theirs.ID); err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(5 * time.Minute)
		if n := f.runDue(t); n != 1 {
			t.Fatalf("RunDue checked %d", n)
		}
		if got := f.reload(t, mine.ID); got.Status != domains.Verified || got.VerifiedMethod != verify.DNS {
			t.Fatalf("after the other organization deleted it: %+v", got)
		}
		entries = f.history(t, acme.ID, mine.ID)
		if last := entries[len(entries)-1]; last.Action != "domain.verified" || last.Actor != "system" {
			t.Fatalf("audit entry %+v", last)
		}
	})
}
