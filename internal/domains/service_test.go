package domains_test

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/domains"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
	"admincenter/internal/verify"
)

var (
	tokenPattern    = regexp.MustCompile(`^twilio-domain-verification=[0-9a-f]{32}$`)
	fileNamePattern = regexp.MustCompile(`^twilio-domain-verification-[0-9a-f]{16}\.html$`)
)

func TestAdd(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		org, owner := f.Org(t, "Acme Corp", "olivia@acme.test")

		d := f.add(t, owner, "  Acme.TEST. ")
		if d.ID == 0 || d.OrganizationID != org.ID || d.Name != "acme.test" || d.UnicodeName != "acme.test" ||
			d.Status != domains.Pending || d.Method != verify.DNS || d.VerifiedMethod != "" || d.VerifiedAt != nil ||
			d.NextCheckAt != nil || d.WindowEndsAt != nil || d.CreatedBy == nil || *d.CreatedBy != owner.ID ||
			!d.CreatedAt.Equal(f.clk.Now()) {
			t.Fatalf("added %+v", d)
		}
		if !tokenPattern.MatchString(d.Token) || !fileNamePattern.MatchString(d.FileName) {
			t.Fatalf("token %q, file name %q", d.Token, d.FileName)
		}
		if got := f.reload(t, d.ID); got.Token != d.Token || got.FileName != d.FileName || got.Status != domains.Pending {
			t.Fatalf("stored %+v", got)
		}
		if d.TXTName() != "_twilio.acme.test" || !strings.Contains(string(d.FileContent()), d.Token) {
			t.Fatalf("TXT name %q, file %s", d.TXTName(), d.FileContent())
		}

		idn := f.add(t, owner, "Bücher.test")
		if idn.Name != "xn--bcher-kva.test" || idn.UnicodeName != "bücher.test" {
			t.Fatalf("IDN stored as %q / %q", idn.Name, idn.UnicodeName)
		}

		// Tokens and file names are fresh for every domain.
		tokens, files := map[string]bool{d.Token: true, idn.Token: true}, map[string]bool{d.FileName: true, idn.FileName: true}
		for i := range 30 {
			e := f.add(t, owner, fmt.Sprintf("team%02d.acme.test", i))
			if !tokenPattern.MatchString(e.Token) || tokens[e.Token] || files[e.FileName] {
				t.Fatalf("token %q or file name %q repeated or malformed", e.Token, e.FileName)
			}
			tokens[e.Token], files[e.FileName] = true, true
		}

		list, err := f.svc.List(f.ctx, org.ID)
		if err != nil || len(list) != 32 || list[0].Name != "acme.test" || list[31].Name != "xn--bcher-kva.test" {
			t.Fatalf("List: %d domains, %v", len(list), err)
		}
		got, err := f.svc.Get(f.ctx, org.ID, d.ID)
		if err != nil || got.Name != "acme.test" {
			t.Fatalf("Get: %+v, %v", got, err)
		}

		entries := f.history(t, org.ID, d.ID)
		if len(entries) != 1 {
			t.Fatalf("audit: %+v", entries)
		}
		e := entries[0]
		if e.Action != "domain.added" || e.Actor != "olivia@acme.test" || *e.ActorID != owner.ID ||
			e.Target != "acme.test" || e.Details != "token issued; pending verification" || !e.CreatedAt.Equal(f.clk.Now()) {
			t.Fatalf("audit entry %+v", e)
		}
	})
}

func TestAddRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		acme, owner := f.Org(t, "Acme Corp", "olivia@acme.test")
		admin := f.Member(t, f.Person(t, "adam@acme.test", true, 0), acme.ID, users.Admin)
		standard := f.Member(t, f.Person(t, "sam@acme.test", true, 0), acme.ID, users.Standard)
		loner := f.Person(t, "lou@acme.test", true, 0)
		_, globexOwner := f.Org(t, "Globex", "gloria@globex.test")
		f.verified(t, globexOwner, "globex.test")
		elsewhere := f.add(t, globexOwner, "initech.test")
		f.add(t, admin, "acme.test")
		f.add(t, admin, "bücher.test")

		domainsBefore := f.count(t, &domains.Domain{}, "1 = 1")
		auditBefore := f.count(t, &audit.Entry{}, "1 = 1")
		cases := []struct{ input, want string }{
			{"", "Enter a domain name"},
			{"https://acme.test/", "not a bare domain name"},
			{"bad_name.test", "not allowed in a domain name"},
			{"localhost", "full domain name with a dot"},
			{"192.0.2.10", "is an IP address"},
			{"co.uk", "public suffix"},
			{"gmail.com", "common email provider"},
			{"www.acme.test", "bare domain without www: acme.test"},
			{"acme.test", "acme.test is already one of your organization's domains."},
			{"ACME.test.", "acme.test is already one of your organization's domains."},
			{"XN--BCHER-KVA.test", "bücher.test is already one of your organization's domains."},
			{"globex.test", "globex.test is verified by another organization."},
			{"GLOBEX.TEST", "verified by another organization"},
		}
		for _, tc := range cases {
			_, err := f.svc.Add(f.ctx, admin.ID, tc.input)
			wantField(t, err, "name", tc.want)
		}
		_, err := f.svc.Add(f.ctx, standard.ID, "sneaky.test")
		wantCode(t, err, apperr.Forbidden, "Only the Owner and Administrators")
		_, err = f.svc.Add(f.ctx, loner.ID, "sneaky.test")
		wantCode(t, err, apperr.Forbidden, "Only the Owner and Administrators")
		if n := f.count(t, &domains.Domain{}, "1 = 1"); n != domainsBefore {
			t.Fatalf("refusals created %d domains", n-domainsBefore)
		}
		if n := f.count(t, &audit.Entry{}, "1 = 1"); n != auditBefore {
			t.Fatalf("refusals wrote %d audit entries", n-auditBefore)
		}

		// Pending elsewhere does not stop anyone; in re-validation elsewhere does.
		mine := f.add(t, owner, "initech.test")
		if mine.Token == elsewhere.Token || mine.FileName == elsewhere.FileName {
			t.Fatal("two organizations share a token")
		}
		f.setStatus(t, elsewhere.ID, domains.Revalidating)
		f.db.Delete(&domains.Domain{}, mine.ID)
		_, err = f.svc.Add(f.ctx, owner.ID, "initech.test")
		wantField(t, err, "name", "initech.test is verified by another organization")

		// The limit: 100 domains per organization.
		have := f.count(t, &domains.Domain{}, "organization_id = ?", acme.ID)
		for i := range domains.Limit - int(have) {
			f.add(t, admin, fmt.Sprintf("d%03d.acme.test", i))
		}
		_, err = f.svc.Add(f.ctx, owner.ID, "one-more.test")
		wantField(t, err, "name", "Your organization already has 100 domains, the most allowed.")
		if n := f.count(t, &domains.Domain{}, "organization_id = ?", acme.ID); n != domains.Limit {
			t.Fatalf("%d domains, want %d", n, domains.Limit)
		}
		// The limit is per organization.
		f.add(t, globexOwner, "one-more.test")
	})
}

// Adds racing at the limit never pass it: the count is read under the
// organization's lock.
func TestAddConcurrentlyAtTheLimit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		org, owner := f.Org(t, "Acme Corp", "olivia@acme.test")
		admin := f.Member(t, f.Person(t, "adam@acme.test", true, 0), org.ID, users.Admin)
		for i := range domains.Limit - 5 {
			f.add(t, owner, fmt.Sprintf("d%03d.acme.test", i))
		}

		const racers = 20
		errs := make([]error, racers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range racers {
			actor := []users.User{owner, admin}[i%2]
			wg.Go(func() {
				<-start
				_, errs[i] = f.svc.Add(f.ctx, actor.ID, fmt.Sprintf("race%02d.acme.test", i))
			})
		}
		close(start)
		wg.Wait()

		added, refused := 0, 0
		for _, err := range errs {
			switch e, _ := apperr.As(err); {
			case err == nil:
				added++
			case e != nil && strings.Contains(e.Fields["name"], "already has 100 domains"):
				refused++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if added != 5 || refused != 15 {
			t.Fatalf("%d added, %d refused at the limit; want 5 and 15", added, refused)
		}
		if n := f.count(t, &domains.Domain{}, "organization_id = ?", org.ID); n != domains.Limit {
			t.Fatalf("%d domains, want %d", n, domains.Limit)
		}
		if n := f.count(t, &audit.Entry{}, "action = ?", "domain.added"); n != domains.Limit {
			t.Fatalf("%d domain.added entries, want %d", n, domains.Limit)
		}
	})
}

func TestDelete(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		acme, owner := f.Org(t, "Acme Corp", "olivia@acme.test")
		admin := f.Member(t, f.Person(t, "adam@acme.test", true, 0), acme.ID, users.Admin)
		sam := f.Member(t, f.Person(t, "sam@acme.test", true, 0), acme.ID, users.Standard)
		globex, globexOwner := f.Org(t, "Globex", "gloria@globex.test")
		d := f.verified(t, owner, "acme.test")
		other := f.add(t, globexOwner, "globex.test")
		if n := len(f.checks(t, d.ID)); n != 2 {
			t.Fatalf("%d checks before deleting", n)
		}

		_, err := f.svc.Delete(f.ctx, sam.ID, d.ID)
		wantCode(t, err, apperr.Forbidden, "Only the Owner and Administrators")
		_, err = f.svc.Delete(f.ctx, globexOwner.ID, d.ID)
		wantCode(t, err, apperr.NotFound, "No such domain in this organization.")
		_, err = f.svc.Delete(f.ctx, admin.ID, other.ID)
		wantCode(t, err, apperr.NotFound, "No such domain")
		if f.count(t, &domains.Domain{}, "1 = 1") != 2 {
			t.Fatal("a refused delete removed a domain")
		}

		f.clk.Advance(time.Hour)
		gone, err := f.svc.Delete(f.ctx, admin.ID, d.ID)
		if err != nil || gone.ID != d.ID || gone.Name != "acme.test" {
			t.Fatalf("Delete: %+v, %v", gone, err)
		}
		if n := f.count(t, &domains.Domain{}, "id = ?", d.ID); n != 0 {
			t.Fatal("the domain is still there")
		}
		if n := f.count(t, &domains.Check{}, "domain_id = ?", d.ID); n != 0 {
			t.Fatalf("%d checks of the deleted domain remain", n)
		}
		for _, u := range []users.User{owner, admin, sam} {
			if got := f.Reload(t, u); got.OrgID() != acme.ID || got.Role != u.Role {
				t.Fatalf("%s left the organization: %+v", u.Email, got)
			}
		}
		entries := f.history(t, acme.ID, d.ID)
		if got := strings.Join(actions(entries), " "); got != "domain.added domain.verified domain.deleted" {
			t.Fatalf("history: %s", got)
		}
		last := entries[len(entries)-1]
		if last.Actor != "adam@acme.test" || last.Details != "was Verified; managed users kept" || !last.CreatedAt.Equal(f.clk.Now()) {
			t.Fatalf("audit entry %+v", last)
		}
		_, err = f.svc.Get(f.ctx, acme.ID, d.ID)
		wantCode(t, err, apperr.NotFound, "No such domain")
		_, err = f.svc.Delete(f.ctx, admin.ID, d.ID)
		wantCode(t, err, apperr.NotFound, "No such domain")
		if f.reload(t, other.ID).OrganizationID != globex.ID {
			t.Fatal("the other organization's domain changed")
		}

		// A deleted name can be added again, with a new token.
		again := f.add(t, owner, "acme.test")
		if again.Token == d.Token || again.Status != domains.Pending {
			t.Fatalf("re-added %+v", again)
		}
	})
}

func TestForActor(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		acme, owner := f.Org(t, "Acme Corp", "olivia@acme.test")
		sam := f.Member(t, f.Person(t, "sam@acme.test", true, 0), acme.ID, users.Standard)
		_, globexOwner := f.Org(t, "Globex", "gloria@globex.test")
		d := f.add(t, owner, "acme.test")

		if got, err := f.svc.ForActor(f.ctx, owner, d.ID); err != nil || got.ID != d.ID {
			t.Fatalf("ForActor(owner): %+v, %v", got, err)
		}
		_, err := f.svc.ForActor(f.ctx, sam, d.ID)
		wantCode(t, err, apperr.Forbidden, "Only the Owner and Administrators")
		_, err = f.svc.ForActor(f.ctx, globexOwner, d.ID)
		wantCode(t, err, apperr.NotFound, "No such domain")
	})
}
