// Package apperr is the one error type the product returns to people: a
// code that decides the HTTP status and a message that is safe to show.
package apperr

import (
	"errors"
	"maps"
	"slices"
	"strings"
)

// Code classifies an error. The web layer maps each code to one status.
type Code string

const (
	Invalid      Code = "invalid"      // bad input; Fields says which
	NotFound     Code = "not_found"    // absent, or not visible to the caller
	Conflict     Code = "conflict"     // the change clashes with current state
	Forbidden    Code = "forbidden"    // signed in, but not allowed
	RateLimited  Code = "rate_limited" // too many attempts
	Unauthorized Code = "unauthorized" // not signed in, or bad credentials
	Internal     Code = "internal"     // anything else; never shown in detail
)

// Error is an error with a code and a message that may be shown to users.
// Fields holds per-field messages for forms, keyed by the field's name.
type Error struct {
	Code    Code
	Message string
	Fields  map[string]string
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	var b strings.Builder
	b.WriteString(e.Message)
	for _, k := range slices.Sorted(maps.Keys(e.Fields)) {
		b.WriteString("; " + k + ": " + e.Fields[k])
	}
	return b.String()
}

// New returns an error with the given code and message.
func New(code Code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// Field returns an Invalid error about one form field.
func Field(name, message string) *Error {
	return &Error{Code: Invalid, Message: message, Fields: map[string]string{name: message}}
}

// Fields collects per-field problems while validating a form.
type Fields map[string]string

// Add records the first problem found for a field; later ones are dropped
// so that each field shows one clear message.
func (f Fields) Add(name, message string) {
	if _, ok := f[name]; !ok {
		f[name] = message
	}
}

// Err returns nil when no problem was recorded.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Message: "Please correct the highlighted fields.", Fields: f}
}

// CodeOf returns the code of err, or Internal for errors of other types.
func CodeOf(err error) Code {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return Internal
}

// As returns err's *Error, if it is one.
func As(err error) (*Error, bool) {
	return errors.AsType[*Error](err)
}

// MessageOf returns the safe message of err, or a generic one.
func MessageOf(err error) string {
	if e, ok := As(err); ok {
		return e.Message
	}
	return "Internal error. Please try again later."
}
