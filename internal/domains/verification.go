package domains

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/database"
	"admincenter/internal/mail"
	"admincenter/internal/orgs"
	"admincenter/internal/text"
	"admincenter/internal/users"
	"admincenter/internal/verify"
)

// checkTimeout bounds one check of one domain, both methods included.
const checkTimeout = 30 * time.Second

// Report is what one verification found: a result per method tried.
type Report struct {
	Results []verify.Result
}

// Proof returns the result that found the proof, if any.
func (r Report) Proof() (verify.Result, bool) {
	for _, res := range r.Results {
		if res.Outcome == verify.Found {
			return res, true
		}
	}
	return verify.Result{}, false
}

// Outcome is found when any method found the proof, else the outcome of
// the first method tried: a second method can only help, never hurt.
func (r Report) Outcome() verify.Outcome {
	if _, ok := r.Proof(); ok {
		return verify.Found
	}
	if len(r.Results) == 0 {
		return verify.Inconclusive
	}
	return r.Results[0].Outcome
}

// Decisive is the result that decides about a domain without a proof: the
// one of the method that verified it, whichever was tried first, so that
// the method nobody used never costs a domain its verified state. Without
// such a result, the first one decides.
func (r Report) Decisive(verifiedBy verify.Method) verify.Result {
	for _, res := range r.Results {
		if res.Method == verifiedBy {
			return res
		}
	}
	if len(r.Results) == 0 {
		return verify.Result{Outcome: verify.Inconclusive, Summary: "No check was run."}
	}
	return r.Results[0]
}

func other(m verify.Method) verify.Method {
	if m == verify.DNS {
		return verify.HTTPS
	}
	return verify.DNS
}

// check runs both methods at once, the given one first in the report.
func (s *Service) check(ctx context.Context, d Domain, first verify.Method) Report {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	methods := []verify.Method{first, other(first)}
	results := make([]verify.Result, len(methods))
	var wg sync.WaitGroup
	for i, m := range methods {
		wg.Go(func() { results[i] = s.checkOne(ctx, d, m) })
	}
	wg.Wait()
	for i := range results {
		if r := &results[i]; r.Method == verify.DNS && r.Outcome == verify.Absent && r.DNS != nil && len(r.DNS.Values) > 0 {
			r.NameOtherTokens(d.Token, s.otherTokens(ctx, d))
		}
	}
	return Report{Results: results}
}

// otherTokens maps the tokens of the organization's other domains, lower
// case, to their names, so that a value copied from one of them is named.
// It is read only for a DNS check that found other values; a failure to
// read it leaves the check without that hint.
func (s *Service) otherTokens(ctx context.Context, d Domain) map[string]string {
	var rows []struct{ Token, Name string }
	err := s.DB.WithContext(ctx).Model(&Domain{}).Select("token", "name").
		Where("organization_id = ? AND id <> ?", d.OrganizationID, d.ID).Find(&rows).Error
	if err != nil {
		return nil
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[strings.ToLower(r.Token)] = r.Name
	}
	return out
}

func (s *Service) checkOne(ctx context.Context, d Domain, m verify.Method) verify.Result {
	if m == verify.DNS {
		return s.Checker.CheckDNS(ctx, d.Target())
	}
	return s.Checker.CheckHTTPS(ctx, d.Target())
}

// ErrVerifiedElsewhere is the conflict of a proof found for a domain that
// another organization has verified already.
var ErrVerifiedElsewhere = apperr.New(apperr.Conflict,
	"The proof is in place, but this domain is verified by another organization. A domain can belong to one organization only: ask that organization to delete it, or contact support if you believe it is yours.")

// Verify checks a domain now, by the chosen method and the other one, and
// records what was found. Proof by either method verifies the domain;
// otherwise a pending (or failed) domain starts a new propagation window
// of automatic checks.
func (s *Service) Verify(ctx context.Context, actorID, id int64, method verify.Method) (Domain, Report, error) {
	if method != verify.DNS && method != verify.HTTPS {
		return Domain{}, Report{}, apperr.Field("method", "Choose a verification method: DNS record or HTML file.")
	}
	var d Domain
	var actor audit.Actor
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		u, org, err := orgs.Admin(tx, actorID)
		actor = actorOf(u)
		if err != nil {
			return err
		}
		d, err = get(tx, org.ID, id)
		return err
	})
	if err != nil {
		return d, Report{}, err
	}
	report := s.check(ctx, d, method) // no transaction is held during network checks
	d, err = s.record(ctx, d.ID, report, &actor, method)
	return d, report, err
}

// propagationDelay spaces the automatic checks of a pending domain: about
// 1, 5 and 15 minutes after the Verify click, then hourly.
func propagationDelay(step int) time.Duration {
	switch step {
	case 0:
		return time.Minute
	case 1:
		return 5 * time.Minute
	case 2:
		return 15 * time.Minute
	}
	return time.Hour
}

// record stores the results of a check and moves the domain to its new
// state. actor is nil for automatic checks; chosen is the method picked in
// a manual Verify.
func (s *Service) record(ctx context.Context, id int64, report Report, actor *audit.Actor, chosen verify.Method) (Domain, error) {
	var d Domain
	var conflict error
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		conflict = nil
		err := database.ForNoKeyUpdate(tx).Take(&d, id).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return apperr.New(apperr.NotFound, "This domain was deleted meanwhile.")
		}
		if err != nil {
			return fmt.Errorf("domains: unable to read domain %d: %w", id, err)
		}
		now := s.Now()
		if err := saveChecks(tx, d.ID, now, report, actor == nil); err != nil {
			return err
		}
		t := transition{tx: tx, d: &d, now: now, who: audit.System, manual: actor != nil}
		if actor != nil {
			t.who = *actor
			d.Method = chosen
		}
		d.LastCheckedAt = &now
		if conflict, err = s.decide(&t, report); err != nil {
			return err
		}
		// An automatic check that leaves the domain in re-validation keeps
		// its claim: the reminder or the expiry due next is done under it,
		// so that no other instance takes the domain up (and checks it
		// again) in between.
		if d.Status != Revalidating || t.manual {
			d.LeaseUntil = nil
		}
		if err := tx.Save(&d).Error; err != nil {
			if database.IsDuplicate(err) { // another organization verified it a moment ago
				return ErrVerifiedElsewhere
			}
			return fmt.Errorf("domains: unable to update %s: %w", d.Name, err)
		}
		return t.err
	})
	if err != nil {
		return d, err
	}
	s.Metrics.observe(report)
	return d, conflict
}

// decide moves the domain of t to the state the report calls for. It
// returns ErrVerifiedElsewhere, not as a failure, when the proof is in
// place but another organization holds the domain.
func (s *Service) decide(t *transition, report Report) (conflict, err error) {
	d := t.d
	proof, found := report.Proof()
	elsewhere := false
	if found && d.Status != Verified && d.Status != Revalidating {
		if elsewhere, err = verifiedElsewhere(t.tx, *d); err != nil {
			return nil, err
		}
	}
	switch {
	case elsewhere:
		// The entry stays pending: should the other organization delete
		// the domain, the automatic checks verify it here.
		conflict = ErrVerifiedElsewhere
		s.unproven(t, report)
		if t.manual {
			t.event("domain.verification_refused", "proof found, but the domain is verified by another organization")
		}
	case found:
		s.proven(t, proof)
	default:
		s.unproven(t, report)
	}
	return conflict, t.err
}

// transition collects what one change of a domain records: audit entries
// and emails, written in the transaction of the change.
type transition struct {
	tx     *gorm.DB
	d      *Domain
	now    time.Time
	who    audit.Actor
	manual bool
	err    error
}

func (t *transition) event(action, details string) {
	if t.err == nil {
		t.err = audit.Record(t.tx, t.now, t.d.OrganizationID, t.who, action, targetOf(*t.d), details)
	}
}

// proven applies a found proof.
func (s *Service) proven(t *transition, proof verify.Result) {
	d, now := t.d, t.now
	next := now.Add(s.RecheckInterval)
	d.NextCheckAt, d.InconclusiveSince = &next, nil
	d.VerifiedMethod = proof.Method
	switch d.Status {
	case Verified:
	case Revalidating:
		deadline := *d.DeadlineAt
		d.Status, d.RevalidationStartedAt, d.DeadlineAt, d.WarnedFirstAt, d.WarnedLastAt = Verified, nil, nil, nil, nil
		t.event("domain.restored", fmt.Sprintf("Re-validation required → Verified by %s before the deadline of %s: %s",
			proof.Method.Label(), deadline.UTC().Format(time.RFC3339), proof.Summary))
		s.announceIn(t, Event{Type: "domain.restored"})
		s.tellAdmins(t, func(to users.User, org string) mail.Email {
			return mail.DomainRestored(to.Email, to.Name, org, d.UnicodeName, s.domainLink(*d))
		})
	default:
		from := d.Status
		d.Status, d.VerifiedAt = Verified, &now
		d.WindowEndsAt, d.WindowStep = nil, 0
		t.event("domain.verified", fmt.Sprintf("%s → Verified by %s: %s", from.Label(), proof.Method.Label(), proof.Summary))
		s.announceIn(t, Event{Type: "domain.verified"})
	}
}

// unproven applies a check that found no proof.
func (s *Service) unproven(t *transition, report Report) {
	d, now := t.d, t.now
	switch d.Status {
	case Pending, Failed:
		s.propagate(t, report)
	case Verified, Revalidating:
		decisive := report.Decisive(d.VerifiedMethod)
		why := decisive.Summary
		if decisive.Outcome == verify.Inconclusive {
			if d.InconclusiveSince == nil {
				d.InconclusiveSince = &now
			}
			if now.Sub(*d.InconclusiveSince) < s.InconclusiveLimit {
				// Never demote on a passing fault: try again sooner.
				next := now.Add(s.RetryInterval())
				d.NextCheckAt = &next
				return
			}
			why = fmt.Sprintf("no check could tell for %s; the last one: %s", text.About(now.Sub(*d.InconclusiveSince)), why)
		} else {
			d.InconclusiveSince = nil
		}
		next := now.Add(s.RecheckInterval)
		d.NextCheckAt = &next
		if d.Status == Verified {
			s.startRevalidation(t, why)
		}
	}
}

// MissingFrom is when checks of a verified domain that keep failing to
// tell would start to count as a missing proof, if they are failing now.
func (s *Service) MissingFrom(d Domain) (time.Time, bool) {
	if d.InconclusiveSince == nil {
		return time.Time{}, false
	}
	return d.InconclusiveSince.Add(s.InconclusiveLimit), true
}

// RetryInterval spaces the checks of a verified domain that could not be
// checked: hourly with the default daily re-check.
func (s *Service) RetryInterval() time.Duration { return max(s.RecheckInterval/24, time.Second) }

// propagate moves a pending domain along its propagation window: a manual
// check opens a new window; an automatic one steps through it, and fails
// the domain when it has ended.
func (s *Service) propagate(t *transition, report Report) {
	d, now := t.d, t.now
	if t.manual {
		from := d.Status
		end := now.Add(s.PropagationWindow)
		d.Status, d.WindowEndsAt, d.WindowStep = Pending, &end, 0
		d.NextCheckAt = earliest(now.Add(propagationDelay(0)), end)
		if from == Failed {
			t.event("domain.verification_restarted", "automatic checks until "+end.Format(time.RFC3339))
		}
		return
	}
	if d.WindowEndsAt == nil {
		return // no window is open (an operator's Recheck): nothing to step through or end
	}
	if !now.Before(*d.WindowEndsAt) {
		d.Status, d.NextCheckAt, d.WindowEndsAt = Failed, nil, nil
		t.event("domain.verification_failed", "no proof within the propagation window: "+report.Results[0].Summary)
		s.announceIn(t, Event{Type: "domain.verification_failed", Reason: report.Results[0].Summary})
		return
	}
	d.WindowStep++
	d.NextCheckAt = earliest(now.Add(propagationDelay(d.WindowStep)), *d.WindowEndsAt)
}

func earliest(a, b time.Time) *time.Time {
	if b.Before(a) {
		return &b
	}
	return &a
}

// checksOf are the rows that keep a report in a domain's history, one per
// method tried.
func checksOf(domainID int64, now time.Time, report Report, automatic bool) []Check {
	out := make([]Check, len(report.Results))
	for i, r := range report.Results {
		diag, _ := json.Marshal(r) // a Result always encodes: strings, numbers and slices of them
		out[i] = Check{DomainID: domainID, CheckedAt: now, Method: r.Method, Outcome: r.Outcome, Automatic: automatic,
			Summary: r.Summary, Diagnostics: string(diag)}
	}
	return out
}

func saveChecks(tx *gorm.DB, domainID int64, now time.Time, report Report, automatic bool) error {
	if len(report.Results) == 0 {
		return nil
	}
	if err := tx.Create(checksOf(domainID, now, report, automatic)).Error; err != nil {
		return fmt.Errorf("domains: unable to record a check of %d: %w", domainID, err)
	}
	return nil
}

func verifiedElsewhere(tx *gorm.DB, d Domain) (bool, error) {
	var n int64
	err := tx.Model(&Domain{}).Where("name = ? AND organization_id <> ? AND status IN ?", d.Name, d.OrganizationID, []Status{Verified, Revalidating}).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("domains: unable to look for %s in other organizations: %w", d.Name, err)
	}
	return n > 0, nil
}
