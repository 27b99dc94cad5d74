package web_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func regexpFind(t *testing.T, s, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %s in:\n%s", pattern, s)
	}
	return m[1]
}

// mailLink opens the development mailbox, finds the newest message to addr
// with this subject and returns the path of the first link in it.
func mailLink(t *testing.T, c *client, addr, subject string) string {
	t.Helper()
	box := c.get("/dev/mailbox")
	box.want(t, http.StatusOK)
	rows := regexp.MustCompile(`<td>([^<]+)</td><td><a href="(/dev/mailbox/\d+)">([^<]+)</a>`).FindAllStringSubmatch(box.body, -1)
	for _, r := range rows {
		if r[1] == addr && r[3] == subject {
			msg := c.get(r[2])
			link := regexpFind(t, msg.body, `(https?://[^\s"<]+)`)
			return strings.TrimPrefix(link, c.app.url)
		}
	}
	t.Fatalf("no %q to %s in the mailbox:\n%s", subject, addr, box.body)
	return ""
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// markupPattern is an HTML tag, not an address in angle brackets (the
// client has decoded the body's entities).
var markupPattern = regexp.MustCompile(`</?[a-z][a-z0-9]*(\s[^>]*)?/?>`)

// text is what the page reads, as one line: tags dropped, runs of white
// space as one space.
func (r response) text() string {
	return strings.Join(strings.Fields(markupPattern.ReplaceAllString(r.body, "")), " ")
}

// wantText fails unless the page reads each of phrases.
func (r response) wantText(t testing.TB, phrases ...string) {
	t.Helper()
	text := r.text()
	for _, p := range phrases {
		if !strings.Contains(text, p) {
			t.Fatalf("the page does not read %q; it reads:\n%s", p, text)
		}
	}
}
