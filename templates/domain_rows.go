package templates

import (
	"context"
	"io"
	"time"

	"github.com/a-h/templ"

	"admincenter/internal/paths"
)

// domainRows are the rows of the Domains table. They are written in Go
// rather than templ: every Domains page shows up to a hundred of them,
// and templ formats each expression through fmt.Sprint, which with the
// rows' escaping and dates took more than a third of the page's CPU
// (BENCHMARKS.md). The markup is what the templ components give: a link,
// a Badge, When for each moment, and the buttons of the list's shared
// verify form and Delete Domain dialog.
func domainRows(rows []DomainRow) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		b := make([]byte, 0, 2048)
		for _, d := range rows {
			b = appendDomainRow(b[:0], d)
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return nil
	})
}

func appendDomainRow(b []byte, d DomainRow) []byte {
	b = append(b, `<tr><td class="domain"><a href="`...)
	b = appendEscaped(b, paths.Domain(d.ID))
	b = append(b, `">`...)
	b = appendEscaped(b, d.Unicode)
	b = append(b, `</a>`...)
	if d.ASCII != "" {
		b = append(b, `<div class="muted small mono">`...)
		b = appendEscaped(b, d.ASCII)
		b = append(b, `</div>`...)
	}
	b = append(b, `</td><td class="status"><span class="badge`...)
	if d.StatusKind != "" {
		b = append(b, ' ')
		b = appendEscaped(b, d.StatusKind)
	}
	b = append(b, `">`...)
	b = appendEscaped(b, d.Status)
	b = append(b, `</span>`...)
	if d.StatusNote != "" {
		b = append(b, `<div class="small muted">`...)
		b = appendEscaped(b, d.StatusNote)
		b = append(b, `</div>`...)
	}
	if d.FailingSince != nil {
		b = append(b, `<div class="small warn-text">Checks failing since `...)
		b = appendWhen(b, d.FailingSince)
		b = append(b, `</div>`...)
	}
	b = append(b, `</td><td class="method">`...)
	b = appendEscaped(b, d.Method)
	for _, t := range []*time.Time{d.VerifiedAt, d.LastChecked, d.NextCheck} {
		b = append(b, `</td><td class="date">`...)
		b = appendWhen(b, t)
	}
	b = append(b, `</td><td class="domain-actions"><div class="row-actions"><button class="btn secondary small" type="submit" form="`+listVerifyForm+`" formaction="`...)
	b = appendEscaped(b, paths.DomainVerify(d.ID))
	b = append(b, `" name="method" value="`...)
	b = appendEscaped(b, d.VerifyMethod)
	b = append(b, `" aria-label="`...)
	b = appendEscaped(b, d.VerifyLabel)
	b = append(b, ' ')
	b = appendEscaped(b, d.Unicode)
	b = append(b, `">`...)
	b = appendEscaped(b, d.VerifyLabel)
	b = append(b, `</button> <button class="btn secondary small delete" type="button" data-dialog-open="`+listDeleteDialog+`" data-dialog-action="`...)
	b = appendEscaped(b, paths.DomainDelete(d.ID))
	b = append(b, `" data-dialog-title="Delete `...)
	b = appendEscaped(b, d.Unicode)
	b = append(b, `?" data-dialog-fill="`...)
	b = appendEscaped(b, d.Unicode)
	b = append(b, `" aria-label="Delete Domain `...)
	b = appendEscaped(b, d.Unicode)
	return append(b, `">Delete Domain</button></div></td></tr>`...)
}

// appendEscaped appends s escaped for HTML text and quoted attributes, as
// templ escapes it.
func appendEscaped(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		if esc := htmlEscapes[s[i]]; esc != "" {
			b = append(append(b, s[last:i]...), esc...)
			last = i + 1
		}
	}
	return append(b, s[last:]...)
}

var htmlEscapes = [256]string{'&': "&amp;", '<': "&lt;", '>': "&gt;", '"': "&#34;", '\'': "&#39;"}
