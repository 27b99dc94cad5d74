// Package text writes the product's words in one place: counts with their
// nouns, and lengths of time the way people say them, for the pages, the
// emails and the audit log alike. Texts never spell out a configurable
// duration: they write the configured one with Duration or Every.
package text

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Count writes n with its noun, in the plural unless n is 1: "1 user",
// "3 users", "98 entries".
func Count[N int | int64](n N, noun string) string {
	return strconv.FormatInt(int64(n), 10) + " " + Plural(n, noun)
}

// Plural returns the noun for n things: "user" or "users", "entry" or
// "entries". A noun of several words has its last word made plural.
func Plural[N int | int64](n N, noun string) string {
	if n == 1 || noun == "" {
		return noun
	}
	last := noun[strings.LastIndexByte(noun, ' ')+1:]
	switch {
	case strings.HasSuffix(last, "y") && len(last) > 1 && !strings.ContainsRune("aeiou", rune(last[len(last)-2])):
		return noun[:len(noun)-1] + "ies"
	case strings.HasSuffix(last, "s"), strings.HasSuffix(last, "x"), strings.HasSuffix(last, "ch"), strings.HasSuffix(last, "sh"):
		return noun + "es"
	}
	return noun + "s"
}

// Duration writes a set length of time, such as a configured one, exactly,
// in the largest unit that divides it; days from a week up, since people
// say "72 hours" but "30 days": 720h is "30 days", 72h "72 hours", 90s
// "90 seconds".
func Duration(d time.Duration) string {
	switch {
	case d >= 7*24*time.Hour && d%(24*time.Hour) == 0:
		return Count(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return Count(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return Count(int64(d/time.Minute), "minute")
	}
	return Count(int64(d.Round(time.Second)/time.Second), "second")
}

// Every writes how often something set to d happens: "every 24 hours",
// "every hour", "every 30 seconds".
func Every(d time.Duration) string {
	return "every " + strings.TrimPrefix(Duration(d), "1 ")
}

// About writes a measured length of time, rounded to its largest unit:
// "3 days", "5 hours", "1 minute", "12 seconds".
func About(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return Count(int64((d+12*time.Hour)/(24*time.Hour)), "day")
	case d >= 2*time.Hour:
		return Count(int64((d+30*time.Minute)/time.Hour), "hour")
	case d >= 2*time.Minute:
		return Count(int64((d+30*time.Second)/time.Minute), "minute")
	}
	return Count(max(0, int64(d.Round(time.Second)/time.Second)), "second")
}

// Left writes the time until a deadline, rounded up, so that "0 days"
// never shows while time is left: "12 days", "1 day", "5 hours", "1 hour"
// (for 59 minutes and a half).
func Left(d time.Duration) string {
	if d <= 0 {
		return "no time"
	}
	n, unit := int64(math.Ceil(d.Seconds())), "second"
	for _, next := range []struct {
		per  int64
		unit string
	}{{60, "minute"}, {60, "hour"}, {24, "day"}} {
		if n < next.per {
			break
		}
		n, unit = (n+next.per-1)/next.per, next.unit
	}
	return Count(n, unit)
}

// Moments are written in UTC, in one layout, on the pages (until the
// viewer's browser rewrites them in its own zone), in emails and in the
// audit log.
const (
	timeLayout    = "2 Jan 2006 15:04 UTC"
	preciseLayout = "2 Jan 2006 15:04:05 UTC"
	dayLayout     = "2 Jan 2006"
)

// Time writes a moment: "4 Dec 2026 10:00 UTC"; the zero time is "—".
func Time(t time.Time) string { return string(AppendTime(nil, t)) }

// AppendTime appends Time of t to b, for pages that write many moments:
// it writes the layout's digits itself, several times faster than Format.
func AppendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, "—"...)
	}
	t = t.UTC()
	y, m, d := t.Date()
	if y < 1000 || y > 9999 {
		return t.AppendFormat(b, timeLayout)
	}
	hh, mm, _ := t.Clock()
	b = strconv.AppendInt(b, int64(d), 10)
	b = append(b, ' ')
	b = append(b, m.String()[:3]...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(y), 10)
	b = append(b, ' ')
	b = appendTwo(b, hh)
	b = append(b, ':')
	b = appendTwo(b, mm)
	return append(b, " UTC"...)
}

// AppendISO appends t in UTC as RFC 3339 ("2026-12-04T10:00:00Z"), as
// machines read it (a <time> element's datetime), as fast as AppendTime.
func AppendISO(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, m, d := t.Date()
	if y < 1000 || y > 9999 {
		return t.AppendFormat(b, time.RFC3339)
	}
	hh, mm, ss := t.Clock()
	b = strconv.AppendInt(b, int64(y), 10)
	b = append(b, '-')
	b = appendTwo(b, int(m))
	b = append(b, '-')
	b = appendTwo(b, d)
	b = append(b, 'T')
	b = appendTwo(b, hh)
	b = append(b, ':')
	b = appendTwo(b, mm)
	b = append(b, ':')
	b = appendTwo(b, ss)
	return append(b, 'Z')
}

// appendTwo appends n, 0 to 99, in two digits.
func appendTwo(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

// TimeOf is Time of a moment that may be absent: nil is "—".
func TimeOf(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return Time(*t)
}

// Day writes the date of a moment: "4 Dec 2026"; nil or zero is "—".
func Day(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "—"
	}
	return t.UTC().Format(dayLayout)
}

// Precise writes a moment to the second, for operators' commands.
func Precise(t time.Time) string { return t.UTC().Format(preciseLayout) }

// Relative writes when t is, seen from now: "in 3 days", "5 hours ago",
// "now".
func Relative(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d < 30*time.Second && d > -30*time.Second:
		return "now"
	case d > 0:
		return "in " + Left(d)
	}
	return About(-d) + " ago"
}

// Article returns "a" or "an" for the word that follows it, by its first
// letter as written: "an acme.test address", "a globex.test address".
func Article(word string) string {
	if word != "" && strings.ContainsRune("aeiouAEIOU", rune(word[0])) {
		return "an"
	}
	return "a"
}

// Quote quotes the start of data, at most n runes: Go-escaped, so that
// control and invisible characters and bytes that are not UTF-8 show as
// escapes, and marked with an ellipsis when cut. A page that hides a token
// and a webhook receiver's answer are quoted so.
func Quote(data []byte, n int) string {
	start := data
	for runes, i := 0, 0; i < len(data); runes++ {
		if runes == n {
			start = data[:i]
			break
		}
		_, size := utf8.DecodeRune(data[i:])
		i += size
	}
	q := strconv.Quote(string(start))
	if len(start) < len(data) {
		q += "…"
	}
	return q
}
