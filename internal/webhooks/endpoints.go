package webhooks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/apiview"
	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/database"
	"admincenter/internal/orgs"
	"admincenter/internal/users"
)

// Limit is the number of endpoints one organization may have.
const Limit = 20

// Input is an endpoint's address and events, as its form sends them.
type Input struct {
	URL    string
	All    bool     // every event type, those added later too
	Events []string // the chosen types, when not All
}

// check validates in and returns the address and the events to store. It
// resolves the address's host, so it runs outside any transaction.
func (s *Service) check(ctx context.Context, in Input) (string, string, error) {
	problems := apperr.Fields{}
	var u string
	if msg := users.CheckText("An address", in.URL); msg != "" {
		problems.Add("url", msg)
	} else if checked, err := s.Checker.CheckURL(ctx, in.URL); err != nil {
		problems.Add("url", err.Error())
	} else {
		u = checked
	}
	events, problem := eventsOf(in)
	if problem != "" {
		problems.Add("events", problem)
	}
	return u, events, problems.Err()
}

// eventsOf returns the Events of an endpoint that wants what in asks, in
// the order of Types, or why it cannot.
func eventsOf(in Input) (string, string) {
	if in.All {
		return allEvents, ""
	}
	for _, e := range in.Events {
		if !knownType(e) {
			return "", fmt.Sprintf("%q is not an event type.", cut(e))
		}
	}
	var chosen []string
	for _, t := range Types {
		if slices.Contains(in.Events, t.Name) {
			chosen = append(chosen, t.Name)
		}
	}
	if len(chosen) == 0 {
		return "", "Choose at least one event, or All events."
	}
	return strings.Join(chosen, " "), ""
}

// EventsWords says which events an endpoint receives.
func EventsWords(events string) string {
	if events == allEvents {
		return "all events"
	}
	return strings.Join(strings.Fields(events), ", ")
}

// Create adds an endpoint to the actor's organization, enabled, and
// returns it with its signing secret, which is shown this once.
func (s *Service) Create(ctx context.Context, actorID int64, in Input) (Endpoint, string, error) {
	u, events, err := s.check(ctx, in)
	if err != nil {
		return Endpoint{}, "", err
	}
	secret := NewSecret()
	var ep Endpoint
	err = database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		actor, org, err := orgs.Admin(tx, actorID)
		if err != nil {
			return err
		}
		if err := s.mayUse(tx, org.ID, 0, u); err != nil {
			return err
		}
		now := s.Now()
		ep = Endpoint{OrganizationID: org.ID, URL: u, Events: events, Secret: secret, Enabled: true,
			CreatedBy: &actor.ID, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&ep).Error; err != nil {
			return fmt.Errorf("webhooks: unable to add %s: %w", u, err)
		}
		return audit.Record(tx, now, org.ID, actorOf(actor), "webhook.created", targetOf(ep), "receives "+EventsWords(events))
	})
	return ep, secret, err
}

// mayUse refuses an address that another endpoint of the organization has
// (but the endpoint id), and a new one past the limit.
func (s *Service) mayUse(tx *gorm.DB, orgID, id int64, u string) error {
	var same, count int64
	err := errors.Join(
		tx.Model(&Endpoint{}).Where("organization_id = ? AND url = ? AND id <> ?", orgID, u, id).Count(&same).Error,
		tx.Model(&Endpoint{}).Where("organization_id = ?", orgID).Count(&count).Error,
	)
	switch {
	case err != nil:
		return fmt.Errorf("webhooks: unable to count the endpoints of %d: %w", orgID, err)
	case same > 0:
		return apperr.Field("url", "Another endpoint of your organization has this address: change that one instead.")
	case id == 0 && count >= Limit:
		return apperr.Field("url", fmt.Sprintf("Your organization already has %d endpoints, the most allowed. Delete one you no longer use to add another.", Limit))
	}
	return nil
}

// Update changes an endpoint's address and events.
func (s *Service) Update(ctx context.Context, actorID, id int64, in Input) (Endpoint, error) {
	u, events, err := s.check(ctx, in)
	if err != nil {
		return Endpoint{}, err
	}
	return s.change(ctx, actorID, id, func(tx *gorm.DB, actor users.User, ep *Endpoint, now time.Time) error {
		if err := s.mayUse(tx, ep.OrganizationID, ep.ID, u); err != nil {
			return err
		}
		var changes []string
		if u != ep.URL {
			changes = append(changes, "address "+ep.URL+" → "+u)
		}
		if events != ep.Events {
			changes = append(changes, "receives "+EventsWords(events))
		}
		if len(changes) == 0 {
			return nil
		}
		ep.URL, ep.Events, ep.UpdatedAt = u, events, now
		if err := updateEndpoint(tx, ep.ID, map[string]any{"url": u, "events": events, "updated_at": now}); err != nil {
			return err
		}
		return audit.Record(tx, now, ep.OrganizationID, actorOf(actor), "webhook.updated", targetOf(*ep), strings.Join(changes, "; "))
	})
}

// SetEnabled enables or disables an endpoint. A disabled endpoint gets no
// new deliveries, and those it has wait until it is enabled again.
func (s *Service) SetEnabled(ctx context.Context, actorID, id int64, on bool) (Endpoint, error) {
	return s.change(ctx, actorID, id, func(tx *gorm.DB, actor users.User, ep *Endpoint, now time.Time) error {
		if ep.Enabled == on {
			return nil
		}
		ep.Enabled, ep.DisabledReason, ep.FailingSince, ep.UpdatedAt = on, "", nil, now
		err := updateEndpoint(tx, ep.ID, map[string]any{"enabled": on, "disabled_reason": "", "failing_since": nil, "updated_at": now})
		if err != nil {
			return err
		}
		if on {
			return audit.Record(tx, now, ep.OrganizationID, actorOf(actor), "webhook.enabled", targetOf(*ep), "")
		}
		return audit.Record(tx, now, ep.OrganizationID, actorOf(actor), "webhook.disabled", targetOf(*ep), "")
	})
}

// RotateSecret gives an endpoint a new signing secret, which is shown
// this once; deliveries are signed with it from now on, retries included.
func (s *Service) RotateSecret(ctx context.Context, actorID, id int64) (Endpoint, string, error) {
	secret := NewSecret()
	ep, err := s.change(ctx, actorID, id, func(tx *gorm.DB, actor users.User, ep *Endpoint, now time.Time) error {
		ep.Secret, ep.SecretRotatedAt, ep.UpdatedAt = secret, &now, now
		if err := updateEndpoint(tx, ep.ID, map[string]any{"secret": secret, "secret_rotated_at": now, "updated_at": now}); err != nil {
			return err
		}
		return audit.Record(tx, now, ep.OrganizationID, actorOf(actor), "webhook.secret_rotated", targetOf(*ep), "")
	})
	if err != nil {
		return Endpoint{}, "", err
	}
	return ep, secret, nil
}

// Delete removes an endpoint and its deliveries.
func (s *Service) Delete(ctx context.Context, actorID, id int64) (Endpoint, error) {
	var ep Endpoint
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		actor, org, err := orgs.Admin(tx, actorID)
		if err != nil {
			return err
		}
		var found []Endpoint
		if err := database.ForUpdate(tx).Where("id = ? AND organization_id = ?", id, org.ID).Limit(1).Find(&found).Error; err != nil {
			return fmt.Errorf("webhooks: unable to read endpoint %d: %w", id, err)
		}
		if len(found) == 0 {
			return errNoEndpoint
		}
		ep = found[0]
		if err := tx.Delete(&ep).Error; err != nil {
			return fmt.Errorf("webhooks: unable to delete endpoint %d: %w", id, err)
		}
		return audit.Record(tx, s.Now(), org.ID, actorOf(actor), "webhook.deleted", targetOf(ep), "")
	})
	return ep, err
}

// SendTest sends a webhook.test event to an enabled endpoint.
func (s *Service) SendTest(ctx context.Context, actorID, id int64) error {
	_, err := s.change(ctx, actorID, id, func(tx *gorm.DB, actor users.User, ep *Endpoint, now time.Time) error {
		if err := mustBeEnabled(*ep); err != nil {
			return err
		}
		data := apiview.TestEvent{EndpointID: ep.ID, Message: "A test event sent by " + actor.Email + " from the Admin Center."}
		if err := s.write(tx, now, ep.OrganizationID, TestType, data, []Endpoint{*ep}); err != nil {
			return err
		}
		return audit.Record(tx, now, ep.OrganizationID, actorOf(actor), "webhook.test_sent", targetOf(*ep), "")
	})
	if err == nil {
		s.kick()
	}
	return err
}

// Redeliver sends an event that was delivered or given up to its endpoint
// again, as a new delivery with the same event id.
func (s *Service) Redeliver(ctx context.Context, actorID, id, deliveryID int64) error {
	_, err := s.change(ctx, actorID, id, func(tx *gorm.DB, actor users.User, ep *Endpoint, now time.Time) error {
		if err := mustBeEnabled(*ep); err != nil {
			return err
		}
		var d Delivery
		err := tx.Where("id = ? AND endpoint_id = ?", deliveryID, ep.ID).Take(&d).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return apperr.New(apperr.NotFound, "No such delivery at this endpoint.")
		}
		if err != nil {
			return fmt.Errorf("webhooks: unable to read delivery %d: %w", deliveryID, err)
		}
		if d.Status == Pending {
			return apperr.New(apperr.Conflict, "This event is still being delivered: its next attempt is shown in the log.")
		}
		again := Delivery{EventID: d.EventID, EndpointID: ep.ID, Status: Pending, NextAttemptAt: now, CreatedAt: now}
		if err := tx.Create(&again).Error; err != nil {
			return fmt.Errorf("webhooks: unable to queue delivery %d again: %w", deliveryID, err)
		}
		var ev Event
		if err := tx.Take(&ev, d.EventID).Error; err != nil {
			return fmt.Errorf("webhooks: unable to read event %d: %w", d.EventID, err)
		}
		return audit.Record(tx, now, ep.OrganizationID, actorOf(actor), "webhook.redelivered", targetOf(*ep), ev.Type+" "+ev.PublicID)
	})
	if err == nil {
		s.kick()
	}
	return err
}

func mustBeEnabled(ep Endpoint) error {
	if !ep.Enabled {
		return apperr.New(apperr.Conflict, "This endpoint is disabled: enable it first. A disabled endpoint receives nothing.")
	}
	return nil
}

var errNoEndpoint = apperr.New(apperr.NotFound, "No such endpoint in this organization.")

// change runs f on an endpoint of the actor's organization, locked after
// the actor and the organization (the lock order of package database),
// and returns the endpoint as f leaves it.
func (s *Service) change(ctx context.Context, actorID, id int64, f func(tx *gorm.DB, actor users.User, ep *Endpoint, now time.Time) error) (Endpoint, error) {
	var ep Endpoint
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		actor, org, err := orgs.Admin(tx, actorID)
		if err != nil {
			return err
		}
		found, err := lockEndpoint(tx, id, &ep)
		if err != nil {
			return err
		}
		if !found || ep.OrganizationID != org.ID {
			return errNoEndpoint
		}
		return f(tx, actor, &ep, s.Now())
	})
	return ep, err
}

// lockEndpoint reads an endpoint for a change, or reports that it is gone.
func lockEndpoint(tx *gorm.DB, id int64, ep *Endpoint) (bool, error) {
	var found []Endpoint
	if err := database.ForNoKeyUpdate(tx).Where("id = ?", id).Limit(1).Find(&found).Error; err != nil {
		return false, fmt.Errorf("webhooks: unable to read endpoint %d: %w", id, err)
	}
	if len(found) == 0 {
		return false, nil
	}
	*ep = found[0]
	return true, nil
}

func updateEndpoint(tx *gorm.DB, id int64, changes map[string]any) error {
	if err := tx.Model(&Endpoint{}).Where("id = ?", id).Updates(changes).Error; err != nil {
		return fmt.Errorf("webhooks: unable to update endpoint %d: %w", id, err)
	}
	return nil
}

func actorOf(u users.User) audit.Actor { return audit.Actor{ID: u.ID, Email: u.Email} }

func targetOf(ep Endpoint) audit.Target {
	return audit.Target{Type: "webhook", ID: fmt.Sprint(ep.ID), Label: ep.URL}
}
