package webhooks_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/apiview"
	"admincenter/internal/domains"
	"admincenter/internal/imports"
	"admincenter/internal/mail"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
	"admincenter/internal/verify"
	"admincenter/internal/webhooks"
)

// Each event type reaches an endpoint that wants them all, signed, in the
// order of the changes, with the resource as the API shows it: a domain
// added, verified, lapsed into re-validation, reminded of, restored,
// expired with its users removed, added again with its users added back,
// reports and imports ready, failed and completed, a sign-up added
// automatically, a domain not verified in time, and one deleted.
func TestEveryEventReachesTheReceiver(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		f.endpoint("/all", webhooks.Input{All: true})
		port := f.site.Port
		// expect delivers what is due and checks that exactly these types
		// arrived, in this order.
		expect := func(what string, want ...string) []received {
			t.Helper()
			f.deliver()
			got := f.recv.take()
			if !slices.Equal(types(got), want) {
				t.Fatalf("%s: received %v, want %v", what, types(got), want)
			}
			for _, g := range got {
				if g.Event.OrganizationID != f.acme.ID || !eventID.MatchString(g.Event.ID) || g.Event.Timestamp.IsZero() || g.Event.Timestamp.After(f.clk.Now()) {
					t.Errorf("%s: envelope %+v", what, g.Event)
				}
			}
			return got
		}
		reload := func(id int64) domains.Domain {
			t.Helper()
			var d domains.Domain
			if err := db.Take(&d, id).Error; err != nil {
				t.Fatal(err)
			}
			return d
		}
		publish := func(d domains.Domain) { f.dns.Add(t, fmt.Sprintf("%s. 300 IN TXT %q", d.TXTName(), d.Token)) }
		verifyNow := func(d domains.Domain) {
			t.Helper()
			publish(d)
			if _, _, err := f.svc.Domains.Verify(f.ctx, f.owner.ID, d.ID, verify.DNS); err != nil {
				t.Fatal(err)
			}
		}
		runDomains := func(at time.Time) {
			t.Helper()
			f.clk.Advance(at.Sub(f.clk.Now()))
			if _, err := f.svc.Domains.RunDue(f.ctx, 2); err != nil {
				t.Fatal(err)
			}
		}
		runImports := func() {
			t.Helper()
			if err := f.svc.Imports.RunDue(f.ctx); err != nil {
				t.Fatal(err)
			}
		}

		d, err := f.svc.Domains.Add(f.ctx, f.owner.ID, "acme.test")
		if err != nil {
			t.Fatal(err)
		}
		got := expect("added", "domain.added")
		wantData(t, got[0], apiview.DomainEvent{Domain: apiview.DomainOf(reload(d.ID), 0, port)})

		verifyNow(d)
		got = expect("verified", "domain.verified")
		wantData(t, got[0], apiview.DomainEvent{Domain: apiview.DomainOf(reload(d.ID), 0, port)})

		ava := f.Member(t, f.Person(t, "ava@acme.test", true, 1), f.acme.ID, users.Standard)
		ben := f.Member(t, f.Person(t, "ben@acme.test", true, 0), f.acme.ID, users.Admin)
		f.dns.Remove(d.TXTName())
		runDomains(*reload(d.ID).NextCheckAt)
		got = expect("lapsed", "domain.revalidation_required")
		lapsed := reload(d.ID)
		wantData(t, got[0], apiview.DomainEvent{Domain: apiview.DomainOf(lapsed, 2, port), Deadline: lapsed.DeadlineAt,
			Reason: "No TXT record at _twilio.acme.test: the name does not exist (NXDOMAIN)."})

		runDomains(lapsed.DeadlineAt.Add(-7 * 24 * time.Hour))
		got = expect("a week left", "domain.reminder")
		wantData(t, got[0], apiview.DomainEvent{Domain: apiview.DomainOf(reload(d.ID), 2, port), Deadline: lapsed.DeadlineAt})

		verifyNow(d)
		got = expect("restored", "domain.restored")
		wantData(t, got[0], apiview.DomainEvent{Domain: apiview.DomainOf(reload(d.ID), 0, port)})

		f.dns.Remove(d.TXTName())
		runDomains(*reload(d.ID).NextCheckAt)
		expect("lapsed again", "domain.revalidation_required")
		deadline := *reload(d.ID).DeadlineAt
		runDomains(deadline)
		got = expect("expired", "domain.expired")
		var expiry apiview.ExpiryEvent
		decode(t, got[0], &expiry)
		if expiry.Domain.ID != d.ID || expiry.Domain.Name != "acme.test" || expiry.Domain.Status != "revalidating" ||
			!expiry.Domain.RevalidationDeadline.Equal(deadline) || expiry.UsersRemoved != 2 ||
			!slices.Equal(expiry.RemovedUserIDs, []int64{ava.ID, ben.ID}) {
			t.Errorf("expired: %s", got[0].Body)
		}

		again, err := f.svc.Domains.Add(f.ctx, f.owner.ID, "acme.test")
		if err != nil {
			t.Fatal(err)
		}
		verifyNow(again)
		expect("added again", "domain.added", "domain.verified")
		if _, _, err := f.svc.Domains.AddBack(f.ctx, f.owner.ID, again.ID); err != nil {
			t.Fatal(err)
		}
		got = expect("added back", "domain.users_added_back", "domain.users_added_back")
		for i, u := range []users.User{f.Reload(t, ava), f.Reload(t, ben)} {
			wantData(t, got[i], apiview.AddedBackEvent{Domain: apiview.DomainOf(reload(again.ID), 0, port),
				Users: []apiview.EventUser{apiview.EventUserOf(u)}})
		}
		if role := decodeMap(t, got[1])["users"].([]any)[0].(map[string]any)["role"]; role != "administrator" {
			t.Errorf("Ben is added back as %v", role)
		}

		f.Person(t, "carl@acme.test", true, 2)
		f.feature(t, true)
		first := f.report(again.ID)
		got = expect("report ready", "import.report_ready")
		wantData(t, got[0], apiview.ImportEvent{Import: apiview.ImportOf(f.imp(first))})
		if _, err := f.svc.Imports.Start(f.ctx, f.owner.ID, again.ID, first.ID); err != nil {
			t.Fatal(err)
		}
		f.feature(t, false)
		runImports()
		got = expect("import stopped", "import.failed")
		failed := f.imp(first)
		wantData(t, got[0], apiview.ImportEvent{Import: apiview.ImportOf(failed)})
		if failed.Error != "Bulk User Import was switched off for Acme Corp." {
			t.Errorf("failed import: %+v", failed)
		}

		f.feature(t, true)
		second := f.report(again.ID)
		expect("second report ready", "import.report_ready")
		if _, err := f.svc.Imports.Start(f.ctx, f.owner.ID, again.ID, second.ID); err != nil {
			t.Fatal(err)
		}
		runImports()
		got = expect("imported", "import.completed")
		completed := f.imp(second)
		notImported := completed.NotImported()
		wantData(t, got[0], apiview.ImportEvent{Import: apiview.ImportOf(completed), NotImported: &notImported})
		if completed.Imported != 1 {
			t.Errorf("imported %d, want Carl only", completed.Imported)
		}

		if err := f.svc.Imports.SetPolicy(f.ctx, f.owner.ID, again.ID, imports.AutoAdd); err != nil {
			t.Fatal(err)
		}
		dana, err := f.svc.Users.SignUp(f.ctx, users.SignUpForm{Name: "Dana", Email: "dana@acme.test", Password: "a long password"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Users.VerifyEmail(f.ctx, f.verifyToken(dana.Email)); err != nil {
			t.Fatal(err)
		}
		got = expect("signed up", "user.added_at_signup")
		wantData(t, got[0], apiview.SignupEvent{User: apiview.EventUserOf(f.Reload(t, dana)), Domain: apiview.DomainOf(reload(again.ID), 0, port)})

		pending, err := f.svc.Domains.Add(f.ctx, f.owner.ID, "initech.test")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.Domains.Verify(f.ctx, f.owner.ID, pending.ID, verify.DNS); err != nil {
			t.Fatal(err)
		}
		runDomains(*reload(pending.ID).WindowEndsAt)
		got = expect("not verified in time", "domain.added", "domain.verification_failed")
		wantData(t, got[1], apiview.DomainEvent{Domain: apiview.DomainOf(reload(pending.ID), 0, port),
			Reason: "No TXT record at _twilio.initech.test: the name does not exist (NXDOMAIN)."})

		gone, err := f.svc.Domains.Delete(f.ctx, f.owner.ID, pending.ID)
		if err != nil {
			t.Fatal(err)
		}
		got = expect("deleted", "domain.deleted")
		wantData(t, got[0], apiview.DomainEvent{Domain: apiview.DomainOf(gone, 0, port)})
	})
}

// An endpoint gets the events it chose, and a disabled one gets none; an
// organization's events never reach another organization's endpoints.
func TestEndpointsGetWhatTheyChose(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		f := newFixture(t, db)
		f.endpoint("/chosen", webhooks.Input{Events: []string{"domain.deleted", "domain.verified"}})
		off := f.endpoint("/off", webhooks.Input{All: true})
		if _, err := f.hooks.SetEnabled(f.ctx, f.owner.ID, off.ID, false); err != nil {
			t.Fatal(err)
		}
		globex, gloria := f.Org(t, "Globex", "gloria@globex.test")
		if _, _, err := f.hooks.Create(f.ctx, gloria.ID, webhooks.Input{URL: f.recv.url("/globex"), All: true}); err != nil {
			t.Fatal(err)
		}
		d, err := f.svc.Domains.Add(f.ctx, f.owner.ID, "acme.test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Domains.Delete(f.ctx, f.owner.ID, d.ID); err != nil {
			t.Fatal(err)
		}
		f.deliver()
		got := f.recv.take()
		if len(got) != 1 || got[0].Path != "/chosen" || got[0].Event.Type != "domain.deleted" {
			t.Fatalf("received %+v", got)
		}
		if n := f.count("webhook_events", "organization_id = ?", globex.ID); n != 0 {
			t.Errorf("%d events of Globex", n)
		}
	})
}

var eventID = regexp.MustCompile(`^evt_[a-z2-7]{26}$`)

// wantData fails unless the event's data is want, field for field.
func wantData(t *testing.T, got received, want any) {
	t.Helper()
	raw, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	json.Unmarshal(got.Event.Data, &a)
	json.Unmarshal(raw, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("%s: data\n %s\nwant\n %s", got.Event.Type, got.Event.Data, raw)
	}
}

func decode(t *testing.T, got received, v any) {
	t.Helper()
	if err := json.Unmarshal(got.Event.Data, v); err != nil {
		t.Fatalf("%s: %v", got.Event.Type, err)
	}
}

func decodeMap(t *testing.T, got received) map[string]any {
	t.Helper()
	var m map[string]any
	decode(t, got, &m)
	return m
}

// feature switches Bulk User Import for Acme Corp, as the operator does.
func (f *fixture) feature(t *testing.T, on bool) {
	t.Helper()
	if _, err := f.svc.Orgs.SetFeature(f.ctx, "Acme Corp", on); err != nil {
		t.Fatal(err)
	}
}

// report asks for a report of every user at the domain and lets the
// worker make it ready.
func (f *fixture) report(domainID int64) imports.Import {
	f.t.Helper()
	imp, err := f.svc.Imports.Request(f.ctx, f.owner.ID, domainID, imports.All, false)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.svc.Imports.RunDue(f.ctx); err != nil {
		f.t.Fatal(err)
	}
	return imp
}

func (f *fixture) imp(imp imports.Import) imports.Import {
	f.t.Helper()
	imp, err := f.svc.Imports.Get(f.ctx, f.acme.ID, imp.DomainID, imp.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return imp
}

var tokenPattern = regexp.MustCompile(`token=([A-Za-z0-9_-]+)`)

// verifyToken reads the token of the newest verification email to addr.
func (f *fixture) verifyToken(addr string) string {
	f.t.Helper()
	var m mail.Message
	if err := f.db.Where("recipient = ? AND subject = ?", addr, "Verify your email address").Order("id DESC").Take(&m).Error; err != nil {
		f.t.Fatal(err)
	}
	found := tokenPattern.FindStringSubmatch(m.Body)
	if found == nil {
		f.t.Fatalf("no token in %q", m.Body)
	}
	return found[1]
}
