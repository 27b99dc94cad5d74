package audit

import (
	"context"
	"fmt"
	"io"
	"time"

	"admincenter/internal/csvsafe"
)

// CSVHeader is the first line of the audit log's CSV.
var CSVHeader = []string{"time_utc", "actor", "action", "action_code", "target_type", "target_id", "target", "details"}

// csvPage is how many entries the CSV reads from the database at a time:
// it is streamed, so memory stays flat however long the log.
const csvPage = 1000

// WriteCSV writes the organization's entries that f keeps to w, newest
// first: RFC 4180 (CRLF line ends), UTF-8, every cell defused for
// spreadsheets (csvsafe). It reads the log a page at a time, by id, and
// writes each page out before reading the next.
func (l *Log) WriteCSV(ctx context.Context, w io.Writer, orgID int64, f Filter) error {
	cw := csvsafe.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	var before int64 // the last id written; 0 before the first page
	for {
		q := l.of(ctx, orgID, f)
		if before != 0 {
			q = q.Where("id < ?", before)
		}
		var entries []Entry
		if err := q.Order("id DESC").Limit(csvPage).Find(&entries).Error; err != nil {
			return fmt.Errorf("audit: unable to read entries for the CSV: %w", err)
		}
		for _, e := range entries {
			if err := cw.Write(csvRecord(e)); err != nil {
				return err
			}
		}
		if err := cw.Flush(); err != nil || len(entries) < csvPage {
			return err
		}
		before = entries[len(entries)-1].ID
	}
}

// csvRecord is an entry as the CSV writes it, before csvsafe defuses it.
func csvRecord(e Entry) []string {
	return []string{
		e.CreatedAt.UTC().Format(time.RFC3339), e.Actor, Describe(e.Action), e.Action,
		e.TargetType, e.TargetID, e.Target, e.Details,
	}
}
