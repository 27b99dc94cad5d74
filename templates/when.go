package templates

import (
	"context"
	"io"
	"time"

	"github.com/a-h/templ"

	"admincenter/internal/text"
)

// When shows a moment: in UTC as the server writes it, then, in the
// browser, in the viewer's own time zone with a relative form ("in 3
// days") where it helps, keeping the exact UTC time as its title, for
// hover (app.js). The zero time is "—".
func When(t time.Time) templ.Component { return WhenPtr(&t) }

// WhenPtr is When of a moment that may be absent.
func WhenPtr(t *time.Time) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := w.Write(appendWhen(nil, t))
		return err
	})
}

// appendWhen appends When of t: the one spelling of a moment's markup,
// for the components and for the rows written in Go.
func appendWhen(b []byte, t *time.Time) []byte {
	if t == nil || t.IsZero() {
		return append(b, "—"...)
	}
	b = append(b, `<time datetime="`...)
	b = text.AppendISO(b, *t)
	b = append(b, `">`...)
	b = text.AppendTime(b, *t)
	return append(b, `</time>`...)
}
