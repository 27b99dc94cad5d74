package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"admincenter/internal/text"
)

const (
	secretPrefix = "whsec_"
	userAgent    = "AdminCenter-Webhooks/1.0"
	// responseRunes is how much of an answer the delivery log keeps.
	responseRunes = 300
)

// NewSecret returns a signing secret in the Standard Webhooks format:
// "whsec_" and the base64 of 32 random bytes.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// Sign returns the webhook-signature header of a request: "v1," and the
// base64 of the HMAC-SHA256, keyed with the secret's bytes, of
// "id.timestamp.body" (Standard Webhooks).
func Sign(secret, id string, at time.Time, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil {
		return "", fmt.Errorf("webhooks: the signing secret is not base64: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, at.Unix())
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// outcome is how one attempt went.
type outcome struct {
	status   int           // HTTP status; 0: no answer
	response string        // the start of the answer's body, escaped and cut
	problem  string        // why it failed; empty: delivered
	took     time.Duration // from sending to the end of the answer
}

// send makes one attempt: the event's body, POSTed to the endpoint, signed
// at the current time. Only a 2xx answer delivers it; a redirect is not
// followed but failed, with where it pointed.
func (s *Service) send(ctx context.Context, d due) outcome {
	// A request in flight is finished even when the sender stops: it is
	// then recorded, rather than sent again by the next instance.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout())
	defer cancel()
	body := []byte(d.Payload)
	at := s.Now()
	signature, err := Sign(d.Secret, d.PublicID, at, body)
	if err != nil {
		return outcome{problem: err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return outcome{problem: fmt.Sprintf("The address %s cannot be used: %v.", d.URL, err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("webhook-id", d.PublicID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", signature)
	start := time.Now()
	resp, err := s.httpClient().Do(req)
	if err != nil {
		return outcome{problem: s.failure(err), took: time.Since(start)}
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(io.LimitReader(resp.Body, 4*responseRunes))
	o := outcome{status: resp.StatusCode, response: excerpt(got), took: time.Since(start)}
	status := strings.TrimSpace(strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		where := resp.Header.Get("Location")
		if where == "" {
			where = "nowhere (no Location header)"
		}
		o.problem = fmt.Sprintf("Answered %s, a redirect to %s: deliveries do not follow redirects, so update the endpoint's address.", status, cut(escaped(where)))
	default:
		o.problem = fmt.Sprintf("Answered %s.", status)
	}
	return o
}

// failure says in one sentence why a request got no answer.
func (s *Service) failure(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Sprintf("No answer within %s.", text.Duration(s.timeout()))
		}
		err = ue.Err
	}
	msg := escaped(err.Error())
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return cut(strings.ToUpper(msg[:1]) + msg[1:])
}

// excerpt quotes the start of a receiver's answer; an empty one is "".
func excerpt(body []byte) string {
	if len(body) == 0 {
		return ""
	}
	return text.Quote(body, responseRunes)
}

// escaped writes control characters and bytes that are not UTF-8 of a
// text that comes from the endpoint (a header, an error naming what it
// sent) as Go escapes, so that it can be stored and shown.
func escaped(s string) string {
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// cut shortens a text that comes from elsewhere to what a log line shows.
func cut(s string) string {
	if utf8.RuneCountInString(s) <= responseRunes {
		return s
	}
	return string([]rune(s)[:responseRunes]) + "…"
}
