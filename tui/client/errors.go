package client

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// APIError is every non-2xx answer from the server.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Message is the server's message; for field problems it is the first
	// field error. When the server sent none, it is the status text.
	Message string
	// Fields holds the errors by field, e.g. Fields["email"]; may be nil.
	Fields map[string][]string
	// RetryAfter is how long to wait, from Retry-After on 429; zero otherwise.
	RetryAfter time.Duration
	// Path is the request's URL path, e.g. /api/auth/login (with the base
	// URL's own path in front, if it has one).
	Path string
}

// NoAPI reports whether the answer means no Anavara API is at the base URL:
// a 404 for an authentication endpoint, which Anavara always has (the
// usual cause is a base URL with the API's own /api or another path).
func (e *APIError) NoAPI() bool {
	return e.Status == http.StatusNotFound && strings.Contains(e.Path, "/api/auth/")
}

// Error returns the server's message and the status, e.g.
// "Not found. (HTTP 404)".
func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	s := fmt.Sprintf("%s (HTTP %d)", msg, e.Status)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf("; retry after %s", e.RetryAfter)
	}
	return s
}

// Field returns the first message for the named field, or "".
func (e *APIError) Field(name string) string {
	if msgs := e.Fields[name]; len(msgs) > 0 {
		return msgs[0]
	}
	return ""
}

// UnreachableError means no HTTP answer arrived (connection refused, DNS,
// timeout).
type UnreachableError struct {
	// URL is the base URL of the server that could not be reached.
	URL string
	// Err is the transport error.
	Err error
}

// Error returns "cannot reach the Anavara server at <URL>: <reason>".
func (e *UnreachableError) Error() string {
	reason := e.Err
	var ue *url.Error
	if errors.As(reason, &ue) && ue.Err != nil {
		// The url.Error repeats the method and full URL; the reason suffices.
		reason = ue.Err
	}
	return fmt.Sprintf("cannot reach the Anavara server at %s: %v", e.URL, reason)
}

// Unwrap returns the transport error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// IsStatus reports whether err is (or wraps) an APIError with the given
// status.
func IsStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status
}

// IsChanged reports whether err is the server's 412: the record or account
// was changed by someone else since the version sent in If-Match was read.
func IsChanged(err error) bool { return IsStatus(err, http.StatusPreconditionFailed) }

// isRejection reports whether err is the server refusing a refresh token,
// after which the stored tokens are worthless.
func isRejection(err error) bool {
	return IsStatus(err, http.StatusUnauthorized) || IsStatus(err, http.StatusBadRequest)
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
