package text

import (
	"testing"
	"time"
)

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
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
