package text

import (
	"testing"
	"time"
)

var moment = time.Date(2026, 12, 4, 10, 0, 5, 0, time.UTC)

func TestWords(t *testing.T) {
	tests := []struct{ got, want string }{
		{Count(1, "user"), "1 user"},
		{Count(0, "user"), "0 users"},
		{Count(int64(98), "entry"), "98 entries"},
		{Count(2, "day"), "2 days"},
		{Count(3, "eligible user"), "3 eligible users"},
		{Count(1, "account"), "1 account"},
		{Count(2, "managed user"), "2 managed users"},
		{Count(2, "address"), "2 addresses"},
		{Plural(5, "domain"), "domains"},
		{Duration(720 * time.Hour), "30 days"},
		{Duration(168 * time.Hour), "7 days"},
		{Duration(72 * time.Hour), "72 hours"},
		{Duration(24 * time.Hour), "24 hours"},
		{Duration(time.Hour), "1 hour"},
		{Duration(90 * time.Minute), "90 minutes"},
		{Duration(90 * time.Second), "90 seconds"},
		{Duration(5 * time.Minute), "5 minutes"},
		{Every(24 * time.Hour), "every 24 hours"},
		{Every(time.Hour), "every hour"},
		{Every(30 * time.Second), "every 30 seconds"},
		{About(71*time.Hour + 50*time.Minute), "3 days"},
		{About(90 * time.Minute), "90 minutes"},
		{About(-time.Second), "0 seconds"},
		{Left(29*24*time.Hour + time.Minute), "30 days"},
		{Left(23 * time.Hour), "23 hours"},
		{Left(59 * time.Second), "59 seconds"},
		{Left(0), "no time"},
		{Left(59*time.Minute + 59*time.Second), "1 hour"},
		{Left(23*time.Hour + 30*time.Minute), "1 day"},
		{Left(90 * time.Second), "2 minutes"},
		{Time(time.Date(2026, 12, 4, 10, 0, 59, 0, time.FixedZone("CET", 3600))), "4 Dec 2026 09:00 UTC"},
		{Time(time.Time{}), "—"},
		{TimeOf(nil), "—"},
		{Day(&moment), "4 Dec 2026"},
		{Day(nil), "—"},
		{Precise(moment), "4 Dec 2026 10:00:05 UTC"},
		{Relative(moment.Add(72*time.Hour), moment), "in 3 days"},
		{Relative(moment.Add(-5*time.Hour), moment), "5 hours ago"},
		{Relative(moment.Add(10*time.Second), moment), "now"},
		{Article("acme.test"), "an"},
		{Article("globex.test"), "a"},
		{Article("Administrator"), "an"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestQuote(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 5, `""`},
		{"hello", 5, `"hello"`},
		{"hello world", 5, `"hello"…`},
		{"café\x00\xff", 10, `"café\x00\xff"`},
		{"ééé", 2, `"éé"…`},
	} {
		if got := Quote([]byte(tt.in), tt.n); got != tt.want {
			t.Errorf("Quote(%q, %d) = %s, want %s", tt.in, tt.n, got, tt.want)
		}
	}
}

// The moments written digit by digit read as Format writes them, in any
// zone, at any second, and in the years Format pads differently.
func TestAppendTimeIsFormat(t *testing.T) {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	for _, at := range []time.Time{
		time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 9, 3, 7, 59, 999999999, zone),
		time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(12, 2, 3, 4, 5, 6, 0, time.UTC),
		time.Date(10000, 2, 3, 4, 5, 6, 0, time.UTC),
		time.Unix(1<<31, 0),
	} {
		if got, want := string(AppendTime([]byte("x"), at)), "x"+at.UTC().Format("2 Jan 2006 15:04 UTC"); got != want {
			t.Errorf("AppendTime(%v) = %q, want %q", at, got, want)
		}
		if got, want := string(AppendISO(nil, at)), at.UTC().Format(time.RFC3339); got != want {
			t.Errorf("AppendISO(%v) = %q, want %q", at, got, want)
		}
	}
	for i := range 10000 {
		at := time.Unix(int64(i)*97_531_357, 0)
		if got, want := string(AppendISO(AppendTime(nil, at), at)), at.UTC().Format("2 Jan 2006 15:04 UTC")+at.UTC().Format(time.RFC3339); got != want {
			t.Fatalf("%v: %q, want %q", at, got, want)
		}
	}
}
