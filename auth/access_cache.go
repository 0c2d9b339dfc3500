package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// verifiedAccessMax bounds the verified-token cache; a full cache is
// emptied and refilled rather than tracking recency, which costs one
// verification per token.
const verifiedAccessMax = 10_000

// verifiedAccess remembers access tokens whose signature, algorithm,
// issuer and key have been checked, so that a client that sends the same
// token with every request does not pay for its parsing each time: the
// base64 and JSON decoding of a token was a tenth of a records list's
// server time (BENCHMARKS.md, "the verified-token cache"). What a token
// says can never change (its signature covers it), but the time it is
// checked at does, so a hit checks the token's times again (expired).
//
// The cache is keyed by the SHA-256 of the token, so it holds no usable
// credential; only tokens this server signed can enter it, and a token
// that fails verification is never cached, so a client sending garbage
// pays a verification each time and adds nothing.
type verifiedAccess struct {
	mu      sync.RWMutex
	entries map[[sha256.Size]byte]*AccessClaims
}

// newVerifiedAccess returns an empty cache.
func newVerifiedAccess() *verifiedAccess {
	return &verifiedAccess{entries: make(map[[sha256.Size]byte]*AccessClaims)}
}

// lookup returns a copy of the claims of token when it was verified
// before, or nil.
func (v *verifiedAccess) lookup(key [sha256.Size]byte) *AccessClaims {
	v.mu.RLock()
	c, ok := v.entries[key]
	v.mu.RUnlock()
	if !ok {
		return nil
	}
	copied := *c
	return &copied
}

// store remembers claims, as verified, under key.
func (v *verifiedAccess) store(key [sha256.Size]byte, claims *AccessClaims) {
	copied := *claims
	v.mu.Lock()
	if len(v.entries) >= verifiedAccessMax {
		clear(v.entries)
	}
	v.entries[key] = &copied
	v.mu.Unlock()
}

// expired reports whether verified claims are outside their times at now,
// as the parser judges them: from expiry on (the claim is required), and
// before the issue or not-before time.
func expired(c *AccessClaims, now time.Time) bool {
	if c.ExpiresAt == nil || !now.Before(c.ExpiresAt.Time) {
		return true
	}
	if c.IssuedAt != nil && now.Before(c.IssuedAt.Time) {
		return true
	}
	return c.NotBefore != nil && now.Before(c.NotBefore.Time)
}
