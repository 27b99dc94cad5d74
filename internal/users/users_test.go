package users_test

import (
	"context"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/clock"
	"admincenter/internal/mail"
	"admincenter/internal/testdb"
	"admincenter/internal/users"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

func newService(db *gorm.DB, clk *clock.Fake) *users.Service {
	base, _ := url.Parse("http://admin.test:8080")
	return &users.Service{DB: db, Now: clk.Now, BaseURL: base, PasswordCost: bcrypt.MinCost}
}

func newClock() *clock.Fake { return clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)) }

var tokenPattern = regexp.MustCompile(`token=([A-Za-z0-9%]+)`)

// lastLink returns the token of the newest email to addr.
func lastLink(t *testing.T, db *gorm.DB, addr, subject string) string {
	t.Helper()
	msgs, err := (&mail.Outbox{DB: db}).Recent(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Recipient == addr && m.Subject == subject {
			match := tokenPattern.FindStringSubmatch(m.Body)
			if match == nil {
				t.Fatalf("no link in %q", m.Body)
			}
			tok, _ := url.QueryUnescape(match[1])
			return tok
		}
	}
	t.Fatalf("no email %q to %s", subject, addr)
	return ""
}

func TestSignUpValidation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newService(db, newClock())
		ctx := context.Background()
		if _, err := s.SignUp(ctx, users.SignUpForm{Name: "Ada", Email: "ada@example.com", Password: "correct horse"}); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name  string
			form  users.SignUpForm
			field string
			want  string
		}{
			{"empty name", users.SignUpForm{Name: " ", Email: "b@example.com", Password: "correct horse"}, "name", "Enter your name."},
			{"long name", users.SignUpForm{Name: strings.Repeat("x", 101), Email: "b@example.com", Password: "correct horse"}, "name", "at most 100"},
			{"empty email", users.SignUpForm{Name: "B", Email: "", Password: "correct horse"}, "email", "Enter an email address."},
			{"malformed email", users.SignUpForm{Name: "B", Email: "b@", Password: "correct horse"}, "email", "valid email"},
			{"display name", users.SignUpForm{Name: "B", Email: "B <b@example.com>", Password: "correct horse"}, "email", "valid email"},
			{"undotted domain", users.SignUpForm{Name: "B", Email: "b@localhost", Password: "correct horse"}, "email", "valid email"},
			{"short password", users.SignUpForm{Name: "B", Email: "b@example.com", Password: "short"}, "password", "at least 10"},
			{"long password", users.SignUpForm{Name: "B", Email: "b@example.com", Password: strings.Repeat("p", 73)}, "password", "at most 72"},
			{"duplicate email", users.SignUpForm{Name: "Other", Email: " ADA@example.com ", Password: "correct horse"}, "email", "already exists"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := s.SignUp(ctx, c.form)
				e, ok := apperr.As(err)
				if !ok || e.Code != apperr.Invalid {
					t.Fatalf("err = %v, want invalid", err)
				}
				if got := e.Fields[c.field]; !strings.Contains(got, c.want) {
					t.Fatalf("%s: got %q, want %q", c.field, got, c.want)
				}
			})
		}
		var n int64
		db.Model(&users.User{}).Count(&n)
		if n != 1 {
			t.Fatalf("%d users after refused sign-ups, want 1", n)
		}
	})
}

func TestVerifyEmail(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		s := newService(db, clk)
		ctx := context.Background()
		u, err := s.SignUp(ctx, users.SignUpForm{Name: "Ada", Email: "Ada@Example.com", Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "ada@example.com" || u.EmailVerified() {
			t.Fatalf("new user %+v", u)
		}
		token := lastLink(t, db, "ada@example.com", "Verify your email address")
		if _, err := s.VerifyEmail(ctx, "nonsense"); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("bad token: %v", err)
		}
		v, err := s.VerifyEmail(ctx, token)
		if err != nil || !v.EmailVerified() {
			t.Fatalf("verify: %v %+v", err, v)
		}
		if _, err := s.VerifyEmail(ctx, token); err != nil {
			t.Fatalf("second click: %v", err)
		}
		if err := s.ResendVerification(ctx, u.ID); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("resend after verification: %v", err)
		}
	})
}

func TestVerificationLinkExpires(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		s := newService(db, clk)
		ctx := context.Background()
		if _, err := s.SignUp(ctx, users.SignUpForm{Name: "Ada", Email: "ada@example.com", Password: "correct horse"}); err != nil {
			t.Fatal(err)
		}
		token := lastLink(t, db, "ada@example.com", "Verify your email address")
		clk.Advance(49 * time.Hour)
		_, err := s.VerifyEmail(ctx, token)
		if apperr.CodeOf(err) != apperr.NotFound || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("expired link: %v", err)
		}
	})
}

func TestSignInAndThrottle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		s := newService(db, clk)
		ctx := context.Background()
		if _, err := s.SignUp(ctx, users.SignUpForm{Name: "Ada", Email: "ada@example.com", Password: "correct horse"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SignIn(ctx, "ADA@example.com", "correct horse", "10.0.0.1"); err != nil {
			t.Fatalf("good password: %v", err)
		}
		if _, err := s.SignIn(ctx, "nobody@example.com", "correct horse", "10.0.0.1"); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("unknown email: %v", err)
		}
		for i := range 5 {
			if _, err := s.SignIn(ctx, "ada@example.com", "wrong", "10.0.0.1"); apperr.CodeOf(err) != apperr.Unauthorized {
				t.Fatalf("failure %d: %v", i, err)
			}
		}
		_, err := s.SignIn(ctx, "ada@example.com", "correct horse", "10.0.0.1")
		if apperr.CodeOf(err) != apperr.RateLimited || !strings.Contains(err.Error(), "Try again in 15 minutes") {
			t.Fatalf("after 5 failures: %v", err)
		}
		clk.Advance(16 * time.Minute)
		if _, err := s.SignIn(ctx, "ada@example.com", "correct horse", "10.0.0.1"); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})
}

func TestDeactivatedCannotSignIn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		s := newService(db, clk)
		ctx := context.Background()
		u, err := s.SignUp(ctx, users.SignUpForm{Name: "Ada", Email: "ada@example.com", Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		db.Model(&u).Update("deactivated_at", clk.Now())
		if _, err := s.SignIn(ctx, "ada@example.com", "correct horse", "10.0.0.1"); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("deactivated: %v", err)
		}
	})
}

func TestPasswordReset(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		s := newService(db, clk)
		ctx := context.Background()
		u, err := s.SignUp(ctx, users.SignUpForm{Name: "Ada", Email: "ada@example.com", Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RequestPasswordReset(ctx, "nobody@example.com"); err != nil {
			t.Fatalf("unknown email must look the same: %v", err)
		}
		if err := s.RequestPasswordReset(ctx, "not an email"); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("malformed email: %v", err)
		}
		if err := s.RequestPasswordReset(ctx, "ada@example.com"); err != nil {
			t.Fatal(err)
		}
		token := lastLink(t, db, "ada@example.com", "Reset your password")
		if err := s.CheckResetToken(ctx, token); err != nil {
			t.Fatalf("fresh link: %v", err)
		}
		if _, err := s.ResetPassword(ctx, token, "short"); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("short password: %v", err)
		}
		clk.Advance(time.Minute)
		got, err := s.ResetPassword(ctx, token, "battery staple")
		if err != nil {
			t.Fatal(err)
		}
		if !got.EmailVerified() || !got.SessionsValidAfter.After(u.SessionsValidAfter) {
			t.Fatalf("after reset: %+v", got)
		}
		if _, err := s.ResetPassword(ctx, token, "another password"); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("reused link: %v", err)
		}
		if _, err := s.SignIn(ctx, "ada@example.com", "correct horse", "10.0.0.1"); err == nil {
			t.Fatal("old password still works")
		}
		if _, err := s.SignIn(ctx, "ada@example.com", "battery staple", "10.0.0.1"); err != nil {
			t.Fatalf("new password: %v", err)
		}
	})
}

func TestAccounts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newService(db, newClock())
		ctx := context.Background()
		u, err := s.SignUp(ctx, users.SignUpForm{Name: "Ada", Email: "ada@example.com", Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateAccount(ctx, u.ID, "  "); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("empty name: %v", err)
		}
		a, err := s.CreateAccount(ctx, u.ID, "Production")
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^AC[0-9a-f]{32}$`).MatchString(a.ID) {
			t.Fatalf("account id %q", a.ID)
		}
		list, err := s.Accounts(ctx, u.ID)
		if err != nil || len(list) != 1 || list[0].Name != "Production" {
			t.Fatalf("accounts: %v %+v", err, list)
		}
	})
}

func TestResetLiftsLockoutAndPurge(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		s := newService(db, clk)
		ctx := context.Background()
		if _, err := s.SignUp(ctx, users.SignUpForm{Name: "Ada", Email: "ada@example.com", Password: "correct horse"}); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			s.SignIn(ctx, "ada@example.com", "wrong", "10.0.0.1")
		}
		if _, err := s.SignIn(ctx, "ada@example.com", "correct horse", "10.0.0.1"); apperr.CodeOf(err) != apperr.RateLimited {
			t.Fatalf("locked out: %v", err)
		}
		if err := s.RequestPasswordReset(ctx, "ada@example.com"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ResetPassword(ctx, lastLink(t, db, "ada@example.com", "Reset your password"), "battery staple"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SignIn(ctx, "ada@example.com", "battery staple", "10.0.0.1"); err != nil {
			t.Fatalf("after reset: %v", err)
		}

		s.SignIn(ctx, "ada@example.com", "wrong", "10.0.0.1")
		count := func(table string) (n int64) {
			db.Table(table).Count(&n)
			return n
		}
		if count("login_failures") != 1 || count("user_tokens") != 2 {
			t.Fatalf("before purge: %d failures, %d links", count("login_failures"), count("user_tokens"))
		}
		clk.Advance(4 * 24 * time.Hour)
		if err := s.Purge(ctx); err != nil {
			t.Fatal(err)
		}
		if count("login_failures") != 0 || count("user_tokens") != 0 {
			t.Fatalf("after purge: %d failures, %d links", count("login_failures"), count("user_tokens"))
		}
	})
}

// Parallel guesses are throttled as strictly as sequential ones.
func TestThrottleHoldsUnderParallelGuesses(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		s := newService(db, newClock())
		ctx := context.Background()
		if _, err := s.SignUp(ctx, users.SignUpForm{Name: "Ada", Email: "ada@example.com", Password: "correct horse"}); err != nil {
			t.Fatal(err)
		}
		results := make(chan apperr.Code, 40)
		var wg sync.WaitGroup
		for range 40 {
			wg.Go(func() {
				_, err := s.SignIn(ctx, "ada@example.com", "wrong guess", "10.0.0.9")
				results <- apperr.CodeOf(err)
			})
		}
		wg.Wait()
		close(results)
		guesses := 0
		for code := range results {
			switch code {
			case apperr.Unauthorized:
				guesses++
			case apperr.RateLimited:
			default:
				t.Fatalf("unexpected %s", code)
			}
		}
		if guesses > 5 {
			t.Fatalf("%d guesses were checked, want at most 5", guesses)
		}
	})
}

func TestEmailedLinksAreRateLimited(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		s := newService(db, clk)
		ctx := context.Background()
		u, err := s.SignUp(ctx, users.SignUpForm{Name: "Ada", Email: "ada@example.com", Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		mails := func(subject string) (n int64) {
			db.Table("outbox").Where("subject = ?", subject).Count(&n)
			return n
		}
		for range 5 {
			if err := s.RequestPasswordReset(ctx, "ada@example.com"); err != nil {
				t.Fatal(err)
			}
		}
		if n := mails("Reset your password"); n != 3 {
			t.Fatalf("%d reset emails in an hour, want 3", n)
		}
		if err := s.ResendVerification(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.ResendVerification(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.ResendVerification(ctx, u.ID); apperr.CodeOf(err) != apperr.RateLimited {
			t.Fatalf("fourth verification link in an hour: %v", err)
		}
		clk.Advance(61 * time.Minute)
		if err := s.ResendVerification(ctx, u.ID); err != nil {
			t.Fatalf("an hour later: %v", err)
		}
		if err := s.RequestPasswordReset(ctx, "ada@example.com"); err != nil || mails("Reset your password") != 4 {
			t.Fatalf("an hour later: %v, %d reset emails", err, mails("Reset your password"))
		}
	})
}
