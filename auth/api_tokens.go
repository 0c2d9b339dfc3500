package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// Personal access tokens (API tokens): the credential of a script or a
// cron job. The secret is model.APITokenPrefix and 32 random bytes in
// unpadded base64url (256 bits); the database keeps only its SHA-256, so
// a stolen table holds nothing that authenticates. A secret is checked by
// looking its hash up: the index finds the row, and the hashes are then
// compared in constant time, so that nothing of the comparison's time
// depends on how much of a guess was right.

// apiSecretBytes is the randomness of a secret.
const apiSecretBytes = 32

// apiSecretLength is the length of a secret: the prefix and the unpadded
// base64url of apiSecretBytes.
var apiSecretLength = len(model.APITokenPrefix) + base64.RawURLEncoding.EncodedLen(apiSecretBytes)

// ErrBadAPIToken is a secret that authenticates nothing: malformed,
// unknown, revoked or expired. Callers answer all of them alike.
var ErrBadAPIToken = errors.New("invalid or expired api token")

// ErrTooManyAPITokens is a token the account may not have: it holds
// model.MaxLiveAPITokens tokens that are neither revoked nor expired.
var ErrTooManyAPITokens = errors.New("too many live api tokens")

// IsAPIToken reports whether a bearer credential is meant as an API token
// (it has the prefix), as opposed to a JWT access token.
func IsAPIToken(credential string) bool { return strings.HasPrefix(credential, model.APITokenPrefix) }

// HashAPIToken is how an API token's secret is stored. It carries 256
// random bits, so a fast hash is enough.
func HashAPIToken(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// newAPISecret returns a fresh secret.
func newAPISecret() (string, error) {
	raw := make([]byte, apiSecretBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("api token: %w", err)
	}
	return model.APITokenPrefix + base64.RawURLEncoding.EncodeToString(raw), nil
}

// APITokens issues and checks API tokens on the clock now.
type APITokens struct {
	now func() time.Time
}

// NewAPITokens returns API tokens on the clock now.
func NewAPITokens(now func() time.Time) *APITokens { return &APITokens{now: now} }

// Issue stores a new token of userID named name with scopes, lasting days
// days, in q, and returns its row and its secret, which exists nowhere
// else: the caller shows it once. name, scopes and days are validated by
// the caller (model.ValidateAPITokenName, ValidateScopes,
// ValidateAPITokenDays). ErrTooManyAPITokens when the account holds
// model.MaxLiveAPITokens live tokens already.
func (a *APITokens) Issue(ctx context.Context, q db.Tx, userID, name string, scopes []string, days int) (db.APITokenRow, string, error) {
	now := a.now().UTC().Truncate(time.Microsecond)
	// The account's row, read in q, is locked (on PostgreSQL) until q
	// ends: two tokens issued at once for one account are counted one
	// after the other, on every instance.
	if _, err := q.UserByID(ctx, userID); err != nil {
		return db.APITokenRow{}, "", fmt.Errorf("create api token: %w", err)
	}
	live, err := q.LiveAPITokens(ctx, userID, now)
	if err != nil {
		return db.APITokenRow{}, "", fmt.Errorf("create api token: %w", err)
	}
	if live >= model.MaxLiveAPITokens {
		return db.APITokenRow{}, "", ErrTooManyAPITokens
	}
	secret, err := newAPISecret()
	if err != nil {
		return db.APITokenRow{}, "", err
	}
	row := db.APITokenRow{
		APIToken: model.APIToken{ID: uuid.NewString(), Name: name, Scopes: scopes, Created: now,
			Expires: now.AddDate(0, 0, days)},
		UserID: userID, Hash: HashAPIToken(secret),
	}
	if err := q.CreateAPIToken(ctx, row); err != nil {
		return db.APITokenRow{}, "", fmt.Errorf("create api token: %w", err)
	}
	return row, secret, nil
}

// Check returns the token secret authenticates, or ErrBadAPIToken when it
// is malformed, unknown, revoked or expired. Whether its account may still
// sign in, and what it may do now, is the caller's to check.
func (a *APITokens) Check(ctx context.Context, r db.Reader, secret string) (db.APITokenRow, error) {
	if len(secret) != apiSecretLength || !IsAPIToken(secret) {
		return db.APITokenRow{}, ErrBadAPIToken
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(secret[len(model.APITokenPrefix):]); err != nil {
		return db.APITokenRow{}, ErrBadAPIToken
	}
	hash := HashAPIToken(secret)
	row, err := r.APITokenByHash(ctx, hash)
	if errors.Is(err, db.ErrNotFound) {
		return db.APITokenRow{}, ErrBadAPIToken
	}
	if err != nil {
		return db.APITokenRow{}, err
	}
	if subtle.ConstantTimeCompare(row.Hash, hash) != 1 || row.RevokedAt != nil || !a.now().Before(row.Expires) {
		return db.APITokenRow{}, ErrBadAPIToken
	}
	return row, nil
}

// NeedsTouch reports whether a use of row at now should be written as its
// LastUsed: when it was never used, or not in the last
// db.APITokenTouchInterval. Most uses of a busy token write nothing.
func NeedsTouch(row db.APITokenRow, now time.Time) bool {
	return row.LastUsed == nil || now.Sub(*row.LastUsed) >= db.APITokenTouchInterval
}
