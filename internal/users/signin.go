package users

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/text"
)

// Sign-in throttling: every attempt is recorded before the password is
// compared, and cleared only by a success, so parallel guesses count too.
// After too many attempts in the window, further ones for that email (or
// from that client address, for any email) are refused until the window
// has passed.
const (
	failureWindow    = 15 * time.Minute
	maxEmailFailures = 5
	maxIPFailures    = 50
)

type loginFailure struct {
	ID        int64
	Email     string
	IP        string
	CreatedAt time.Time
}

func (loginFailure) TableName() string { return "login_failures" }

// dummyHash is compared when the email is unknown, so that the answer takes
// as long as for a known email.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("not a real password"), bcrypt.DefaultCost)
	return h
})

// SignIn checks an email and password from the client at ip.
func (s *Service) SignIn(ctx context.Context, email, password, ip string) (User, error) {
	email, msg := NormalizeEmail(email)
	if msg != "" {
		return User{}, apperr.Field("email", msg)
	}
	if password == "" {
		return User{}, apperr.Field("password", "Enter your password.")
	}
	db := s.DB.WithContext(ctx)
	attempt := loginFailure{Email: email, IP: ip, CreatedAt: s.Now()}
	if err := db.Create(&attempt).Error; err != nil {
		return User{}, fmt.Errorf("users: unable to record a sign-in attempt: %w", err)
	}
	if err := s.checkThrottle(db, email, ip); err != nil {
		return User{}, err
	}
	var u User
	err := db.Where("email = ?", email).Take(&u).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return User{}, fmt.Errorf("users: unable to look up %s: %w", email, err)
	}
	hash := []byte(u.PasswordHash)
	if u.ID == 0 {
		hash = dummyHash()
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || u.ID == 0 {
		return User{}, apperr.New(apperr.Unauthorized, "Incorrect email or password.")
	}
	if !u.Active() {
		return User{}, apperr.New(apperr.Forbidden, "This login has been deactivated. Contact support if you think this is a mistake.")
	}
	if err := db.Where("email = ?", email).Delete(&loginFailure{}).Error; err != nil {
		return User{}, fmt.Errorf("users: unable to clear failed sign-ins: %w", err)
	}
	err = audit.Record(db, s.Now(), u.OrgID(), audit.Actor{ID: u.ID, Email: u.Email}, "user.signed_in",
		audit.Target{Type: "user", ID: fmt.Sprint(u.ID), Label: u.Email}, "from "+ip)
	return u, err
}

// checkThrottle counts the recent attempts, this one included.
func (s *Service) checkThrottle(db *gorm.DB, email, ip string) error {
	since := s.Now().Add(-failureWindow)
	for _, q := range []struct {
		where string
		arg   string
		limit int
	}{
		{"email = ? AND created_at > ?", email, maxEmailFailures},
		{"ip = ? AND created_at > ?", ip, maxIPFailures},
	} {
		var recent []time.Time
		err := db.Model(&loginFailure{}).Where(q.where, q.arg, since).
			Order("created_at DESC").Limit(q.limit+1).Pluck("created_at", &recent).Error
		if err != nil {
			return fmt.Errorf("users: unable to count sign-in attempts: %w", err)
		}
		if len(recent) > q.limit {
			wait := recent[q.limit].Add(failureWindow).Sub(s.Now())
			minutes := max(1, int(math.Ceil(wait.Minutes())))
			return apperr.New(apperr.RateLimited, fmt.Sprintf(
				"Too many failed sign-in attempts. Try again in %s, or reset your password.", text.Count(minutes, "minute")))
		}
	}
	return nil
}

// Purge deletes what no longer serves: sign-in failures outside the
// throttling window and links that expired a day ago or more.
func (s *Service) Purge(ctx context.Context) error {
	now := s.Now()
	db := s.DB.WithContext(ctx)
	if err := db.Where("created_at < ?", now.Add(-failureWindow)).Delete(&loginFailure{}).Error; err != nil {
		return fmt.Errorf("users: unable to purge sign-in failures: %w", err)
	}
	if err := db.Where("expires_at < ?", now.Add(-24*time.Hour)).Delete(&userToken{}).Error; err != nil {
		return fmt.Errorf("users: unable to purge expired links: %w", err)
	}
	return nil
}
