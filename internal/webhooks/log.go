package webhooks

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"admincenter/internal/paging"
)

// Get returns one endpoint of the organization; other organizations'
// endpoints are not found.
func (s *Service) Get(ctx context.Context, orgID, id int64) (Endpoint, error) {
	var ep Endpoint
	err := s.DB.WithContext(ctx).Where("id = ? AND organization_id = ?", id, orgID).Take(&ep).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ep, errNoEndpoint
	}
	if err != nil {
		return ep, fmt.Errorf("webhooks: unable to read endpoint %d: %w", id, err)
	}
	return ep, nil
}

// Summary is an endpoint with its newest delivery, if any, as the list of
// endpoints shows it.
type Summary struct {
	Endpoint
	Last *LogEntry
}

// List returns the organization's endpoints, oldest first, each with its
// newest delivery.
func (s *Service) List(ctx context.Context, orgID int64) ([]Summary, error) {
	db := s.DB.WithContext(ctx)
	var endpoints []Endpoint
	if err := db.Where("organization_id = ?", orgID).Order("id").Find(&endpoints).Error; err != nil {
		return nil, fmt.Errorf("webhooks: unable to list the endpoints of %d: %w", orgID, err)
	}
	ids := make([]int64, len(endpoints))
	for i, e := range endpoints {
		ids[i] = e.ID
	}
	newest := db.Session(&gorm.Session{NewDB: true}).Model(&Delivery{}).Select("MAX(id)").
		Where("endpoint_id IN ?", ids).Group("endpoint_id")
	last, err := s.entries(ctx, db.Where("d.id IN (?)", newest))
	if err != nil {
		return nil, err
	}
	out := make([]Summary, len(endpoints))
	for i, e := range endpoints {
		out[i].Endpoint = e
		for j := range last {
			if last[j].EndpointID == e.ID {
				out[i].Last = &last[j]
			}
		}
	}
	return out, nil
}

// LogEntry is a delivery with its event and its attempts.
type LogEntry struct {
	Delivery
	PublicID string // the event's
	Type     string
	History  []Attempt `gorm:"-"` // oldest first
}

// Log returns one page of an endpoint's deliveries, newest first.
func (s *Service) Log(ctx context.Context, ep Endpoint, page int) (paging.Page[LogEntry], error) {
	p := paging.Page[LogEntry]{Number: max(page, 1)}
	db := s.DB.WithContext(ctx)
	if err := db.Model(&Delivery{}).Where("endpoint_id = ?", ep.ID).Count(&p.Total).Error; err != nil {
		return p, fmt.Errorf("webhooks: unable to count the deliveries of endpoint %d: %w", ep.ID, err)
	}
	var err error
	p.Items, err = s.entries(ctx, db.Where("d.endpoint_id = ?", ep.ID).Offset(paging.Offset(page)).Limit(paging.Size))
	return p, err
}

// entries reads the deliveries q selects, newest first, with their events
// and attempts.
func (s *Service) entries(ctx context.Context, q *gorm.DB) ([]LogEntry, error) {
	var out []LogEntry
	err := q.Table("webhook_deliveries AS d").Select("d.*, e.public_id, e.type").
		Joins("JOIN webhook_events e ON e.id = d.event_id").Order("d.id DESC").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("webhooks: unable to read deliveries: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]int64, len(out))
	for i, e := range out {
		ids[i] = e.ID
	}
	var attempts []Attempt
	if err := s.DB.WithContext(ctx).Where("delivery_id IN ?", ids).Order("id").Find(&attempts).Error; err != nil {
		return nil, fmt.Errorf("webhooks: unable to read attempts: %w", err)
	}
	for _, a := range attempts {
		for i := range out {
			if out[i].ID == a.DeliveryID {
				out[i].History = append(out[i].History, a)
			}
		}
	}
	return out, nil
}
