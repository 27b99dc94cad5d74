package domains

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/audit"
	"admincenter/internal/database"
	"admincenter/internal/verify"
)

// lease is how long a claimed piece of work may take before another
// instance may take it over; by default well above checkTimeout.
func (s *Service) lease() time.Duration {
	if s.ClaimLease > 0 {
		return s.ClaimLease
	}
	return 10 * time.Minute
}

// RunDue does the domain work that is due: automatic checks (pending
// domains on their propagation schedule, verified and re-validating ones
// every RecheckInterval), re-validation reminders and expiries, and the
// expiries a stopped instance left unfinished. At most concurrency checks
// run at once; a slow check never holds up the others. Several instances
// may run it at once: each piece of work is claimed by one of them. It
// returns how many domains it processed.
func (s *Service) RunDue(ctx context.Context, concurrency int) (int, error) {
	if err := s.resumeExpiries(ctx); err != nil {
		return 0, err
	}
	concurrency = max(concurrency, 1)
	size := s.claimSize(concurrency)
	// A claimer keeps the workers fed, claiming the next batch while they
	// check the last one.
	work := make(chan Domain, size)
	var claimed int
	var claimErr error
	go func() {
		defer close(work)
		for ctx.Err() == nil {
			s.pace(ctx)
			batch, err := s.claim(ctx, size)
			if err != nil || len(batch) == 0 {
				claimErr = err
				return
			}
			claimed += len(batch)
			for i, d := range batch {
				select {
				case work <- d:
				case <-ctx.Done():
					for _, left := range batch[i:] {
						s.release(left.ID)
					}
					return
				}
			}
		}
	}()
	rec := s.startRecorder()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for d := range work {
				s.process(ctx, d, rec)
			}
		})
	}
	wg.Wait()
	rec.close()
	return claimed, claimErr
}

// claimSize is how many domains one claim takes: as many as the workers
// can check within a lease even if every check runs to its timeout, so
// that claimed work is never taken over while it waits its turn.
func (s *Service) claimSize(concurrency int) int {
	// Two batches may wait at once: one queued, one being claimed.
	return concurrency * max(1, int(s.lease()/checkTimeout)/2)
}

// checkDue selects the domains whose check is due at now; it follows the
// index on next_check_at.
func checkDue(db *gorm.DB, now time.Time) *gorm.DB {
	return db.Where("next_check_at <= ? AND (lease_until IS NULL OR lease_until < ?)", now, now)
}

// eventDue selects the domains in re-validation with a reminder or their
// expiry due at now; it follows the index on deadline_at.
func (s *Service) eventDue(db *gorm.DB, now time.Time) *gorm.DB {
	// The status is written out, not bound: only then can PostgreSQL use
	// the partial index of domains in re-validation.
	return db.Where(`status = 'revalidating' AND deadline_at <= ? AND (lease_until IS NULL OR lease_until < ?)
		AND (deadline_at <= ? OR (warned_first_at IS NULL AND deadline_at <= ?) OR (warned_last_at IS NULL AND deadline_at <= ?))`,
		now.Add(s.firstWarning()), now, now, now.Add(s.firstWarning()), now.Add(s.lastWarning()))
}

// claim takes a lease on the next domains with work due: re-validation
// events first, then checks, oldest first. Each kind is one UPDATE …
// RETURNING over rows locked with SKIP LOCKED, so that instances never
// claim the same domain and a claim costs one statement.
func (s *Service) claim(ctx context.Context, n int) ([]Domain, error) {
	var batch []Domain
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		batch = nil
		if err := database.Lazy(tx); err != nil { // a lost claim is simply claimed again
			return err
		}
		now := s.Now()
		for _, due := range []struct {
			where *gorm.DB
			order string
		}{
			{s.eventDue(tx.Session(&gorm.Session{NewDB: true}), now), "deadline_at, id"},
			{checkDue(tx.Session(&gorm.Session{NewDB: true}), now), "next_check_at, id"},
		} {
			if len(batch) >= n {
				break
			}
			ids := database.SkipLocked(due.where.Model(&Domain{}).Select("id").Order(due.order).Limit(n - len(batch)))
			var err error
			// Claimed rows hold a lease now: the next kind cannot take them again.
			if batch, err = leaseRows(tx, ids, now.Add(s.lease()), batch); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("domains: unable to claim due work: %w", err)
	}
	return batch, nil
}

// claimColumns and claimFields are what a claimed domain's work reads of
// it: its check's target, the state that says which work is due, and its
// organization (for the tokens a mistaken record may hold). Recording a
// result reads the domain again, locked. A sweep claims thousands, so
// they are few and scanned by hand.
const claimColumns = "id, organization_id, name, token, file_name, method, status, verified_method, next_check_at, deadline_at"

func (d *Domain) claimFields() []any {
	return []any{&d.ID, &d.OrganizationID, &d.Name, &d.Token, &d.FileName, (*string)(&d.Method), (*string)(&d.Status),
		(*string)(&d.VerifiedMethod), &d.NextCheckAt, &d.DeadlineAt}
}

// leaseRows leases the domains ids selects until the time given and
// appends them to batch.
func leaseRows(tx *gorm.DB, ids *gorm.DB, until time.Time, batch []Domain) ([]Domain, error) {
	rows, err := tx.Raw("UPDATE domains SET lease_until = ? WHERE id IN (?) RETURNING "+claimColumns, until, ids).Rows()
	if err != nil {
		return batch, err
	}
	defer rows.Close()
	for rows.Next() {
		var d Domain
		if err := rows.Scan(d.claimFields()...); err != nil {
			return batch, err
		}
		batch = append(batch, d)
	}
	return batch, rows.Err()
}

// Backlog counts the domains with work due and not claimed.
func (s *Service) Backlog(ctx context.Context) (int64, error) {
	now := s.Now()
	var checks, events int64
	db := s.DB.WithContext(ctx)
	if err := checkDue(db.Model(&Domain{}), now).Count(&checks).Error; err != nil {
		return 0, err
	}
	if err := s.eventDue(db.Model(&Domain{}), now).Where("NOT (next_check_at <= ?)", now).Count(&events).Error; err != nil {
		return 0, err
	}
	return checks + events, nil
}

// release gives back the lease of work that was claimed but not done, so
// another instance need not wait for the lease to run out.
func (s *Service) release(id int64) {
	err := s.DB.Model(&Domain{}).Where("id = ?", id).Update("lease_until", nil).Error
	if err != nil {
		slog.Error("domains: unable to release a claim", "domain", id, "err", err)
	}
}

// process does a claimed domain's due work: its check, then at the
// deadline its expiry, or a reminder.
func (s *Service) process(ctx context.Context, d Domain, rec *recorder) {
	now := s.Now()
	atDeadline := d.Status == Revalidating && d.DeadlineAt != nil && !now.Before(*d.DeadlineAt)
	if atDeadline || (d.NextCheckAt != nil && !now.Before(*d.NextCheckAt)) {
		s.pace(ctx)
		// At the deadline a last check gives the proof one more chance.
		report := s.automaticCheck(ctx, d)
		if ctx.Err() != nil {
			s.release(d.ID) // stopping: leave it to the next instance
			return
		}
		if d.Status == Verified && report.Outcome() == verify.Found {
			rec.add(d, report) // nothing changes but the schedule
			return
		}
		var err error
		if d, err = s.record(context.WithoutCancel(ctx), d.ID, report, nil, ""); err != nil && !errors.Is(err, ErrVerifiedElsewhere) {
			slog.Error("domains: automatic check not recorded", "domain", d.Name, "err", err)
			s.release(d.ID) // let the next tick try again
			return
		}
	}
	if d.Status != Revalidating {
		return
	}
	exp, err := s.dueEvent(context.WithoutCancel(ctx), d.ID)
	if err != nil {
		slog.Error("domains: re-validation event failed", "domain", d.Name, "err", err)
	}
	if exp.ID != 0 {
		if err := s.finishExpiry(ctx, exp); err != nil && ctx.Err() == nil {
			slog.Error("domains: expiry not finished; it will be resumed", "domain", d.Name, "err", err)
		}
	}
}

// automaticCheck checks a domain for the ticker. A verified domain is
// checked by the method that proved it, and by the other one only when
// that finds nothing; a pending one by both at once.
func (s *Service) automaticCheck(ctx context.Context, d Domain) Report {
	if d.VerifiedMethod == "" || (d.Status != Verified && d.Status != Revalidating) {
		return s.check(ctx, d, d.Method)
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	first := s.checkOne(ctx, d, d.VerifiedMethod)
	if first.Outcome == verify.Found {
		return Report{Results: []verify.Result{first}}
	}
	return Report{Results: []verify.Result{first, s.checkOne(ctx, d, other(d.VerifiedMethod))}}
}

// dueEvent writes the reminder that is due, or at the deadline begins the
// expiry, in one transaction with the domain locked: whichever instance
// gets there first does it, once.
func (s *Service) dueEvent(ctx context.Context, id int64) (Expiry, error) {
	var exp Expiry
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		exp = Expiry{}
		d, alive, err := lockAlive(tx, id)
		if err != nil || !alive || d.Status != Revalidating {
			return err
		}
		t := transition{tx: tx, d: &d, now: s.Now(), who: audit.System}
		if !t.now.Before(*d.DeadlineAt) {
			exp = s.beginExpiry(&t)
			return t.err
		}
		s.remind(&t)
		d.LeaseUntil = nil
		if t.err != nil {
			return t.err
		}
		return tx.Save(&d).Error
	})
	return exp, err
}

// pace gives way to people using the pages, if the service was told how.
func (s *Service) pace(ctx context.Context) {
	if s.Pace != nil {
		s.Pace(ctx)
	}
}
