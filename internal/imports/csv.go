package imports

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/csvsafe"
	"admincenter/internal/domains"
	"admincenter/internal/users"
)

// ReportHeader is the first line of a report's CSV.
var ReportHeader = []string{"user_id", "email", "name", "signed_up_at", "email_verified", "accounts", "account_ids", "eligible", "reason"}

// ResultsHeader is the first line of an import's results CSV.
var ResultsHeader = []string{"user_id", "email", "name", "imported", "reason"}

// csvPage is how many rows of an uploaded file are checked against the
// report at a time, so that memory stays flat whatever its size.
const csvPage = 1000

// WriteReport writes the report's CSV to w: RFC 4180, UTF-8, one row per
// user in the report.
func (s *Service) WriteReport(ctx context.Context, w io.Writer, imp Import) error {
	return s.writeCSV(ctx, w, imp, ReportHeader, reportRecord)
}

// WriteResults writes what the import did with each user of the report.
func (s *Service) WriteResults(ctx context.Context, w io.Writer, imp Import) error {
	return s.writeCSV(ctx, w, imp, ResultsHeader, func(r *Row) []string {
		imported, reason := "no", r.OutcomeReason
		switch r.Outcome {
		case Done:
			imported, reason = "yes", ""
		case Waiting:
			imported, reason = "not yet", r.Reason
			if r.Reason == Eligible {
				reason = ""
			}
		}
		return []string{strconv.FormatInt(r.UserID, 10), r.Email, r.Name, imported, reason.Text()}
	})
}

// writeCSV streams the report's rows to w as they come from one query,
// scanned by hand: memory stays flat whatever the report's size.
func (s *Service) writeCSV(ctx context.Context, w io.Writer, imp Import, header []string, record func(*Row) []string) error {
	rows, err := s.DB.WithContext(ctx).Model(&Row{}).
		Select("user_id, email, name, signed_up_at, email_verified, account_ids, reason, outcome, outcome_reason").
		Where("import_id = ?", imp.ID).Order("user_id").Rows()
	if err != nil {
		return fmt.Errorf("imports: unable to read report %d: %w", imp.ID, err)
	}
	defer rows.Close()
	out := bufio.NewWriterSize(w, 64<<10)
	cw := csvsafe.NewWriter(out)
	if err := cw.Write(header); err != nil {
		return err
	}
	var r Row
	for rows.Next() {
		err := rows.Scan(&r.UserID, &r.Email, &r.Name, &r.SignedUpAt, &r.EmailVerified, &r.AccountIDs, &r.Reason, &r.Outcome, &r.OutcomeReason)
		if err != nil {
			return fmt.Errorf("imports: unable to read report %d: %w", imp.ID, err)
		}
		if err := cw.Write(record(&r)); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("imports: unable to read report %d: %w", imp.ID, err)
	}
	return cw.Flush()
}

// reportRecord is a report row as its CSV writes it, before csvsafe defuses it.
func reportRecord(r *Row) []string {
	accounts := 0
	if r.AccountIDs != "" {
		accounts = strings.Count(r.AccountIDs, " ") + 1
	}
	return []string{
		strconv.FormatInt(r.UserID, 10), r.Email, r.Name, r.SignedUpAt.UTC().Format(time.RFC3339),
		strconv.FormatBool(r.EmailVerified), strconv.Itoa(accounts), r.AccountIDs,
		strconv.FormatBool(r.Reason == Eligible), r.Reason.Text(),
	}
}

// UploadLimit is the largest edited CSV accepted: about 50 times a report
// of 100,000 users.
const UploadLimit = 64 << 20

// Upload takes an edited copy of the report's CSV as the import's
// selection. Rows may only be removed: a file with another header, a row
// that is not in the report, a repeated row or a changed row is refused
// with the first bad line, and nothing changes.
func (s *Service) Upload(ctx context.Context, actorID, orgID, domainID, id int64, file io.Reader) (Import, error) {
	imp, err := s.Get(ctx, orgID, domainID, id)
	if err != nil {
		return imp, err
	}
	if imp.Status != Ready {
		return imp, apperr.Field("file", fmt.Sprintf("This report is %s: an edited file can only be uploaded while it is ready and not yet imported.", imp.Status.Label()))
	}
	ids, err := s.checkUpload(ctx, imp, file)
	if err != nil {
		return imp, err
	}
	return s.change(ctx, actorID, domainID, id, func(tx *gorm.DB, actor users.User, _ domains.Domain, imp *Import) error {
		if imp.Status != Ready {
			return apperr.Field("file", "This report started importing while the file was being read: nothing changed.")
		}
		if err := tx.Model(&Row{}).Where("import_id = ?", imp.ID).Update("included", false).Error; err != nil {
			return err
		}
		for chunk := range slices.Chunk(ids, 1000) {
			if err := tx.Model(&Row{}).Where("import_id = ? AND user_id IN ?", imp.ID, chunk).Update("included", true).Error; err != nil {
				return err
			}
		}
		var selected int64
		if err := tx.Model(&Row{}).Where("import_id = ? AND included AND reason = ?", imp.ID, Eligible).Count(&selected).Error; err != nil {
			return err
		}
		if selected == 0 {
			return apperr.Field("file", "The file leaves no eligible user to import: nothing changed. Keep at least one row whose eligible column is true.")
		}
		now := s.Now()
		imp.Selected, imp.UploadedAt = int(selected), &now
		return audit.Record(tx, now, imp.OrganizationID, actorOf(actor), "import.file_uploaded", targetOf(*imp),
			fmt.Sprintf("%d of %d eligible users kept", selected, imp.Eligible))
	})
}

// uploadedRow is a line of an uploaded file.
type uploadedRow struct {
	line   int
	userID int64
	record []string
}

// maxRecordBytes bounds one row of an uploaded file: a report's rows are a
// few hundred bytes, and a row is held whole while it is read, so a file
// of one huge line must not be.
const maxRecordBytes = 64 << 10

var errRecordTooLong = errors.New("row too long")

// checkUpload reads an uploaded file and compares it with the report; it
// returns the users the file keeps. It reads the file once, as a stream,
// a page of rows at a time: memory stays bounded whatever the file's
// shape, and a refusal quotes at most a short excerpt of it.
func (s *Service) checkUpload(ctx context.Context, imp Import, file io.Reader) ([]int64, error) {
	var ids []int64
	err := readUpload(file, func(page []uploadedRow) error {
		var err error
		ids, err = s.compareWithReport(ctx, imp, page, ids)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, apperr.Field("file", "The file has no user left: nothing was imported or changed. To import nobody, simply do not start the import.")
	}
	return ids, nil
}

// readUpload parses an uploaded file: its header must be the report's,
// and each row must have the report's columns and a user id not seen
// before in the file. It hands the rows to each, a page at a time.
func readUpload(file io.Reader, each func(page []uploadedRow) error) error {
	r := newUploadReader(file)
	header, err := r.read()
	if errors.Is(err, io.EOF) {
		return apperr.Field("file", "The file is empty. Upload the report's CSV with the rows of the users to leave out removed.")
	}
	if err != nil {
		return err
	}
	if !sameCells(header, ReportHeader) {
		return badLine(1, "the header is %s, not the report's %q.", excerpt(strings.Join(header, ",")), strings.Join(ReportHeader, ","))
	}
	seen := map[int64]int{}
	page := make([]uploadedRow, 0, csvPage)
	for {
		record, err := r.read()
		if errors.Is(err, io.EOF) {
			return each(page)
		}
		if err != nil {
			return err
		}
		line, _ := r.csv.FieldPos(0)
		if len(record) == 1 && strings.TrimSpace(record[0]) == "" {
			continue // a blank line
		}
		if len(record) != len(ReportHeader) {
			return badLine(line, "the row has %d columns; the report's rows have %d.", len(record), len(ReportHeader))
		}
		id, err := strconv.ParseInt(strings.TrimSpace(record[0]), 10, 64)
		if err != nil {
			return badLine(line, "the user_id %s is not a number from the report.", excerpt(record[0]))
		}
		if first, dup := seen[id]; dup {
			return badLine(line, "user %d appears again (first on line %d): an edited file may only remove rows.", id, first)
		}
		seen[id] = line
		if page = append(page, uploadedRow{line: line, userID: id, record: slices.Clone(record)}); len(page) == csvPage {
			if err := each(page); err != nil {
				return err
			}
			page = page[:0]
		}
	}
}

// uploadReader reads the rows of an uploaded file, each bounded in size,
// and turns what goes wrong into a refusal naming the line.
type uploadReader struct {
	in       *recordReader
	csv      *csv.Reader
	lastLine int // the line on which the last row read ended
}

func newUploadReader(file io.Reader) *uploadReader {
	br := bufio.NewReader(io.LimitReader(file, UploadLimit+1))
	if bom, _ := br.Peek(3); string(bom) == "\xef\xbb\xbf" {
		br.Discard(3) // spreadsheets save UTF-8 with a byte order mark
	}
	in := &recordReader{r: br}
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	return &uploadReader{in: in, csv: r}
}

// read returns the next row, or io.EOF, or a refusal.
func (u *uploadReader) read() ([]string, error) {
	u.in.sinceRecord = 0
	record, err := u.csv.Read()
	switch {
	case errors.Is(err, errRecordTooLong):
		return nil, badLine(u.lastLine+1, "the row is longer than %d KiB: the report's rows are far shorter. Upload the report's CSV with rows removed.", maxRecordBytes>>10)
	case u.in.n > UploadLimit:
		return nil, tooLarge()
	case errors.Is(err, io.EOF):
		return nil, err
	case err != nil:
		return nil, readError(err)
	}
	u.lastLine, _ = u.csv.FieldPos(len(record) - 1)
	return record, nil
}

// compareWithReport checks a page of uploaded rows against the report's
// and adds their users to ids.
func (s *Service) compareWithReport(ctx context.Context, imp Import, part []uploadedRow, ids []int64) ([]int64, error) {
	if len(part) == 0 {
		return ids, nil
	}
	want := make([]int64, len(part))
	for j, u := range part {
		want[j] = u.userID
	}
	var report []Row
	if err := s.DB.WithContext(ctx).Where("import_id = ? AND user_id IN ?", imp.ID, want).Find(&report).Error; err != nil {
		return nil, fmt.Errorf("imports: unable to read report %d: %w", imp.ID, err)
	}
	byID := make(map[int64]Row, len(report))
	for _, r := range report {
		byID[r.UserID] = r
	}
	for _, u := range part {
		r, ok := byID[u.userID]
		if !ok {
			return nil, badLine(u.line, "user %d is not in this report: an edited file may only remove rows, not add them.", u.userID)
		}
		expected := csvsafe.Record(reportRecord(&r))
		for c := range expected {
			if !sameCell(u.record[c], expected[c]) {
				return nil, badLine(u.line, "the %s of %s was changed from %s to %s: an edited file may only remove rows, not change them.",
					ReportHeader[c], r.Email, excerpt(expected[c]), excerpt(u.record[c]))
			}
		}
		ids = append(ids, u.userID)
	}
	return ids, nil
}

// badLine refuses an uploaded file for what is wrong on one of its lines.
func badLine(line int, format string, args ...any) error {
	return apperr.Field("file", fmt.Sprintf("Line %d: ", line)+fmt.Sprintf(format, args...)+" Nothing was imported or changed.")
}

// ErrTooLarge refuses an uploaded file over UploadLimit.
var ErrTooLarge = apperr.Field("file", fmt.Sprintf("The file is larger than %d MB: upload the report's CSV.", UploadLimit>>20))

func tooLarge() error { return ErrTooLarge }

// excerptRunes bounds what a refusal quotes of an uploaded file.
const excerptRunes = 60

// excerpt quotes a cell or line of an uploaded file, escaped and cut.
func excerpt(s string) string {
	if utf8.RuneCountInString(s) <= excerptRunes {
		return strconv.Quote(s)
	}
	return strconv.Quote(string([]rune(s)[:excerptRunes])) + "…"
}

func readError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return apperr.Field("file", fmt.Sprintf("Line %d: this is not valid CSV (%v). Nothing was imported or changed.", pe.StartLine, pe.Err))
	}
	if _, ok := apperr.As(err); ok {
		return err
	}
	return fmt.Errorf("imports: unable to read the uploaded file: %w", err)
}

func sameCells(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameCell(a[i], b[i]) {
			return false
		}
	}
	return true
}

// sameCell compares an uploaded cell with the report's, forgiving what
// spreadsheets do when they save: surrounding spaces, TRUE for true, and
// the ' that neutralized a formula dropped.
func sameCell(uploaded, report string) bool {
	clean := func(s string) string {
		s = strings.TrimSpace(s)
		if len(s) > 1 && s[0] == '\'' && csvsafe.Risky(s[1:]) {
			s = s[1:]
		}
		return strings.TrimSpace(s)
	}
	u, r := clean(uploaded), clean(report)
	return u == r || (utf8.ValidString(u) && strings.EqualFold(u, r) && (r == "true" || r == "false"))
}

// recordReader counts what is read of an uploaded file, in all and since
// the current row began, and fails a row that grows past maxRecordBytes
// (give or take the CSV reader's buffer) before it is held whole.
type recordReader struct {
	r           io.Reader
	n           int64
	sinceRecord int
}

func (c *recordReader) Read(p []byte) (int, error) {
	if c.sinceRecord > maxRecordBytes {
		return 0, errRecordTooLong
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.sinceRecord += n
	return n, err
}
