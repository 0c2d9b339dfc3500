package db

import (
	"cmp"
	"time"
)

// ResetRequest is one accepted POST /api/auth/forgot-password waiting in
// the outbox (table reset_requests) for a reset-code worker: the handler
// stores it and answers, whether or not an account has the email, and a
// worker of any instance on the database claims it, issues and mails the
// code, and deletes it. The row stays until then, so a crash after the
// answer loses no request.
type ResetRequest struct {
	ID string
	// Email is the address asked for, normalised (model.NormalizeEmail).
	Email string
	// IP and RequestID are the request's client address and X-Request-ID,
	// for the audit event and the logs.
	IP        string
	RequestID string
	// RequestedAt is when the request was answered: the issued code's
	// Created, and what orders requests.
	RequestedAt time.Time
	// Attempts counts the claims so far, this one included.
	Attempts int
	// ClaimedUntil is when the current claim's lease runs out, after which
	// another worker may claim the row again; nil while never claimed.
	ClaimedUntil *time.Time
}

// CompareResetRequests is the order ClaimResetRequests returns requests
// in, on every engine: oldest first, ties by id.
func CompareResetRequests(a, b ResetRequest) int {
	return cmp.Or(a.RequestedAt.Compare(b.RequestedAt), cmp.Compare(a.ID, b.ID))
}
