package domains

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/database"
	"admincenter/internal/orgs"
	"admincenter/internal/users"
	"admincenter/internal/verify"
)

// Checker proves domains; *verify.Checker is the real one.
type Checker interface {
	CheckDNS(ctx context.Context, t verify.Target) verify.Result
	CheckHTTPS(ctx context.Context, t verify.Target) verify.Result
}

// Service is everything done to domains.
type Service struct {
	DB                *gorm.DB
	Now               func() time.Time
	Checker           Checker
	Providers         *Blocklist
	BaseURL           *url.URL      // links in emails start here
	RecheckInterval   time.Duration // verified domains are checked again after this
	PropagationWindow time.Duration // pending domains are checked automatically this long after a Verify click
	GracePeriod       time.Duration // time to restore a missing proof before the domain expires
	InconclusiveLimit time.Duration // checks that cannot tell count as a missing proof after this long
	ClaimLease        time.Duration // claimed work of a stopped instance is taken over after this; 0: 10 minutes
	Metrics           *Metrics      // may be nil
	// Pace, if set, is called before each automatic check: it may wait,
	// so that background work gives way to people using the pages.
	Pace func(ctx context.Context)
	// Announce, if set, is told of each change that webhooks report, in
	// the change's transaction; an error rolls the change back. Package
	// webhooks sets it: it shows domains through package apiview, which
	// imports this one.
	Announce func(tx *gorm.DB, now time.Time, e Event) error
}

// Add creates a pending domain in the actor's organization, with a fresh
// token. Every refusal names its reason and creates nothing. The count of
// domains is read under the organization's lock, so concurrent adds never
// pass the limit.
func (s *Service) Add(ctx context.Context, actorID int64, input string) (Domain, error) {
	name, err := Normalize(input, s.Providers)
	if err != nil {
		return Domain{}, apperr.Field("name", err.Error())
	}
	var d Domain
	err = database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		actor, org, err := orgs.Admin(tx, actorID)
		if err != nil {
			return err
		}
		var mine, elsewhere, count int64
		err = errors.Join(
			tx.Model(&Domain{}).Where("organization_id = ? AND name = ?", org.ID, name.ASCII).Count(&mine).Error,
			tx.Model(&Domain{}).Where("organization_id <> ? AND name = ? AND status IN ?", org.ID, name.ASCII, []Status{Verified, Revalidating}).Count(&elsewhere).Error,
			tx.Model(&Domain{}).Where("organization_id = ?", org.ID).Count(&count).Error,
		)
		if err != nil {
			return fmt.Errorf("domains: unable to count the domains of %d: %w", org.ID, err)
		}
		switch {
		case mine > 0:
			return apperr.Field("name", name.Unicode+" is already one of your organization's domains.")
		case elsewhere > 0:
			return apperr.Field("name", name.Unicode+" is verified by another organization. A domain can belong to one organization only: ask that organization to delete it, or contact support if you believe it is yours.")
		case count >= Limit:
			return apperr.Field("name", fmt.Sprintf("Your organization already has %d domains, the most allowed. Delete a domain you no longer need to add another.", Limit))
		}
		now := s.Now()
		d = Domain{
			OrganizationID: org.ID, Name: name.ASCII, UnicodeName: name.Unicode,
			Token: NewToken(), FileName: NewFileName(), Method: verify.DNS, Status: Pending,
			CreatedBy: &actor.ID, CreatedAt: now,
		}
		if err := tx.Create(&d).Error; err != nil {
			if database.IsDuplicate(err) {
				return apperr.Field("name", name.Unicode+" is already one of your organization's domains.")
			}
			return fmt.Errorf("domains: unable to add %s: %w", name.ASCII, err)
		}
		if err := audit.Record(tx, now, org.ID, actorOf(actor), "domain.added", targetOf(d), "token issued; pending verification"); err != nil {
			return err
		}
		return s.announce(tx, now, Event{Type: "domain.added", Domain: d})
	})
	return d, err
}

// List returns the organization's domains by name; Listing filters them.
func (s *Service) List(ctx context.Context, orgID int64) ([]Domain, error) {
	return find(s.DB.WithContext(ctx), orgID, Filter{}, Whole)
}

// Get returns one domain of the organization; other organizations'
// domains are not found.
func (s *Service) Get(ctx context.Context, orgID, id int64) (Domain, error) {
	return get(s.DB.WithContext(ctx), orgID, id)
}

func get(db *gorm.DB, orgID, id int64) (Domain, error) {
	var d Domain
	err := db.Where("id = ? AND organization_id = ?", id, orgID).Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return d, apperr.New(apperr.NotFound, "No such domain in this organization.")
	}
	if err != nil {
		return d, fmt.Errorf("domains: unable to read domain %d: %w", id, err)
	}
	return d, nil
}

// VerifiedNames returns the names of the organization's verified domains.
func (s *Service) VerifiedNames(ctx context.Context, orgID int64) ([]string, error) {
	return VerifiedNames(s.DB.WithContext(ctx), orgID)
}

// Delete removes a domain from the actor's organization. Its managed
// users stay; only the expiry of an unvalidated domain removes users.
func (s *Service) Delete(ctx context.Context, actorID, id int64) (Domain, error) {
	var d Domain
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		actor, org, err := orgs.Admin(tx, actorID)
		if err != nil {
			return err
		}
		if d, err = get(tx, org.ID, id); err != nil {
			return err
		}
		if err := tx.Delete(&d).Error; err != nil {
			return fmt.Errorf("domains: unable to delete %s: %w", d.Name, err)
		}
		now := s.Now()
		if err := audit.Record(tx, now, org.ID, actorOf(actor), "domain.deleted", targetOf(d),
			"was "+d.Status.Label()+"; managed users kept"); err != nil {
			return err
		}
		return s.announce(tx, now, Event{Type: "domain.deleted", Domain: d})
	})
	return d, err
}

// SetSignupPolicy stores what a sign-up at the domain does, in tx; the
// policy is Bulk User Import's, which checks it before.
func SetSignupPolicy(tx *gorm.DB, domainID int64, policy string) error {
	if err := tx.Model(&Domain{}).Where("id = ?", domainID).Update("signup_policy", policy).Error; err != nil {
		return fmt.Errorf("domains: unable to change the settings of %d: %w", domainID, err)
	}
	return nil
}

// ForActor returns a domain of the actor's organization after checking
// that the actor may administer it.
func (s *Service) ForActor(ctx context.Context, actor users.User, id int64) (Domain, error) {
	if !actor.CanAdminister() {
		return Domain{}, apperr.New(apperr.Forbidden, "Only the Owner and Administrators can do this.")
	}
	return s.Get(ctx, actor.OrgID(), id)
}

func actorOf(u users.User) audit.Actor { return audit.Actor{ID: u.ID, Email: u.Email} }

func targetOf(d Domain) audit.Target {
	return audit.Target{Type: "domain", ID: fmt.Sprint(d.ID), Label: d.UnicodeName}
}
