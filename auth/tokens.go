package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// Tokens mints and checks access tokens and mints refresh tokens.
type Tokens struct {
	// signing signs new access tokens; verifying holds every key by id.
	signing    JWTKey
	verifying  map[string][]byte
	accessTTL  time.Duration
	refreshTTL time.Duration
	now        func() time.Time
	// verified remembers the tokens ParseAccess has verified.
	verified *verifiedAccess
}

// AccessClaims are the claims of an access token. Version must equal the
// user's token version, which password changes bump. Scope, when present,
// narrows the token to those scopes (space-separated, model.AllScopes);
// absent, the token is the full session of signing in.
type AccessClaims struct {
	jwt.RegisteredClaims
	Version int64  `json:"ver"`
	Scope   string `json:"scope,omitempty"`
}

// Scopes are the scopes a scoped token is narrowed to, nil for a full
// session.
func (c *AccessClaims) Scopes() []string {
	if c.Scope == "" {
		return nil
	}
	return strings.Fields(c.Scope)
}

// MaxScopedTTL is the longest a scoped access token may last: it is minted
// without a refresh token, for a script that asks again.
const MaxScopedTTL = time.Hour

// errBadScopes refuses to mint a scoped token of no scope, or of a scope
// that does not exist: absent, the scope claim would mean the full session.
var errBadScopes = errors.New("scoped access token: want known scopes, at least one")

const tokenIssuerName = "anavara"

// NewTokens signs with keys[0] and verifies with every key (checked by
// CheckJWTKeys), with access and refresh tokens lasting accessTTL and
// refreshTTL on the clock now.
func NewTokens(keys []JWTKey, accessTTL, refreshTTL time.Duration, now func() time.Time) *Tokens {
	t := &Tokens{signing: keys[0], verifying: make(map[string][]byte, len(keys)),
		accessTTL: accessTTL, refreshTTL: refreshTTL, now: now, verified: newVerifiedAccess()}
	for _, k := range keys {
		t.verifying[k.ID] = k.Secret
	}
	return t
}

// errNoKeyID and errUnknownKeyID refuse tokens that name no key, or one
// this server does not hold: no key is tried blindly.
var (
	errNoKeyID      = errors.New("access token without a key id")
	errUnknownKeyID = errors.New("access token signed with an unknown key")
)

// verificationKey is the key a token's kid header names.
func (t *Tokens) verificationKey(token *jwt.Token) (any, error) {
	kid, ok := token.Header["kid"].(string)
	if !ok || kid == "" {
		return nil, errNoKeyID
	}
	secret, ok := t.verifying[kid]
	if !ok {
		return nil, errUnknownKeyID
	}
	return secret, nil
}

// Access mints an HS256 access token for u, signed with the signing key and
// naming it in its kid header.
func (t *Tokens) Access(u db.UserRow) (string, error) {
	return t.sign(u, "", t.accessTTL)
}

// AccessScoped mints an access token for u that may do only what scopes
// allow (and never more than u may do when it is used), lasting ttl (at
// most MaxScopedTTL), with no refresh token: what a script gets that asks
// for a short-lived credential (the SSH token command). scopes must be
// known scopes, at least one.
func (t *Tokens) AccessScoped(u db.UserRow, scopes []string, ttl time.Duration) (string, error) {
	if len(scopes) == 0 {
		return "", errBadScopes
	}
	for _, s := range scopes {
		if !slices.Contains(model.AllScopes, s) {
			return "", errBadScopes
		}
	}
	if ttl <= 0 || ttl > MaxScopedTTL {
		return "", fmt.Errorf("scoped access token: lifetime %v is not within (0, %v]", ttl, MaxScopedTTL)
	}
	return t.sign(u, strings.Join(scopes, " "), ttl)
}

// sign mints an access token for u with scope (empty: the full session)
// lasting ttl.
func (t *Tokens) sign(u db.UserRow, scope string, ttl time.Duration) (string, error) {
	now := t.now()
	claims := AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    tokenIssuerName,
			Subject:   u.ID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID:        uuid.NewString(),
		},
		Version: u.TokenVersion,
		Scope:   scope,
	}
	token := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	token.Header["kid"] = t.signing.ID
	signed, err := token.SignedString(t.signing.Secret)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return signed, nil
}

// ParseAccess verifies an access token's signature (with the key its kid
// names), algorithm, issuer and expiry. A token verified before is not
// parsed again, but its times are checked again against the clock.
func (t *Tokens) ParseAccess(token string) (*AccessClaims, error) {
	key := sha256.Sum256([]byte(token))
	if claims := t.verified.lookup(key); claims != nil {
		if expired(claims, t.now()) {
			return nil, errExpiredAccess
		}
		return claims, nil
	}
	claims := &AccessClaims{}
	_, err := jwt.ParseWithClaims(token, claims, t.verificationKey,
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(tokenIssuerName),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil {
		return nil, err
	}
	if claims.Subject == "" {
		return nil, errors.New("access token without subject")
	}
	t.verified.store(key, claims)
	return claims, nil
}

// errExpiredAccess refuses a token verified before whose time is up (or
// not yet come, should the clock have stepped back).
var errExpiredAccess = errors.New("access token outside its validity times")

// Refresh stores a new refresh token for userID in family (a new family when
// empty) and returns the opaque token and the id of its row.
func (t *Tokens) Refresh(ctx context.Context, q db.Tx, userID, family string) (token, id string, err error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", "", fmt.Errorf("refresh token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(raw)
	if family == "" {
		family = uuid.NewString()
	}
	now := t.now()
	id = uuid.NewString()
	err = q.CreateRefreshToken(ctx, db.RefreshToken{
		ID: id, UserID: userID, FamilyID: family, Hash: HashRefreshToken(token),
		Created: now, ExpiresAt: now.Add(t.refreshTTL),
	})
	if err != nil {
		return "", "", err
	}
	return token, id, nil
}

// Pair mints an access token and a refresh token in family.
func (t *Tokens) Pair(ctx context.Context, q db.Tx, u db.UserRow, family string) (model.TokenPair, error) {
	pair, _, err := t.Issue(ctx, q, u, family)
	return pair, err
}

// Issue is Pair that also returns the id of the refresh token's row, which a
// rotation records on the token it replaced.
func (t *Tokens) Issue(ctx context.Context, q db.Tx, u db.UserRow, family string) (model.TokenPair, string, error) {
	access, err := t.Access(u)
	if err != nil {
		return model.TokenPair{}, "", err
	}
	refresh, id, err := t.Refresh(ctx, q, u.ID, family)
	if err != nil {
		return model.TokenPair{}, "", err
	}
	return model.TokenPair{AccessToken: access, RefreshToken: refresh}, id, nil
}

// ClientFingerprint is what a replay within the refresh grace window must
// share with the rotation it repeats: the SHA-256 of the client's address as
// the server sees it (the TCP peer; no forwarding header is trusted) and its
// User-Agent header, domain-separated. It is hashed so the token table keeps
// no addresses or agents in the clear, not to make it secret: anyone who
// knows both can compute it, which is why it is only one of the grace
// window's conditions (see server's refreshToken).
func ClientFingerprint(ip, userAgent string) []byte {
	h := sha256.New()
	h.Write([]byte("anavara refresh fingerprint v1\x00"))
	h.Write([]byte(ip))
	h.Write([]byte{0})
	h.Write([]byte(userAgent))
	return h.Sum(nil)
}

// HashRefreshToken is how refresh tokens are stored. They carry 256 random
// bits, so a fast hash is enough to make a stolen table useless.
func HashRefreshToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
