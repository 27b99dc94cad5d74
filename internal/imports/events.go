package imports

import (
	"time"

	"gorm.io/gorm"

	"admincenter/internal/domains"
	"admincenter/internal/users"
)

// Event is a change that the organization's webhooks report: a report
// ready, an import completed or failed, or a sign-up added to the
// organization. The change announces it in its own transaction.
type Event struct {
	Type   string          // stable: import.report_ready, import.completed, import.failed, user.added_at_signup
	Import *Import         // import.*: as the change leaves it (read during the call only)
	User   *users.User     // user.added_at_signup: the person, as added
	Domain *domains.Domain // user.added_at_signup: the domain that added them
}

// announce tells s.Announce of e, in tx.
func (s *Service) announce(tx *gorm.DB, now time.Time, e Event) error {
	if s.Announce == nil {
		return nil
	}
	return s.Announce(tx, now, e)
}
