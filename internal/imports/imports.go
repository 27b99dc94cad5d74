// Package imports is Bulk User Import: a report of the people who signed up
// on their own with an email at an organization's verified domain, its CSV,
// and the import that makes them managed users together with the accounts
// they own. Reports and imports are recorded before they run and are done
// in batches by a background worker that resumes after a crash. It also
// holds the gate of the feature and the domain setting that adds new
// sign-ups automatically.
package imports

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
	"admincenter/internal/domains"
	"admincenter/internal/orgs"
	"admincenter/internal/pace"
	"admincenter/internal/text"
	"admincenter/internal/users"
)

// Status is where a report and its import are.
type Status string

const (
	Generating Status = "generating"
	Ready      Status = "ready"
	Importing  Status = "importing"
	Completed  Status = "completed"
	Failed     Status = "failed"
)

// Label is the status as the product shows it.
func (s Status) Label() string {
	switch s {
	case Generating:
		return "Generating"
	case Ready:
		return "Ready"
	case Importing:
		return "Importing"
	case Completed:
		return "Completed"
	case Failed:
		return "Failed"
	}
	return string(s)
}

// Scope is which users of the domain a report holds.
type Scope string

const (
	All     Scope = "all"      // everyone at the domain
	New     Scope = "new"      // who signed up since the last report and is not in the organization
	LeftOut Scope = "left_out" // who was in an earlier report, was not imported, and is not in the organization
)

// Label is the kind of report as the product shows it.
func (s Scope) Label() string {
	switch s {
	case New:
		return "New users"
	case LeftOut:
		return "Users left out earlier"
	}
	return "All users"
}

// Import is a report of the users at a domain and the import of its
// eligible users.
type Import struct {
	ID                int64
	OrganizationID    int64
	DomainID          int64
	DomainName        string
	Scope             Scope
	Since             *time.Time
	Status            Status
	WithoutReview     bool
	CreatedBy         int64
	CreatedByEmail    string
	CreatedAt         time.Time
	Expected          int // users at the domain when generating started
	Found             int
	Eligible          int
	Selected          int // eligible users the import takes
	UploadedAt        *time.Time
	StartedBy         *int64
	StartedByEmail    string
	StartedAt         *time.Time
	Imported          int
	Skipped           int // selected users who were no longer eligible
	FinishedAt        *time.Time
	Error             string
	CursorID          int64
	NotifyRequestedAt *time.Time
	NotifyRequestedBy string
	NotifyCursorID    int64
	Notified          int
	NotifiedAt        *time.Time
	LeaseUntil        *time.Time
	LeaseToken        string
}

// NotEligible is the number of users in the report who cannot be imported.
func (i Import) NotEligible() int { return i.Found - i.Eligible }

// Active reports whether the worker still has work on the import.
func (i Import) Active() bool {
	return i.Status == Generating || i.Status == Importing || (i.NotifyRequestedAt != nil && i.NotifiedAt == nil)
}

// Progress is the share of the current phase that is done, 0 to 100.
func (i Import) Progress() int {
	done, total := i.Found, i.Expected
	if i.Status == Importing {
		done, total = i.Imported+i.Skipped, i.Selected
	}
	if total <= 0 {
		return 0
	}
	return min(100, done*100/total)
}

// NotImported is the number of users in the report the import left out.
func (i Import) NotImported() int { return i.Found - i.Imported }

// Row is one user of a report, as they were when it was generated, and
// what the import did with them.
type Row struct {
	ImportID      int64
	UserID        int64
	Email         string
	Name          string
	SignedUpAt    time.Time
	EmailVerified bool
	AccountIDs    string // space-separated
	Reason        Reason
	Included      bool // false: removed from the uploaded CSV
	Outcome       Outcome
	OutcomeReason Reason
	DoneAt        *time.Time
}

func (Row) TableName() string { return "import_users" }

// Outcome is what the import did with a user.
type Outcome string

const (
	Waiting  Outcome = ""
	Done     Outcome = "imported"
	Skipped  Outcome = "skipped"  // not eligible, in the report or by the time of the import
	Excluded Outcome = "excluded" // removed from the uploaded CSV
)

// Service runs Bulk User Import.
type Service struct {
	DB      *gorm.DB
	Now     func() time.Time
	BaseURL *url.URL      // links in emails start here
	Lease   time.Duration // a stopped instance's job is taken over after this; 0: 30 seconds
	// Pace, if set, is called between batches: it may wait, so that
	// background work gives way to people using the pages.
	Pace func(ctx context.Context)
	// Announce, if set, is told of each change that webhooks report, in
	// the change's transaction; an error rolls the change back.
	Announce func(tx *gorm.DB, now time.Time, e Event) error

	wake pace.Signal
}

// Wake returns a channel that receives when new work was recorded, so that
// the worker need not wait for its next tick.
func (s *Service) Wake() <-chan struct{} { return s.wake.C() }

func (s *Service) kick() { s.wake.Notify() }

// errGated answers for the routes of a gated feature that is off: they do
// not exist for the organization.
var errGated = apperr.New(apperr.NotFound, "Not found.")

// domainFor re-reads the actor and their organization, checks that they
// may use Bulk User Import, and returns the organization's domain, locked:
// people, then the organization, then the domain (the lock order of
// package database).
func domainFor(tx *gorm.DB, actorID, domainID int64) (users.User, domains.Domain, error) {
	var d domains.Domain
	actor, org, err := orgs.Admin(tx, actorID)
	if err != nil {
		return actor, d, err
	}
	if !org.BulkImport {
		return actor, d, errGated
	}
	err = database.ForNoKeyUpdate(tx).Where("id = ? AND organization_id = ?", domainID, org.ID).Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return actor, d, apperr.New(apperr.NotFound, "No such domain in this organization.")
	}
	if err != nil {
		return actor, d, fmt.Errorf("imports: unable to read domain %d: %w", domainID, err)
	}
	return actor, d, nil
}

// mustBeVerified refuses work on a domain that is not verified now.
func mustBeVerified(d domains.Domain, what string) error {
	switch d.Status {
	case domains.Verified:
		return nil
	case domains.Revalidating:
		return apperr.New(apperr.Conflict, fmt.Sprintf(
			"%s needs re-validation: its proof of ownership is missing. Restore the DNS record or the HTML file and click Verify Domain before you %s.",
			d.UnicodeName, what))
	}
	return apperr.New(apperr.Conflict, fmt.Sprintf("%s is not verified yet: verify it before you %s.", d.UnicodeName, what))
}

// Request records a report of the domain's users in scope; the worker
// generates it. withoutReview imports every eligible user as soon as the
// report is ready.
func (s *Service) Request(ctx context.Context, actorID, domainID int64, scope Scope, withoutReview bool) (Import, error) {
	var imp Import
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		actor, d, err := domainFor(tx, actorID, domainID)
		if err != nil {
			return err
		}
		if err := mustBeVerified(d, "generate a report or import users"); err != nil {
			return err
		}
		now := s.Now()
		imp = Import{
			OrganizationID: d.OrganizationID, DomainID: d.ID, DomainName: d.Name, Scope: scope, Status: Generating,
			WithoutReview: withoutReview, CreatedBy: actor.ID, CreatedByEmail: actor.Email, CreatedAt: now,
		}
		if scope == New {
			var last []time.Time
			err := tx.Model(&Import{}).Where("domain_id = ?", d.ID).Order("created_at DESC").Limit(1).Pluck("created_at", &last).Error
			if err != nil {
				return err
			}
			if len(last) == 1 {
				imp.Since = &last[0]
			}
		}
		var n int64
		if err := usersInScope(tx.Model(&users.User{}), imp).Count(&n).Error; err != nil {
			return fmt.Errorf("imports: unable to count the users of %s: %w", d.Name, err)
		}
		imp.Expected = int(n)
		switch {
		case n == 0 && scope == New && imp.Since != nil:
			return nothingNew(fmt.Sprintf("Nobody at %s signed up since the last report, of %s, without being in the organization: there is no new user to import.",
				d.UnicodeName, text.Time(*imp.Since)))
		case n == 0 && scope == LeftOut:
			return nothingNew("Nobody was left out of earlier imports: everyone in them was imported or is in the organization.")
		}
		if err := tx.Create(&imp).Error; err != nil {
			if database.IsDuplicate(err) {
				return apperr.New(apperr.Conflict, fmt.Sprintf(
					"A report or an import of %s is already running: wait until it is done.", d.UnicodeName))
			}
			return fmt.Errorf("imports: unable to record a report of %s: %w", d.Name, err)
		}
		details := scope.Label()
		if withoutReview {
			details += ", import every eligible user without review"
		}
		return audit.Record(tx, now, d.OrganizationID, actorOf(actor), "import.report_requested", targetOf(imp), details)
	})
	if err != nil {
		return Import{}, err
	}
	s.kick()
	return imp, nil
}

// NothingNew is the answer to a report of new users, or of users left out,
// that would hold nobody: news, not a failure. It is an apperr.Conflict for
// whoever does not tell it apart.
type NothingNew struct{ Message string }

func (e NothingNew) Error() string { return e.Message }
func (e NothingNew) Unwrap() error { return apperr.New(apperr.Conflict, e.Message) }

func nothingNew(msg string) NothingNew { return NothingNew{Message: msg} }

// usersInScope narrows q, a query over users, to the users of imp's scope.
func usersInScope(q *gorm.DB, imp Import) *gorm.DB {
	q = q.Where(domains.AtDomain("email", imp.DomainName))
	switch imp.Scope {
	case New:
		q = q.Where("(organization_id IS NULL OR organization_id <> ?)", imp.OrganizationID)
		if imp.Since != nil {
			q = q.Where("created_at > ?", *imp.Since)
		}
	case LeftOut:
		q = q.Where("(organization_id IS NULL OR organization_id <> ?)", imp.OrganizationID).
			Where("id IN (?)", leftOut(q.Session(&gorm.Session{NewDB: true}), imp.DomainID, imp.ID))
	}
	return q
}

// leftOut selects the ids of users in the domain's earlier reports whom no
// import took.
func leftOut(db *gorm.DB, domainID, before int64) *gorm.DB {
	q := db.Model(&Row{}).Select("import_users.user_id").
		Joins("JOIN imports ON imports.id = import_users.import_id").
		Where("imports.domain_id = ? AND import_users.outcome <> ?", domainID, Done)
	if before != 0 {
		q = q.Where("imports.id < ?", before)
	}
	return q
}

// ImportedUserIDs selects, as a subquery, the ids of the users the import
// brought in.
func (s *Service) ImportedUserIDs(importID int64) *gorm.DB {
	return s.DB.Model(&Row{}).Select("user_id").Where("import_id = ? AND outcome = ?", importID, Done)
}

// List returns the reports and imports of the actor's organization's
// domain, newest first.
func (s *Service) List(ctx context.Context, orgID, domainID int64) ([]Import, error) {
	var out []Import
	err := s.DB.WithContext(ctx).Where("organization_id = ? AND domain_id = ?", orgID, domainID).
		Order("id DESC").Limit(50).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("imports: unable to list the imports of domain %d: %w", domainID, err)
	}
	return out, nil
}

// Get returns one report of the organization's domain.
func (s *Service) Get(ctx context.Context, orgID, domainID, id int64) (Import, error) {
	var imp Import
	err := s.DB.WithContext(ctx).Where("id = ? AND organization_id = ? AND domain_id = ?", id, orgID, domainID).Take(&imp).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return imp, apperr.New(apperr.NotFound, "No such report for this domain.")
	}
	if err != nil {
		return imp, fmt.Errorf("imports: unable to read report %d: %w", id, err)
	}
	return imp, nil
}

// Start begins the import of a ready report: the worker imports its
// selected users in batches.
func (s *Service) Start(ctx context.Context, actorID, domainID, id int64) (Import, error) {
	return s.change(ctx, actorID, domainID, id, func(tx *gorm.DB, actor users.User, d domains.Domain, imp *Import) error {
		if imp.Status != Ready {
			return apperr.New(apperr.Conflict, fmt.Sprintf("This report is %s: only a ready report can be imported.", imp.Status.Label()))
		}
		if err := mustBeVerified(d, "import users"); err != nil {
			return err
		}
		if imp.Selected == 0 {
			return apperr.New(apperr.Conflict, "This report has no eligible user to import.")
		}
		if err := s.begin(tx, imp, actor.ID, actor.Email); err != nil {
			return err
		}
		return audit.Record(tx, imp.StartedAt.UTC(), d.OrganizationID, actorOf(actor), "import.started", targetOf(*imp),
			text.Count(imp.Selected, "user")+" selected")
	})
}

// change runs f in a transaction, on the actor's domain and its report
// locked, saves what f changed in the report, then wakes the worker.
func (s *Service) change(ctx context.Context, actorID, domainID, id int64, f func(tx *gorm.DB, actor users.User, d domains.Domain, imp *Import) error) (Import, error) {
	var imp Import
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		actor, d, err := domainFor(tx, actorID, domainID)
		if err != nil {
			return err
		}
		if imp, err = lockImport(tx, d, id); err != nil {
			return err
		}
		if err := f(tx, actor, d, &imp); err != nil {
			return err
		}
		err = saveJob(tx, imp)
		if database.IsDuplicate(err) { // only one report or import may run per domain
			return apperr.New(apperr.Conflict, fmt.Sprintf(
				"Another report or import of %s is running: wait until it is done.", d.UnicodeName))
		}
		return err
	})
	if err != nil {
		return Import{}, err
	}
	s.kick()
	return imp, nil
}

// begin moves imp to importing, for its caller to save: users who are not
// eligible or not in the uploaded file are settled at once, the rest wait
// for the worker.
func (s *Service) begin(tx *gorm.DB, imp *Import, byID int64, byEmail string) error {
	now := s.Now()
	imp.Status, imp.StartedBy, imp.StartedByEmail, imp.StartedAt, imp.CursorID = Importing, &byID, byEmail, &now, 0
	err := tx.Model(&Row{}).Where("import_id = ? AND reason <> ? AND outcome = ''", imp.ID, Eligible).
		Updates(map[string]any{"outcome": Skipped, "outcome_reason": gorm.Expr("reason"), "done_at": now}).Error
	if err != nil {
		return fmt.Errorf("imports: unable to settle the users who are not eligible: %w", err)
	}
	err = tx.Model(&Row{}).Where("import_id = ? AND reason = ? AND NOT included AND outcome = ''", imp.ID, Eligible).
		Updates(map[string]any{"outcome": Excluded, "outcome_reason": RemovedFromFile, "done_at": now}).Error
	if err != nil {
		return fmt.Errorf("imports: unable to settle the users removed from the file: %w", err)
	}
	return nil
}

func lockImport(tx *gorm.DB, d domains.Domain, id int64) (Import, error) {
	var imp Import
	err := database.ForNoKeyUpdate(tx).Where("id = ? AND domain_id = ?", id, d.ID).Take(&imp).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return imp, apperr.New(apperr.NotFound, "No such report for this domain.")
	}
	if err != nil {
		return imp, fmt.Errorf("imports: unable to read report %d: %w", id, err)
	}
	return imp, nil
}

// RequestNotify has the worker email every user the ready report's import
// would take, telling them what changes.
func (s *Service) RequestNotify(ctx context.Context, actorID, domainID, id int64) (Import, error) {
	return s.change(ctx, actorID, domainID, id, func(tx *gorm.DB, actor users.User, d domains.Domain, imp *Import) error {
		switch {
		case imp.Status != Ready:
			return apperr.New(apperr.Conflict, fmt.Sprintf("This report is %s: users are notified before their import starts.", imp.Status.Label()))
		case imp.NotifyRequestedAt != nil:
			return apperr.New(apperr.Conflict, fmt.Sprintf("The users of this report were already emailed, at the request of %s.", imp.NotifyRequestedBy))
		case imp.Selected == 0:
			return apperr.New(apperr.Conflict, "This report has no eligible user to notify.")
		}
		now := s.Now()
		imp.NotifyRequestedAt, imp.NotifyRequestedBy = &now, actor.Email
		return audit.Record(tx, now, d.OrganizationID, actorOf(actor), "import.notify_requested", targetOf(*imp),
			text.Count(imp.Selected, "user")+" to email")
	})
}

func actorOf(u users.User) audit.Actor { return audit.Actor{ID: u.ID, Email: u.Email} }

func targetOf(imp Import) audit.Target {
	return audit.Target{Type: "import", ID: fmt.Sprint(imp.ID), Label: fmt.Sprintf("report #%d of %s", imp.ID, imp.DomainName)}
}
