package imports

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"admincenter/internal/audit"
	"admincenter/internal/database"
	"admincenter/internal/domains"
	"admincenter/internal/mail"
	"admincenter/internal/orgs"
	"admincenter/internal/paths"
	"admincenter/internal/text"
	"admincenter/internal/users"
)

// Users per transaction of each kind of work. An imported user moves with
// their accounts in the transaction of their batch.
const (
	generateBatch = 2000
	importBatch   = 500
	notifyBatch   = 1000
)

func (s *Service) lease() time.Duration {
	if s.Lease > 0 {
		return s.Lease
	}
	return 30 * time.Second
}

// errLost stops work on a job that another instance took over or that was
// deleted with its domain.
var errLost = errors.New("imports: the job is no longer ours")

// RunDue does the recorded work of reports, imports and notifications, one
// job after another, in batches, until none is left or ctx ends. Several
// instances may run it at once: each job is leased by one of them, and a
// stopped instance's job is taken over when its lease runs out.
func (s *Service) RunDue(ctx context.Context) error {
	for ctx.Err() == nil {
		imp, ok, err := s.claim(ctx)
		if err != nil || !ok {
			return err
		}
		if err := s.work(ctx, imp); err != nil && !errors.Is(err, errLost) {
			if ctx.Err() == nil {
				return fmt.Errorf("imports: report %d: %w", imp.ID, err)
			}
		}
	}
	return nil
}

// claim leases the oldest job with work that no live instance holds.
func (s *Service) claim(ctx context.Context) (Import, bool, error) {
	var imp Import
	var found bool
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		now := s.Now()
		found = false
		var jobs []Import
		err := database.SkipLocked(tx.Where(
			"(status IN ? OR (notify_requested_at IS NOT NULL AND notified_at IS NULL)) AND (lease_until IS NULL OR lease_until < ?)",
			[]Status{Generating, Importing}, now)).Order("id").Limit(1).Find(&jobs).Error
		if err != nil || len(jobs) == 0 {
			return err
		}
		imp, found = jobs[0], true
		until := now.Add(s.lease())
		imp.LeaseUntil, imp.LeaseToken = &until, newToken()
		return tx.Model(&imp).Updates(map[string]any{"lease_until": until, "lease_token": imp.LeaseToken}).Error
	})
	if err != nil {
		return imp, false, fmt.Errorf("imports: unable to claim work: %w", err)
	}
	return imp, found, nil
}

func newToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// work does the leased job batch by batch: notifications first (they come
// before an import), then generating or importing. Each batch locks the
// job, changes it in memory and saves it once, with its lease renewed, so
// a batch either commits with the lease held or does nothing.
func (s *Service) work(ctx context.Context, leased Import) error {
	token := leased.LeaseToken
	defer s.release(leased.ID, token)
	for ctx.Err() == nil {
		var more bool
		err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
			imp, err := s.lockJob(tx, leased.ID, token)
			if err != nil {
				return err
			}
			var batch func(tx *gorm.DB, imp *Import) error
			switch {
			case imp.NotifyRequestedAt != nil && imp.NotifiedAt == nil:
				batch = s.notifyBatch
			case imp.Status == Generating:
				batch = s.generateBatch
			case imp.Status == Importing:
				batch = s.importBatch
			}
			if more = batch != nil; !more {
				return nil
			}
			if err := batch(tx, &imp); err != nil {
				return err
			}
			until := s.Now().Add(s.lease())
			imp.LeaseUntil = &until
			return saveJob(tx, imp)
		})
		if err != nil || !more {
			return err
		}
		if s.Pace != nil {
			s.Pace(ctx)
		}
	}
	return nil
}

// lockJob re-reads the job under lock, if it is still ours.
func (s *Service) lockJob(tx *gorm.DB, id int64, token string) (Import, error) {
	var imp Import
	err := database.ForNoKeyUpdate(tx).Where("id = ? AND lease_token = ?", id, token).Take(&imp).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return imp, errLost
	}
	return imp, err
}

// jobColumns are the columns of a job that its work changes.
var jobColumns = []string{"status", "selected", "uploaded_at", "cursor_id", "found", "eligible", "imported", "skipped",
	"error", "finished_at", "started_by", "started_by_email", "started_at", "notify_requested_at", "notify_requested_by",
	"notify_cursor_id", "notified", "notified_at", "lease_until"}

// saveJob writes what a batch or a click changed in the job, in one
// statement: see the lock order in package database for why only one.
func saveJob(tx *gorm.DB, imp Import) error {
	if err := tx.Model(&imp).Select(jobColumns).Updates(&imp).Error; err != nil {
		return fmt.Errorf("unable to save report %d: %w", imp.ID, err)
	}
	return nil
}

// release gives the lease back, so that another instance need not wait.
func (s *Service) release(id int64, token string) {
	err := s.DB.Model(&Import{}).Where("id = ? AND lease_token = ?", id, token).
		Updates(map[string]any{"lease_until": nil, "lease_token": ""}).Error
	if err != nil {
		slog.Error("imports: unable to release a job", "import", id, "err", err)
	}
}

// generateBatch adds the next users in scope to the report, with their
// accounts and whether they can be imported, in one statement: the rows
// are built in the database, not read into the worker and written back.
func (s *Service) generateBatch(tx *gorm.DB, imp *Import) error {
	next := usersInScope(tx.Model(&users.User{}), *imp).
		Select("?, users.id, users.email, users.name, users.created_at, users.email_verified_at IS NOT NULL, ?, ?",
			imp.ID, accountIDsOf, reasonNow(imp.OrganizationID, imp.DomainName)).
		Where("users.id > ?", imp.CursorID).Order("users.id").Limit(generateBatch)
	rows, err := tx.Raw(`INSERT INTO import_users (import_id, user_id, email, name, signed_up_at, email_verified, account_ids, reason)
		? RETURNING user_id, reason`, next).Rows()
	if err != nil {
		return fmt.Errorf("unable to write the report's users: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		var reason Reason
		if err := rows.Scan(&id, &reason); err != nil {
			return fmt.Errorf("unable to read the report's users: %w", err)
		}
		n++
		imp.CursorID = max(imp.CursorID, id)
		if reason == Eligible {
			imp.Eligible++
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("unable to write the report's users: %w", err)
	}
	rows.Close()
	imp.Found += n
	if n == generateBatch {
		return nil
	}
	return s.ready(tx, imp)
}

// accountIDsOf is the SQL of the ids of the accounts the user of the row
// of users owns, space-separated, in order.
var accountIDsOf = clause.Expr{SQL: "COALESCE((SELECT string_agg(accounts.id, ' ' ORDER BY accounts.id) FROM accounts WHERE accounts.owner_id = users.id), '')"}

// ready closes a generated report, and starts its import if it was asked
// for without review.
func (s *Service) ready(tx *gorm.DB, imp *Import) error {
	// The report is ready. Its rows are about to be
	// updated one batch at a time: a table that grew from nothing needs
	// fresh statistics, or each update reads all of it.
	if err := database.Analyze(tx, "import_users"); err != nil {
		return err
	}
	imp.Status, imp.Selected, imp.CursorID = Ready, imp.Eligible, 0
	now := s.Now()
	err := audit.Record(tx, now, imp.OrganizationID, audit.System, "import.report_ready", targetOf(*imp),
		fmt.Sprintf("%s found, %d eligible", text.Count(imp.Found, "user"), imp.Eligible))
	if err == nil {
		err = s.announce(tx, now, Event{Type: "import.report_ready", Import: imp})
	}
	if err != nil || !imp.WithoutReview {
		return err
	}
	d, err := domainOf(tx, imp.DomainID)
	if err != nil {
		return err
	}
	if mustBeVerified(d, "import users") != nil {
		return nil // it waits, ready, until the domain is verified again
	}
	if err := s.begin(tx, imp, imp.CreatedBy, imp.CreatedByEmail); err != nil {
		return err
	}
	return audit.Record(tx, now, imp.OrganizationID, audit.Actor{ID: imp.CreatedBy, Email: imp.CreatedByEmail},
		"import.started", targetOf(*imp), text.Count(imp.Selected, "user")+" selected, without review")
}

// whereOf reads the domain and the organization of a job.
func whereOf(tx *gorm.DB, imp Import) (domains.Domain, orgs.Organization, error) {
	d, err := domainOf(tx, imp.DomainID)
	if err != nil {
		return d, orgs.Organization{}, err
	}
	org, err := orgs.Lookup(tx, imp.OrganizationID)
	return d, org, err
}

func domainOf(tx *gorm.DB, id int64) (domains.Domain, error) {
	var d domains.Domain
	if err := tx.Take(&d, id).Error; err != nil {
		return d, fmt.Errorf("unable to read domain %d: %w", id, err)
	}
	return d, nil
}

// importBatch imports the next selected users: each user whom nothing has
// made ineligible since the report joins the organization as a Standard
// user with every account they own, and is emailed; the others are
// skipped with their reason. An import that may not go on stops.
func (s *Service) importBatch(tx *gorm.DB, imp *Import) error {
	d, org, err := whereOf(tx, *imp)
	if err != nil {
		return err
	}
	switch {
	case !org.BulkImport:
		return s.stop(tx, imp, "Bulk User Import was switched off for "+org.Name+".")
	case mustBeVerified(d, "import users") != nil:
		return s.stop(tx, imp, d.UnicodeName+" needs re-validation: the import stopped until it is verified again.")
	}
	b, err := classify(tx, *imp)
	if err != nil {
		return err
	}
	if b.last == 0 {
		return s.complete(tx, imp, org.Name, d)
	}
	if err := s.apply(tx, imp, org, d, b); err != nil {
		return err
	}
	imp.CursorID = b.last
	return nil
}

// batch is a batch of an import's users, as they are now: whom it takes
// and whom it skips, by reason.
type batch struct {
	take []person
	skip map[Reason][]int64
	last int64 // the batch's last user id; 0: no user was waiting
}

// person is a user the import takes.
type person struct {
	id          int64
	email, name string
}

// classify reads and locks the next users waiting in the report, in the
// order of their ids, and decides again, in the same statement, whether
// each can be imported as they are now. The report's rows are not locked
// here: they come after the accounts in the lock order.
func classify(tx *gorm.DB, imp Import) (batch, error) {
	b := batch{skip: map[Reason][]int64{}}
	q := tx.Model(&Row{}).Select("users.id, users.email, users.name, ?", reasonNow(imp.OrganizationID, imp.DomainName)).
		Joins("JOIN users ON users.id = import_users.user_id").
		Where("import_users.import_id = ? AND import_users.outcome = ? AND import_users.user_id > ? AND users.id > ?",
			imp.ID, Waiting, imp.CursorID, imp.CursorID).
		Order("users.id").Limit(importBatch)
	rows, err := database.ForNoKeyUpdateOf(q, "users").Rows()
	if err != nil {
		return b, fmt.Errorf("unable to lock the next users: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p person
		var reason Reason
		if err := rows.Scan(&p.id, &p.email, &p.name, &reason); err != nil {
			return b, fmt.Errorf("unable to read the next users: %w", err)
		}
		b.last = p.id
		if reason != Eligible {
			b.skip[reason] = append(b.skip[reason], p.id)
			continue
		}
		b.take = append(b.take, p)
	}
	if err := rows.Err(); err != nil {
		return b, fmt.Errorf("unable to lock the next users: %w", err)
	}
	return b, nil
}

// apply imports a classified batch: the users join with their accounts,
// each is audited and emailed with the accounts that moved, and every row
// of the batch is settled.
func (s *Service) apply(tx *gorm.DB, imp *Import, org orgs.Organization, d domains.Domain, b batch) error {
	now := s.Now()
	take := make([]int64, len(b.take))
	for i, u := range b.take {
		take[i] = u.id
	}
	accounts, err := orgs.JoinAll(tx, take, imp.OrganizationID, users.Standard, now)
	if err != nil {
		return err
	}
	by := audit.Actor{Email: imp.StartedByEmail}
	if imp.StartedBy != nil {
		by.ID = *imp.StartedBy
	}
	entries := make([]audit.Entry, len(b.take))
	emails := make([]mail.Email, len(b.take))
	for i, u := range b.take {
		details := fmt.Sprintf("Bulk User Import #%d from %s", imp.ID, d.UnicodeName)
		if a := accounts[u.id]; len(a) > 0 {
			details += ", with accounts " + strings.Join(a, ", ")
		}
		entries[i] = audit.NewEntry(now, imp.OrganizationID, by, "user.imported",
			audit.Target{Type: "user", ID: strconv.FormatInt(u.id, 10), Label: u.email}, details)
		emails[i] = mail.Imported(u.email, u.name, org.Name, d.UnicodeName, imp.StartedByEmail, len(accounts[u.id]))
	}
	// The skipped first: the rows of the batch still waiting after them,
	// up to its last user, are then those of the users it took.
	for reason, ids := range b.skip {
		if err := settle(tx.Where("user_id IN ?", ids), imp.ID, Skipped, reason, now); err != nil {
			return err
		}
		imp.Skipped += len(ids)
	}
	if len(take) > 0 {
		in := tx.Where("outcome = ? AND user_id > ? AND user_id <= ?", Waiting, imp.CursorID, b.last)
		if err := settle(in, imp.ID, Done, "", now); err != nil {
			return err
		}
	}
	if err := audit.RecordAll(tx, entries); err != nil {
		return err
	}
	if err := mail.EnqueueAll(tx, now, emails); err != nil {
		return err
	}
	imp.Imported += len(take)
	return nil
}

// settle records the outcome of the report's rows that q selects.
func settle(q *gorm.DB, importID int64, outcome Outcome, reason Reason, now time.Time) error {
	err := q.Model(&Row{}).Where("import_id = ?", importID).
		Updates(map[string]any{"outcome": outcome, "outcome_reason": reason, "done_at": now}).Error
	if err != nil {
		return fmt.Errorf("unable to record outcomes: %w", err)
	}
	return nil
}

// complete closes an import whose users are all settled, and tells whoever
// started it.
func (s *Service) complete(tx *gorm.DB, imp *Import, orgName string, d domains.Domain) error {
	now := s.Now()
	imp.Status, imp.FinishedAt = Completed, &now
	err := audit.Record(tx, now, imp.OrganizationID, audit.System, "import.completed", targetOf(*imp),
		fmt.Sprintf("%s imported, %d not imported", text.Count(imp.Imported, "user"), imp.NotImported()))
	if err == nil {
		err = s.announce(tx, now, Event{Type: "import.completed", Import: imp})
	}
	if err != nil || imp.StartedBy == nil {
		return err
	}
	var starter []users.User
	if err := tx.Where("id = ? AND organization_id = ?", *imp.StartedBy, imp.OrganizationID).Find(&starter).Error; err != nil || len(starter) == 0 {
		return err
	}
	link := paths.Absolute(s.BaseURL, paths.Report(d.ID, imp.ID))
	return mail.Enqueue(tx, now, mail.ImportFinished(starter[0].Email, starter[0].Name, orgName, d.UnicodeName,
		imp.Imported, imp.NotImported(), link))
}

// stop fails an import that may not go on; the users it had not reached
// are not imported, with that reason.
func (s *Service) stop(tx *gorm.DB, imp *Import, why string) error {
	now := s.Now()
	res := tx.Model(&Row{}).Where("import_id = ? AND outcome = ?", imp.ID, Waiting).
		Updates(map[string]any{"outcome": Skipped, "outcome_reason": Stopped, "done_at": now})
	if res.Error != nil {
		return res.Error
	}
	imp.Skipped += int(res.RowsAffected)
	imp.Status, imp.Error, imp.FinishedAt = Failed, why, &now
	if err := audit.Record(tx, now, imp.OrganizationID, audit.System, "import.failed", targetOf(*imp), why); err != nil {
		return err
	}
	return s.announce(tx, now, Event{Type: "import.failed", Import: imp})
}

// notifyBatch emails the next users the import would take.
func (s *Service) notifyBatch(tx *gorm.DB, imp *Import) error {
	d, org, err := whereOf(tx, *imp)
	if err != nil {
		return err
	}
	var rows []Row
	err = tx.Where("import_id = ? AND reason = ? AND included AND user_id > ?", imp.ID, Eligible, imp.NotifyCursorID).
		Order("user_id").Limit(notifyBatch).Find(&rows).Error
	if err != nil {
		return fmt.Errorf("unable to read the users to notify: %w", err)
	}
	now := s.Now()
	emails := make([]mail.Email, len(rows))
	for i, r := range rows {
		emails[i] = mail.ImportNotice(r.Email, org.Name, d.UnicodeName, imp.NotifyRequestedBy)
	}
	if err := mail.EnqueueAll(tx, now, emails); err != nil {
		return err
	}
	imp.Notified += len(rows)
	if len(rows) > 0 {
		imp.NotifyCursorID = rows[len(rows)-1].UserID
	}
	if len(rows) == notifyBatch {
		return nil
	}
	imp.NotifiedAt = &now
	return audit.Record(tx, now, imp.OrganizationID, audit.System, "import.notified", targetOf(*imp),
		text.Count(imp.Notified, "user")+" emailed")
}
