package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/audit"
	"admincenter/internal/database"
	"admincenter/internal/mail"
	"admincenter/internal/orgs"
	"admincenter/internal/paths"
	"admincenter/internal/text"
	"admincenter/internal/users"
)

// batchSize is how many deliveries one sender claims at a time: each may
// take a request's timeout, and the claim's lease is renewed between them.
const batchSize = 5

// RunDue sends the deliveries that are due, Concurrency requests at a
// time, until none is due or ctx ends, and returns how many were
// delivered. Several instances may run it at once: each delivery is
// claimed by one of them. When ctx ends, the requests in flight are
// finished and recorded, and the rest of each claim is given back.
func (s *Service) RunDue(ctx context.Context) (int, error) {
	// Most polls find nothing due: one look, outside a transaction, costs
	// them one statement instead of a claim by each sender.
	if due, err := s.anyDue(ctx); err != nil || !due {
		return 0, err
	}
	var delivered atomic.Int64
	n := s.Concurrency
	if n <= 0 {
		n = 4
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = s.sendDue(ctx, &delivered) })
	}
	wg.Wait()
	return int(delivered.Load()), errors.Join(errs...)
}

// anyDue reports whether a delivery waits for its attempt, whatever its
// endpoint; the partial index of pending deliveries answers it.
func (s *Service) anyDue(ctx context.Context) (bool, error) {
	var ids []int64
	err := s.DB.WithContext(ctx).Model(&Delivery{}).Where("status = 'pending' AND next_attempt_at <= ?", s.Now()).
		Limit(1).Pluck("id", &ids).Error
	if err != nil {
		return false, fmt.Errorf("webhooks: unable to look for due deliveries: %w", err)
	}
	return len(ids) > 0, nil
}

// sendDue claims batches and sends them, one request at a time.
func (s *Service) sendDue(ctx context.Context, delivered *atomic.Int64) error {
	for ctx.Err() == nil {
		c, err := s.claim(ctx)
		if err != nil && ctx.Err() != nil {
			return nil // stopped while claiming: nothing was claimed
		}
		if err != nil || len(c.due) == 0 {
			return err
		}
		if err := s.sendBatch(ctx, c, delivered); err != nil {
			return err
		}
	}
	return nil
}

// claim is a batch of deliveries held by one sender under a lease: once
// it has run out another sender may claim them with a lease of its own.
type claim struct {
	database.Lease
	due []due // not yet sent
}

// due is a claimed delivery with what sending it needs.
type due struct {
	Delivery
	PublicID string
	Type     string
	Payload  string
	URL      string
	Secret   string
}

func (s *Service) claim(ctx context.Context) (*claim, error) {
	c := &claim{}
	var ids []int64 // claimed
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		now := s.Now()
		c.Lease, ids = database.NewLease(now.Add(s.lease())), nil
		// The endpoints are read in a subquery, not joined, so that only
		// the deliveries are locked. A disabled endpoint's deliveries wait.
		// The status is written out, not bound, so that PostgreSQL can use
		// the partial index of pending deliveries.
		err := database.SkipLocked(tx.Model(&Delivery{}).Select("id").
			Where("status = 'pending' AND next_attempt_at <= ?", now).
			Where("endpoint_id IN (?)", tx.Session(&gorm.Session{NewDB: true}).Model(&Endpoint{}).Select("id").Where("enabled = ?", true)).
			Order("next_attempt_at, id").Limit(batchSize)).Pluck("id", &ids).Error
		if err != nil || len(ids) == 0 {
			return err
		}
		return tx.Model(&Delivery{}).Where("id IN ?", ids).Updates(map[string]any{
			"attempts":        gorm.Expr("attempts + 1"),
			"next_attempt_at": c.Until,
			"claim_token":     c.Token,
		}).Error
	})
	if err == nil && len(ids) > 0 {
		err = s.DB.WithContext(ctx).Table("webhook_deliveries AS d").
			Select("d.*, e.public_id, e.type, e.payload, p.url, p.secret").
			Joins("JOIN webhook_events e ON e.id = d.event_id").
			Joins("JOIN webhook_endpoints p ON p.id = d.endpoint_id").
			Where("d.claim_token = ?", c.Token).Order("d.next_attempt_at, d.id").Scan(&c.due).Error
	}
	if err != nil {
		return nil, fmt.Errorf("webhooks: unable to claim deliveries: %w", err)
	}
	return c, nil
}

func (s *Service) sendBatch(ctx context.Context, c *claim, delivered *atomic.Int64) error {
	// The batch's rows are written even once ctx has ended: a delivery
	// left unrecorded would go out again, and a claim not given back would
	// wait for its lease.
	write := context.WithoutCancel(ctx)
	for len(c.due) > 0 {
		if ctx.Err() != nil {
			return s.release(write, c)
		}
		if err := s.renew(write, c); err != nil {
			return err
		}
		if len(c.due) == 0 {
			break
		}
		d := c.due[0]
		c.due = c.due[1:]
		at := s.Now()
		o := s.send(ctx, d)
		if err := s.finish(write, c, d, at, o); err != nil {
			return err
		}
		if o.problem == "" {
			delivered.Add(1)
		}
	}
	return nil
}

// renewBelow: before each request a sender renews the lease of its
// batch's remaining deliveries when less than this is left, so that one
// request and its recording never outlast it.
func (s *Service) renewBelow() time.Duration { return s.timeout() + 15*time.Second }

// renew extends the lease of the claim's remaining deliveries when it is
// about to run out.
func (s *Service) renew(ctx context.Context, c *claim) error {
	held, lost, err := c.Renew(ctx, s.DB, &Delivery{}, len(c.due), s.Now(), s.renewBelow(), s.lease())
	if err != nil {
		return fmt.Errorf("webhooks: unable to renew the claim of %d deliveries: %w", len(c.due), err)
	}
	if !lost {
		return nil
	}
	kept := slices.DeleteFunc(slices.Clone(c.due), func(d due) bool { return !slices.Contains(held, d.ID) })
	slog.Warn("webhooks: claim taken over by another sender", "deliveries", len(c.due)-len(kept))
	c.due = kept
	return nil
}

// release gives the claim's unsent deliveries back, due now, without
// counting the attempt that did not happen.
func (s *Service) release(ctx context.Context, c *claim) error {
	n, err := c.Release(ctx, s.DB, &Delivery{}, s.Now())
	if err != nil {
		return fmt.Errorf("webhooks: unable to give back %d claimed deliveries: %w", len(c.due), err)
	}
	slog.Info("webhooks: gave back claimed deliveries", "deliveries", n)
	c.due = nil
	return nil
}

// finish records an attempt that started at at: the attempt itself, what
// becomes of the delivery, and the endpoint's run of failures, which
// disables it once it lasts MaxAge.
func (s *Service) finish(ctx context.Context, c *claim, d due, at time.Time, o outcome) error {
	var disabled bool
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		disabled = false
		now := s.Now()
		// The endpoint first, then its delivery: the order of the pages'
		// changes too.
		var ep Endpoint
		found, err := lockEndpoint(tx, d.EndpointID, &ep)
		if err != nil || !found {
			return err // deleted meanwhile, with its deliveries
		}
		update := map[string]any{"claim_token": ""}
		// A failure is recorded only by the claim's holder; a delivery
		// whoever holds the claim now, so that nobody sends it again.
		q := tx.Model(&Delivery{}).Where("id = ? AND status = ?", d.ID, Pending)
		if o.problem == "" {
			update["status"], update["delivered_at"] = Delivered, now
		} else {
			q = q.Where("claim_token = ?", c.Token)
			next, deadline := now.Add(jitter(Backoff(d.Attempts))), d.CreatedAt.Add(s.maxAge())
			switch {
			case !now.Before(deadline):
				update["status"], update["failed_at"] = Failed, now
			case deadline.Before(next):
				update["next_attempt_at"] = deadline // the last attempt falls on the deadline
			default:
				update["next_attempt_at"] = next
			}
		}
		res := q.Updates(update)
		if res.Error != nil {
			return fmt.Errorf("webhooks: unable to record delivery %d: %w", d.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			slog.Warn("webhooks: delivery taken over by another sender", "delivery", d.ID, "problem", o.problem)
			return nil
		}
		a := Attempt{DeliveryID: d.ID, Number: d.Attempts, At: at, DurationMS: o.took.Milliseconds(),
			HTTPStatus: o.status, Response: o.response, Error: o.problem}
		if err := tx.Create(&a).Error; err != nil {
			return fmt.Errorf("webhooks: unable to record an attempt of delivery %d: %w", d.ID, err)
		}
		disabled, err = s.endpointAfter(tx, now, ep, o.problem)
		return err
	})
	if err != nil {
		return err
	}
	if o.problem != "" {
		slog.Warn("webhooks: delivery failed", "delivery", d.ID, "event", d.PublicID, "endpoint", d.EndpointID,
			"attempts", d.Attempts, "problem", o.problem)
	}
	if disabled {
		slog.Error("webhooks: endpoint disabled after failing for too long", "endpoint", d.EndpointID, "url", d.URL)
	}
	return nil
}

// endpointAfter keeps the endpoint's run of failures: a success ends it;
// a failure starts it, or, once it has lasted MaxAge, disables the
// endpoint and emails the organization's Owner. It reports whether it
// disabled the endpoint.
func (s *Service) endpointAfter(tx *gorm.DB, now time.Time, ep Endpoint, problem string) (bool, error) {
	switch {
	case problem == "" && ep.FailingSince == nil:
		return false, nil
	case problem == "":
		return false, updateEndpoint(tx, ep.ID, map[string]any{"failing_since": nil})
	case ep.FailingSince == nil:
		return false, updateEndpoint(tx, ep.ID, map[string]any{"failing_since": now})
	case !ep.Enabled || now.Sub(*ep.FailingSince) < s.maxAge():
		return false, nil
	}
	reason := fmt.Sprintf("Every delivery failed for %s. The last: %s", s.maxAgeWords(), problem)
	if err := updateEndpoint(tx, ep.ID, map[string]any{"enabled": false, "disabled_reason": reason, "updated_at": now}); err != nil {
		return false, err
	}
	if err := audit.Record(tx, now, ep.OrganizationID, audit.System, "webhook.auto_disabled", targetOf(ep), reason); err != nil {
		return false, err
	}
	org, err := orgs.Lookup(tx, ep.OrganizationID)
	if err != nil {
		return false, err
	}
	admins, err := orgs.Admins(tx, ep.OrganizationID)
	if err != nil {
		return false, err
	}
	for _, a := range admins {
		if a.Role != users.Owner {
			continue
		}
		link := paths.Absolute(s.BaseURL, paths.Webhook(ep.ID))
		if err := mail.Enqueue(tx, now, mail.WebhookDisabled(a.Email, a.Name, org.Name, ep.URL, s.maxAge(), problem, link)); err != nil {
			return false, err
		}
	}
	return true, nil
}

func (s *Service) maxAgeWords() string { return text.Duration(s.maxAge()) }

// Backoff is the wait after n failed attempts before the next one: 30
// seconds, doubling each time, at most 8 hours.
func Backoff(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < 8*time.Hour; i++ {
		d *= 2
	}
	return min(d, 8*time.Hour)
}

// jitter spreads a wait by a fifth either way, so that the deliveries of
// an endpoint that failed at once are not all retried at once.
func jitter(d time.Duration) time.Duration {
	return d*4/5 + time.Duration(mathrand.Int64N(int64(d*2/5)+1))
}
