package mail

import (
	"strings"
	"testing"
	"time"
)

// Emails count with the one plural helper and give the durations they
// are passed.
func TestMessagesCountAndDurations(t *testing.T) {
	deadline := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		email     Email
		want, not string
	}{
		{DomainExpired("o@a.test", "O", "Acme", "a.test", []string{"Sam <sam@a.test>"}, ""), "Managed users removed from Acme (1 user);", "1 users"},
		{DomainExpired("o@a.test", "O", "Acme", "a.test", []string{"A <a@a.test>", "B <b@a.test>"}, ""), "(2 users)", "These"},
		{RevalidationRequired("o@a.test", "O", "Acme", "a.test", "gone", deadline, 1, "", ""), "the managed users with an address at it (1 user) will be removed", "1 managed users"},
		{RevalidationReminder("o@a.test", "O", "Acme", "a.test", "7 days", deadline, 2, "https://x/at-risk", "https://x"),
			"(2 users) will be removed.\n\nWho they are, with their accounts:\n\nhttps://x/at-risk\n\nPut the DNS record", ""},
		{RevalidationRequired("o@a.test", "O", "Acme", "a.test", "gone", deadline, 0, "https://x/at-risk", "https://x"),
			"No managed user would be removed. Until it is verified again, nobody can be added to Acme with a a.test address.\n\nPut the DNS record", "at-risk"},
		{VerifyEmail("u@a.test", "U", "https://x", 48*time.Hour), "The link is valid for 48 hours.", ""},
		{PasswordReset("u@a.test", "U", "https://x", time.Hour), "The link is valid for 1 hour and can be used once.", ""},
	}
	for _, tt := range tests {
		if !strings.Contains(tt.email.Body, tt.want) || (tt.not != "" && strings.Contains(tt.email.Body, tt.not)) {
			t.Errorf("%q: want %q, not %q, in:\n%s", tt.email.Subject, tt.want, tt.not, tt.email.Body)
		}
	}
}
