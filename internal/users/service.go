package users

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"admincenter/internal/apperr"
	"admincenter/internal/audit"
	"admincenter/internal/database"
	"admincenter/internal/mail"
	"admincenter/internal/paths"
	"admincenter/internal/token"
)

// Service is everything a person does with their own login.
type Service struct {
	DB           *gorm.DB
	Now          func() time.Time
	BaseURL      *url.URL // links in emails start here
	PasswordCost int      // bcrypt cost; tests lower it
	// OnEmailVerified, if set, runs in the transaction in which a user
	// proves their email address for the first time.
	OnEmailVerified func(tx *gorm.DB, u User) error
}

func (s *Service) emailVerified(tx *gorm.DB, u User) error {
	if s.OnEmailVerified == nil {
		return nil
	}
	return s.OnEmailVerified(tx, u)
}

const (
	verifyEmailTTL   = 48 * time.Hour
	passwordResetTTL = time.Hour
	purposeVerify    = "verify_email"
	purposeReset     = "reset_password"
)

// SignUpForm is what a person enters to sign up.
type SignUpForm struct {
	Name, Email, Password string
}

// Validate normalises the form and reports every bad field.
func (f *SignUpForm) Validate() error {
	bad := apperr.Fields{}
	if msg := CheckName(&f.Name); msg != "" {
		bad.Add("name", msg)
	}
	var msg string
	if f.Email, msg = NormalizeEmail(f.Email); msg != "" {
		bad.Add("email", msg)
	}
	if msg := CheckPassword(f.Password); msg != "" {
		bad.Add("password", msg)
	}
	return bad.Err()
}

// CheckName trims a person's name and says what is wrong with it.
func CheckName(name *string) string { return PersonName.Check(name) }

// CheckPassword says what is wrong with a new password.
func CheckPassword(p string) string {
	switch {
	case p == "":
		return "Enter a password."
	case utf8.RuneCountInString(p) < 10:
		return "Use at least 10 characters for your password."
	case len(p) > 72:
		return "A password can be at most 72 bytes long."
	}
	return ""
}

func (s *Service) hash(password string) (string, error) {
	return HashPassword(password, s.PasswordCost)
}

// SignUp creates an unmanaged user and emails them a verification link.
func (s *Service) SignUp(ctx context.Context, f SignUpForm) (User, error) {
	var u User
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		var err error
		if u, err = s.create(tx, f, false); err != nil {
			return err
		}
		return s.sendVerification(tx, u)
	})
	return u, err
}

// SignUpVerified creates a user in tx whose email address is already
// proven, because they followed a link sent to it (an invitation).
func (s *Service) SignUpVerified(tx *gorm.DB, f SignUpForm) (User, error) {
	return s.create(tx, f, true)
}

func (s *Service) create(tx *gorm.DB, f SignUpForm, verified bool) (User, error) {
	if err := f.Validate(); err != nil {
		return User{}, err
	}
	hash, err := s.hash(f.Password)
	if err != nil {
		return User{}, err
	}
	now := s.Now()
	u := User{Email: f.Email, Name: f.Name, PasswordHash: hash, SessionsValidAfter: now, CreatedAt: now}
	if verified {
		u.EmailVerifiedAt = &now
	}
	if err := tx.Create(&u).Error; err != nil {
		if database.IsDuplicate(err) {
			return User{}, apperr.Field("email", "An account with this email already exists. Sign in, or reset your password if you forgot it.")
		}
		return User{}, fmt.Errorf("users: unable to create %s: %w", f.Email, err)
	}
	err = audit.Record(tx, now, 0, audit.Actor{ID: u.ID, Email: u.Email}, "user.signed_up",
		audit.Target{Type: "user", ID: fmt.Sprint(u.ID), Label: u.Email}, "")
	return u, err
}

func (s *Service) sendVerification(tx *gorm.DB, u User) error {
	token, err := s.issueToken(tx, u.ID, purposeVerify, verifyEmailTTL)
	if err != nil {
		return err
	}
	return mail.Enqueue(tx, s.Now(), mail.VerifyEmail(u.Email, u.Name, s.link(paths.VerifyEmail, token), verifyEmailTTL))
}

// linksPerHour bounds the links of one purpose emailed to one person, so
// that nobody can flood a mailbox through the forms.
const linksPerHour = 3

// tooManyLinks reports whether the user was sent linksPerHour links of
// this purpose in the last hour.
func (s *Service) tooManyLinks(tx *gorm.DB, userID int64, purpose string) (bool, error) {
	var n int64
	err := tx.Model(&userToken{}).Where("user_id = ? AND purpose = ? AND created_at > ?", userID, purpose, s.Now().Add(-time.Hour)).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("users: unable to count the links sent to %d: %w", userID, err)
	}
	return n >= linksPerHour, nil
}

// ResendVerification emails a new verification link to an unverified user.
func (s *Service) ResendVerification(ctx context.Context, userID int64) error {
	return database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		u, err := byID(tx, userID)
		if err != nil {
			return err
		}
		if u.EmailVerified() {
			return apperr.New(apperr.Conflict, "Your email address is already verified.")
		}
		if tooMany, err := s.tooManyLinks(tx, u.ID, purposeVerify); err != nil || tooMany {
			if err != nil {
				return err
			}
			return apperr.New(apperr.RateLimited, fmt.Sprintf("We sent you %d links in the last hour. Look for them in your spam folder, or try again later.", linksPerHour))
		}
		if err := s.sendVerification(tx, u); err != nil {
			return err
		}
		return audit.Record(tx, s.Now(), u.OrgID(), audit.Actor{ID: u.ID, Email: u.Email}, "user.verification_resent",
			audit.Target{Type: "user", ID: fmt.Sprint(u.ID), Label: u.Email}, "")
	})
}

// RecordSignOut notes in the audit log that u signed out.
func (s *Service) RecordSignOut(ctx context.Context, u User) error {
	return audit.Record(s.DB.WithContext(ctx), s.Now(), u.OrgID(), audit.Actor{ID: u.ID, Email: u.Email}, "user.signed_out",
		audit.Target{Type: "user", ID: fmt.Sprint(u.ID), Label: u.Email}, "")
}

// ConfirmEmail marks the user's address as proven, in tx, without the
// hook of a first verification: for a link that proved it on the way to
// something else (an accepted invitation).
func ConfirmEmail(tx *gorm.DB, u *User, now time.Time) error {
	if u.EmailVerified() {
		return nil
	}
	if err := tx.Model(u).Update("email_verified_at", now).Error; err != nil {
		return fmt.Errorf("users: unable to verify %s: %w", u.Email, err)
	}
	u.EmailVerifiedAt = &now
	return nil
}

// VerifyEmail marks the email of the token's user as verified.
func (s *Service) VerifyEmail(ctx context.Context, token string) (User, error) {
	var u User
	err := database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		userID, err := s.useToken(tx, token, purposeVerify)
		if err != nil {
			return err
		}
		if u, err = byID(tx, userID); err != nil {
			return err
		}
		if u.EmailVerified() {
			return nil
		}
		now := s.Now()
		u.EmailVerifiedAt = &now
		if err := tx.Model(&u).Update("email_verified_at", now).Error; err != nil {
			return fmt.Errorf("users: unable to verify %s: %w", u.Email, err)
		}
		err = audit.Record(tx, now, u.OrgID(), audit.Actor{ID: u.ID, Email: u.Email}, "user.email_verified",
			audit.Target{Type: "user", ID: fmt.Sprint(u.ID), Label: u.Email}, "")
		if err != nil {
			return err
		}
		return s.emailVerified(tx, u)
	})
	return u, err
}

// RequestPasswordReset emails a reset link when the address belongs to an
// active user. It answers the same either way, so the form does not reveal
// who has signed up.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	email, msg := NormalizeEmail(email)
	if msg != "" {
		return apperr.Field("email", msg)
	}
	return database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		var u User
		err := tx.Where("email = ?", email).Take(&u).Error
		if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && !u.Active()) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("users: unable to look up %s: %w", email, err)
		}
		if tooMany, err := s.tooManyLinks(tx, u.ID, purposeReset); err != nil || tooMany {
			return err // nil when too many: the same answer, and the links already sent still work
		}
		token, err := s.issueToken(tx, u.ID, purposeReset, passwordResetTTL)
		if err != nil {
			return err
		}
		if err := mail.Enqueue(tx, s.Now(), mail.PasswordReset(u.Email, u.Name, s.link(paths.ResetPassword, token), passwordResetTTL)); err != nil {
			return err
		}
		return audit.Record(tx, s.Now(), u.OrgID(), audit.Actor{ID: u.ID, Email: u.Email}, "user.password_reset_requested",
			audit.Target{Type: "user", ID: fmt.Sprint(u.ID), Label: u.Email}, "")
	})
}

// CheckVerifyToken returns the user of a verification link that can still
// be used, so the page can ask them to confirm.
func (s *Service) CheckVerifyToken(ctx context.Context, token string) (User, error) {
	t, err := s.findToken(s.DB.WithContext(ctx), token, purposeVerify)
	if err != nil {
		return User{}, err
	}
	return byID(s.DB.WithContext(ctx), t.UserID)
}

// CheckResetToken tells whether a reset link can still be used, so the
// page can say so before the person types a new password.
func (s *Service) CheckResetToken(ctx context.Context, token string) error {
	_, err := s.findToken(s.DB.WithContext(ctx), token, purposeReset)
	return err
}

// ResetPassword sets a new password from a reset link. It also signs out
// every existing session and, since the link arrived by email, verifies
// the email address.
func (s *Service) ResetPassword(ctx context.Context, token, password string) (User, error) {
	if msg := CheckPassword(password); msg != "" {
		return User{}, apperr.Field("password", msg)
	}
	hash, err := s.hash(password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = database.Transaction(ctx, s.DB, func(tx *gorm.DB) error {
		userID, err := s.useToken(tx, token, purposeReset)
		if err != nil {
			return err
		}
		if u, err = byID(tx, userID); err != nil {
			return err
		}
		now := s.Now()
		update := map[string]any{"password_hash": hash, "sessions_valid_after": now}
		verifies := !u.EmailVerified()
		if verifies {
			update["email_verified_at"] = now
		}
		if err := tx.Model(&u).Updates(update).Error; err != nil {
			return fmt.Errorf("users: unable to reset the password of %s: %w", u.Email, err)
		}
		if err := tx.Model(&userToken{}).Where("user_id = ? AND purpose = ? AND used_at IS NULL", u.ID, purposeReset).
			Update("used_at", now).Error; err != nil {
			return fmt.Errorf("users: unable to retire reset links of %s: %w", u.Email, err)
		}
		// The link proved who they are: lift any sign-in lockout.
		if err := tx.Where("email = ?", u.Email).Delete(&loginFailure{}).Error; err != nil {
			return fmt.Errorf("users: unable to clear failed sign-ins of %s: %w", u.Email, err)
		}
		err = audit.Record(tx, now, u.OrgID(), audit.Actor{ID: u.ID, Email: u.Email}, "user.password_reset",
			audit.Target{Type: "user", ID: fmt.Sprint(u.ID), Label: u.Email}, "all sessions signed out")
		if err != nil || !verifies {
			return err
		}
		u.EmailVerifiedAt = &now
		return s.emailVerified(tx, u)
	})
	return u, err
}

func byID(db *gorm.DB, id int64) (User, error) {
	var u User
	err := db.Take(&u, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return u, apperr.New(apperr.NotFound, "No such user.")
	}
	if err != nil {
		return u, fmt.Errorf("users: unable to read user %d: %w", id, err)
	}
	return u, nil
}

func (s *Service) link(page, token string) string {
	return paths.Absolute(s.BaseURL, paths.WithToken(page, token))
}

// userToken is a one-time link; only its hash is stored.
type userToken struct {
	TokenHash string `gorm:"primaryKey"`
	UserID    int64
	Purpose   string
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

func (userToken) TableName() string { return "user_tokens" }

func (s *Service) issueToken(tx *gorm.DB, userID int64, purpose string, ttl time.Duration) (string, error) {
	raw, hash := token.New()
	now := s.Now()
	t := userToken{TokenHash: hash, UserID: userID, Purpose: purpose, ExpiresAt: now.Add(ttl), CreatedAt: now}
	if err := tx.Create(&t).Error; err != nil {
		return "", fmt.Errorf("users: unable to issue a %s link: %w", purpose, err)
	}
	return raw, nil
}

var linkProblems = map[string][2]string{ // invalid, expired
	purposeVerify: {
		"This verification link is not valid. Sign in and ask for a new one.",
		"This verification link has expired. Sign in and ask for a new one.",
	},
	purposeReset: {
		"This password reset link is not valid. Ask for a new one.",
		"This password reset link has expired or was already used. Ask for a new one.",
	},
}

// findToken returns a link that can still be used. A verification link
// stays usable after its first click: clicking it twice is harmless.
func (s *Service) findToken(db *gorm.DB, raw, purpose string) (userToken, error) {
	var t userToken
	err := database.ForNoKeyUpdate(db).Where("token_hash = ? AND purpose = ?", token.Hash(raw), purpose).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return t, apperr.New(apperr.NotFound, linkProblems[purpose][0])
	}
	if err != nil {
		return t, fmt.Errorf("users: unable to read a %s link: %w", purpose, err)
	}
	if (t.UsedAt != nil && purpose != purposeVerify) || !s.Now().Before(t.ExpiresAt) {
		return t, apperr.New(apperr.NotFound, linkProblems[purpose][1])
	}
	return t, nil
}

// useToken consumes a one-time link and returns its user.
func (s *Service) useToken(tx *gorm.DB, raw, purpose string) (int64, error) {
	t, err := s.findToken(tx, raw, purpose)
	if err != nil || t.UsedAt != nil {
		return t.UserID, err
	}
	if err := tx.Model(&t).Update("used_at", s.Now()).Error; err != nil {
		return 0, fmt.Errorf("users: unable to use a %s link: %w", purpose, err)
	}
	return t.UserID, nil
}

// HashPassword hashes a password with bcrypt at the given cost.
func HashPassword(password string, cost int) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("users: unable to hash password: %w", err)
	}
	return string(h), nil
}
