package db

import "time"

// IdempotencyKey is one Idempotency-Key a client sent with a POST (table
// idempotency_keys, server/idempotency.go): claimed while the first
// request with it runs, then holding that request's response, so that a
// retry with the same key is answered with it rather than run again. A
// key is scoped to the account that sent it and to the route: Account,
// Method, Path and Key together name it.
type IdempotencyKey struct {
	AccountID string
	Method    string
	// Path is the route's pattern (/api/medical-records), not the raw path.
	Path string
	Key  string
	// ClaimID names one claim of the key: completing or releasing it
	// touches the row only while that claim holds it, so a request whose
	// lease ran out cannot overwrite the claim that took over.
	ClaimID string
	// RequestHash is the SHA-256 of the request the key was first sent
	// with; a retry whose hash differs is another request.
	RequestHash []byte
	Created     time.Time
	// Expires is when the key is forgotten: after it, a request with the
	// key runs as new, and the row may be pruned.
	Expires time.Time
	// LeaseUntil is when a claim still pending (no Response) is deemed
	// abandoned, its request's process gone: after it, a request with the
	// key may claim it again.
	LeaseUntil time.Time
	// Response is the first request's answer; nil while it runs.
	Response *IdempotentResponse
}

// IdempotentResponse is the stored answer of a request with an
// Idempotency-Key.
type IdempotentResponse struct {
	Status      int
	ContentType string
	Location    string
	ETag        string
	// Body is the response body; nil when Withheld.
	Body []byte
	// Withheld means the body was not stored: it carried a secret shown
	// once, or was too large to keep.
	Withheld bool
}

// Live reports whether k still binds its key at now: it has not expired,
// and it holds a response or its lease has not run out.
func (k IdempotencyKey) Live(now time.Time) bool {
	if !now.Before(k.Expires) {
		return false
	}
	return k.Response != nil || now.Before(k.LeaseUntil)
}
