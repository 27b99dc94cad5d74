package domains

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/database"
	"admincenter/internal/verify"
)

const (
	claimBatch = 100
	// lease is how long a claimed check may take before another instance
	// may take it over; it is well above checkTimeout.
	lease = 2 * time.Minute
)

// RunDue claims the domains whose automatic check is due and checks them,
// at most concurrency at a time, until none is due. It returns how many it
// checked. Several instances may run it at once: each due check is claimed
// by one of them.
func (s *Service) RunDue(ctx context.Context, concurrency int) (int, error) {
	done := 0
	for ctx.Err() == nil {
		batch, err := s.claim(ctx)
		if err != nil || len(batch) == 0 {
			return done, err
		}
		sem := make(chan struct{}, max(concurrency, 1))
		var wg sync.WaitGroup
		for _, d := range batch {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				s.checkDue(ctx, d)
			})
		}
		wg.Wait()
		done += len(batch)
	}
	return done, nil
}

// claim takes a lease on the next due domains.
func (s *Service) claim(ctx context.Context) ([]Domain, error) {
	var batch []Domain
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.Now()
		err := database.SkipLocked(tx).
			Where("next_check_at <= ? AND (lease_until IS NULL OR lease_until < ?)", now, now).
			Order("next_check_at, id").Limit(claimBatch).Find(&batch).Error
		if err != nil || len(batch) == 0 {
			return err
		}
		ids := make([]int64, len(batch))
		for i, d := range batch {
			ids[i] = d.ID
		}
		return tx.Model(&Domain{}).Where("id IN ?", ids).Update("lease_until", now.Add(lease)).Error
	})
	if err != nil {
		return nil, fmt.Errorf("domains: unable to claim due checks: %w", err)
	}
	return batch, nil
}

// checkDue runs one automatic check: a verified domain by the method that
// proved it first, a pending one by the chosen method first.
func (s *Service) checkDue(ctx context.Context, d Domain) {
	first := d.Method
	if d.VerifiedMethod != "" && (d.Status == Verified || d.Status == Revalidating) {
		first = d.VerifiedMethod
	}
	report := s.check(ctx, d, first)
	if ctx.Err() != nil {
		return // stopping: the lease brings the check back
	}
	if _, err := s.record(context.WithoutCancel(ctx), d.ID, report, nil, verify.Method("")); err != nil && err != ErrVerifiedElsewhere {
		slog.Error("domains: automatic check not recorded", "domain", d.Name, "err", err)
	}
}
