// Package csvsafe keeps the CSV files the product writes from running as
// spreadsheet formulas: one rule for every file a person downloads and
// opens in Excel, LibreOffice or Google Sheets (OWASP's advice for CSV
// injection).
package csvsafe

import (
	"encoding/csv"
	"io"
	"strings"
)

// formulaStarts are the first characters that make a spreadsheet run a
// cell as a formula, or hide what follows (NUL).
const formulaStarts = "=+-@\t\r\x00"

// Risky reports whether a spreadsheet would run cell as a formula: it
// starts with =, +, -, @, a tab, a carriage return or NUL.
func Risky(cell string) bool {
	return cell != "" && strings.IndexByte(formulaStarts, cell[0]) >= 0
}

// Cell returns cell defused: a risky cell gets a ' in front, which
// spreadsheets show as text and do not display; any other cell is
// returned as it is.
func Cell(cell string) string {
	if Risky(cell) {
		return "'" + cell
	}
	return cell
}

// Record defuses every cell of record, in place, and returns it. Only
// risky cells are written to, so that a shared header is only read.
func Record(record []string) []string {
	for i, cell := range record {
		if Risky(cell) {
			record[i] = Cell(cell)
		}
	}
	return record
}

// Writer writes a CSV file as the product's downloads are: RFC 4180 (CRLF
// line ends, also inside cells), UTF-8, every cell defused.
type Writer struct{ csv *csv.Writer }

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &Writer{csv: cw}
}

// Write writes one record, defused in place (Record).
func (w *Writer) Write(record []string) error { return w.csv.Write(Record(record)) }

// Flush writes out what is buffered and returns the first error so far.
func (w *Writer) Flush() error {
	w.csv.Flush()
	return w.csv.Error()
}
