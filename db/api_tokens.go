package db

import (
	"time"

	"github.com/anavara/anavara/model"
)

// APITokenRow is a stored personal access token: what its owner sees, its
// owner, the SHA-256 of its secret (never the secret) and when it was
// revoked. A revoked token's row stays, so that the audit events it made
// still name a token that existed.
type APITokenRow struct {
	model.APIToken
	UserID    string
	Hash      []byte
	RevokedAt *time.Time
}

// APITokenFilter narrows APITokensOf: one account's tokens not revoked,
// expired ones included (their owner sees that they ran out), one page
// of them.
type APITokenFilter struct {
	UserID string
	Limit  int
	Offset int
}

// APITokenTouchInterval is how stale a token's LastUsed must be before a
// use writes it again: a token called in a loop writes once a minute, not
// once a request.
const APITokenTouchInterval = time.Minute
