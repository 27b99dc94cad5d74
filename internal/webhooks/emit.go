package webhooks

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/apiview"
	"admincenter/internal/domains"
	"admincenter/internal/imports"
	"admincenter/internal/users"
)

// Events are written where the change is: domains and imports announce
// each change in its transaction, through the hooks these two methods
// are (app.New sets them). The audit entry, written in the same
// transactions, cannot carry the resource: it is recorded before the
// domain row is saved, and after it is deleted.

// Domain writes the event of a change of a domain, in its transaction.
func (s *Service) Domain(tx *gorm.DB, now time.Time, e domains.Event) error {
	d := apiview.DomainOf(e.Domain, e.AtRisk, s.HTTPSPort)
	var data any
	switch e.Type {
	case "domain.expired":
		data = apiview.ExpiryEvent{Domain: d, UsersRemoved: len(e.Removed), RemovedUserIDs: append([]int64{}, e.Removed...)}
	case "domain.users_added_back":
		data = apiview.AddedBackEvent{Domain: d, Users: eventUsers(e.AddedBack)}
	default:
		v := apiview.DomainEvent{Domain: d, Reason: e.Reason}
		if e.Type == "domain.revalidation_required" || e.Type == "domain.reminder" {
			v.Deadline = d.RevalidationDeadline
		}
		data = v
	}
	return s.emit(tx, now, e.Domain.OrganizationID, e.Type, data)
}

// Import writes the event of a report's or an import's change, or of a
// sign-up added to an organization, in its transaction.
func (s *Service) Import(tx *gorm.DB, now time.Time, e imports.Event) error {
	if e.User != nil {
		data := apiview.SignupEvent{User: apiview.EventUserOf(*e.User), Domain: apiview.DomainOf(*e.Domain, 0, s.HTTPSPort)}
		return s.emit(tx, now, e.User.OrgID(), e.Type, data)
	}
	v := apiview.ImportEvent{Import: apiview.ImportOf(*e.Import)}
	if e.Type == "import.completed" {
		n := e.Import.NotImported()
		v.NotImported = &n
	}
	return s.emit(tx, now, e.Import.OrganizationID, e.Type, v)
}

func eventUsers(list []users.User) []apiview.EventUser {
	out := make([]apiview.EventUser, len(list))
	for i, u := range list {
		out[i] = apiview.EventUserOf(u)
	}
	return out
}

// emit writes an event of the organization and a delivery to each of its
// enabled endpoints that wants it, in tx; nothing when none does.
func (s *Service) emit(tx *gorm.DB, now time.Time, orgID int64, typ string, data any) error {
	if !knownType(typ) {
		return fmt.Errorf("webhooks: %s is not an event type", typ)
	}
	var endpoints []Endpoint
	if err := tx.Where("organization_id = ? AND enabled = ?", orgID, true).Order("id").Find(&endpoints).Error; err != nil {
		return fmt.Errorf("webhooks: unable to read the endpoints of %d: %w", orgID, err)
	}
	endpoints = slices.DeleteFunc(endpoints, func(e Endpoint) bool { return !e.Wants(typ) })
	return s.write(tx, now, orgID, typ, data, endpoints)
}

// write stores an event and its deliveries to endpoints, due now.
func (s *Service) write(tx *gorm.DB, now time.Time, orgID int64, typ string, data any, endpoints []Endpoint) error {
	if len(endpoints) == 0 {
		return nil
	}
	id := "evt_" + strings.ToLower(rand.Text())
	payload, err := json.Marshal(apiview.Event{ID: id, Type: typ, Timestamp: now.UTC(), OrganizationID: orgID, Data: data})
	if err != nil {
		return fmt.Errorf("webhooks: unable to encode %s: %w", typ, err)
	}
	ev := Event{PublicID: id, OrganizationID: orgID, Type: typ, Payload: string(payload), CreatedAt: now}
	if err := tx.Create(&ev).Error; err != nil {
		return fmt.Errorf("webhooks: unable to record %s: %w", typ, err)
	}
	deliveries := make([]Delivery, len(endpoints))
	for i, e := range endpoints {
		deliveries[i] = Delivery{EventID: ev.ID, EndpointID: e.ID, Status: Pending, NextAttemptAt: now, CreatedAt: now}
	}
	if err := tx.Create(&deliveries).Error; err != nil {
		return fmt.Errorf("webhooks: unable to queue %s: %w", typ, err)
	}
	return nil
}
