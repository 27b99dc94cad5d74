package domains

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"admincenter/internal/database"
	"admincenter/internal/verify"
)

// recorder writes the commonest result of the daily re-checks, a verified
// domain whose proof is still in place, in batches: one transaction for up
// to a few hundred domains instead of one each, so that a sweep of many
// domains costs little more than its DNS queries. Every other result
// changes a domain's state and goes through record one by one.
type recorder struct {
	s    *Service
	in   chan passed
	done chan struct{}
}

type passed struct {
	d      Domain
	report Report
}

// recordBatch is the most passed checks one transaction records. One
// writer records them: more only add contention on the database.
const recordBatch = 256

func (s *Service) startRecorder() *recorder {
	r := &recorder{s: s, in: make(chan passed, recordBatch), done: make(chan struct{})}
	go func() {
		r.loop()
		close(r.done)
	}()
	return r
}

func (r *recorder) add(d Domain, report Report) { r.in <- passed{d, report} }

// close writes what is left and waits for it.
func (r *recorder) close() {
	close(r.in)
	<-r.done
}

func (r *recorder) loop() {
	for first := range r.in {
		batch := []passed{first}
	more:
		for len(batch) < recordBatch {
			select {
			case p, ok := <-r.in:
				if !ok {
					break more
				}
				batch = append(batch, p)
			default:
				break more
			}
		}
		r.flush(batch)
		r.s.pace(context.Background()) // while pages are served, fewer and larger writes
	}
}

// flush records a batch; a domain whose state changed since it was
// claimed (a Verify click, say) is recorded on its own instead.
func (r *recorder) flush(batch []passed) {
	s := r.s
	ctx := context.Background() // results are never dropped, even while stopping
	byMethod := map[verify.Method][]int64{}
	for _, p := range batch {
		proof, _ := p.report.Proof()
		byMethod[proof.Method] = append(byMethod[proof.Method], p.d.ID)
	}
	var updated map[int64]bool
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		updated = map[int64]bool{}
		if err := database.Lazy(tx); err != nil {
			return err
		}
		now := s.Now()
		next := now.Add(s.RecheckInterval)
		for method, ids := range byMethod {
			var rows []Domain
			err := tx.Model(&rows).Clauses(clause.Returning{Columns: []clause.Column{{Name: "id"}}}).
				Where("id IN ? AND status = ?", ids, Verified).
				Updates(map[string]any{"last_checked_at": now, "next_check_at": next, "lease_until": nil,
					"inconclusive_since": nil, "verified_method": method}).Error
			if err != nil {
				return fmt.Errorf("domains: unable to record re-checks: %w", err)
			}
			for _, d := range rows {
				updated[d.ID] = true
			}
		}
		var checks []Check
		for _, p := range batch {
			if !updated[p.d.ID] {
				continue
			}
			checks = append(checks, checksOf(p.d.ID, now, p.report, true)...)
		}
		if len(checks) == 0 {
			return nil
		}
		return tx.CreateInBatches(checks, recordBatch).Error
	})
	if err != nil {
		slog.Error("domains: re-checks not recorded; their leases bring them back", "domains", len(batch), "err", err)
		return
	}
	for _, p := range batch {
		if updated[p.d.ID] {
			s.Metrics.observe(p.report)
			continue
		}
		if _, err := s.record(ctx, p.d.ID, p.report, nil, ""); err != nil && !errors.Is(err, ErrVerifiedElsewhere) {
			slog.Error("domains: automatic check not recorded", "domain", p.d.Name, "err", err)
		}
	}
}
