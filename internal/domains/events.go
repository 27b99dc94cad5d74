package domains

import (
	"time"

	"gorm.io/gorm"

	"admincenter/internal/users"
)

// Event is a change of a domain that the organization's webhooks report.
// The change announces it in its own transaction, after its audit entry,
// with the domain as it is once changed: the audit entry cannot carry it,
// being written before the domain row is saved (and after it is deleted).
type Event struct {
	Type   string // stable: domain.added, domain.verified, ... (package webhooks lists them)
	Domain Domain // as the change leaves it; as it was, once deleted
	AtRisk int64  // the managed users its expiry removes, while in re-validation
	Reason string // domain.revalidation_required: what the check found
	// Removed are the users an expiry removed (domain.expired).
	Removed []int64
	// AddedBack are the users added back, with the role they have again
	// (domain.users_added_back): one in each transaction.
	AddedBack []users.User
}

// announce tells s.Announce of e, in tx.
func (s *Service) announce(tx *gorm.DB, now time.Time, e Event) error {
	if s.Announce == nil {
		return nil
	}
	return s.Announce(tx, now, e)
}

// announceIn announces e in the transaction of t.
func (s *Service) announceIn(t *transition, e Event) {
	if t.err == nil {
		e.Domain = *t.d
		t.err = s.announce(t.tx, t.now, e)
	}
}
