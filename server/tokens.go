package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// tokenIssuer mints and checks access tokens and mints refresh tokens.
type tokenIssuer struct {
	// signing signs new access tokens; verifying holds every key by id.
	signing    auth.JWTKey
	verifying  map[string][]byte
	accessTTL  time.Duration
	refreshTTL time.Duration
	now        func() time.Time
}

// accessClaims are the claims of an access token. Version must equal the
// user's token version, which password changes bump.
type accessClaims struct {
	jwt.RegisteredClaims
	Version int64 `json:"ver"`
}

const tokenIssuerName = "anavara"

// newTokenIssuer signs with keys[0] and verifies with every key.
func newTokenIssuer(keys []auth.JWTKey, accessTTL, refreshTTL time.Duration, now func() time.Time) *tokenIssuer {
	t := &tokenIssuer{signing: keys[0], verifying: make(map[string][]byte, len(keys)),
		accessTTL: accessTTL, refreshTTL: refreshTTL, now: now}
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
func (t *tokenIssuer) verificationKey(token *jwt.Token) (any, error) {
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

// access mints an HS256 access token for u, signed with the signing key and
// naming it in its kid header.
func (t *tokenIssuer) access(u db.UserRow) (string, error) {
	now := t.now()
	claims := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    tokenIssuerName,
			Subject:   u.ID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.accessTTL)),
			ID:        uuid.NewString(),
		},
		Version: u.TokenVersion,
	}
	token := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	token.Header["kid"] = t.signing.ID
	signed, err := token.SignedString(t.signing.Secret)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return signed, nil
}

// parseAccess verifies an access token's signature (with the key its kid
// names), algorithm, issuer and expiry.
func (t *tokenIssuer) parseAccess(token string) (*accessClaims, error) {
	claims := &accessClaims{}
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
	return claims, nil
}

// refresh stores a new refresh token for userID in family (a new family when
// empty) and returns the opaque token and the id of its row.
func (t *tokenIssuer) refresh(ctx context.Context, q db.Tx, userID, family string) (token, id string, err error) {
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
		ID: id, UserID: userID, FamilyID: family, Hash: hashRefreshToken(token),
		Created: now, ExpiresAt: now.Add(t.refreshTTL),
	})
	if err != nil {
		return "", "", err
	}
	return token, id, nil
}

// pair mints an access token and a refresh token in family.
func (t *tokenIssuer) pair(ctx context.Context, q db.Tx, u db.UserRow, family string) (model.TokenPair, error) {
	pair, _, err := t.issue(ctx, q, u, family)
	return pair, err
}

// issue is pair that also returns the id of the refresh token's row, which a
// rotation records on the token it replaced.
func (t *tokenIssuer) issue(ctx context.Context, q db.Tx, u db.UserRow, family string) (model.TokenPair, string, error) {
	access, err := t.access(u)
	if err != nil {
		return model.TokenPair{}, "", err
	}
	refresh, id, err := t.refresh(ctx, q, u.ID, family)
	if err != nil {
		return model.TokenPair{}, "", err
	}
	return model.TokenPair{AccessToken: access, RefreshToken: refresh}, id, nil
}

// clientFingerprint is what a replay within the refresh grace window must
// share with the rotation it repeats: the SHA-256 of the client's address as
// the server sees it (the TCP peer; no forwarding header is trusted) and its
// User-Agent header, domain-separated. It is hashed so the token table keeps
// no addresses or agents in the clear, not to make it secret: anyone who
// knows both can compute it, which is why it is only one of the grace
// window's conditions (see refreshToken).
func clientFingerprint(ip, userAgent string) []byte {
	h := sha256.New()
	h.Write([]byte("anavara refresh fingerprint v1\x00"))
	h.Write([]byte(ip))
	h.Write([]byte{0})
	h.Write([]byte(userAgent))
	return h.Sum(nil)
}

// hashRefreshToken is how refresh tokens are stored. They carry 256 random
// bits, so a fast hash is enough to make a stolen table useless.
func hashRefreshToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// otpHasher keys reset-code hashes with a server secret: six digits have
// only a million values, so an unkeyed hash would not protect them. The
// key is derived from each JWT key: new codes are hashed with the signing
// key's, and a code is checked against every key's, so a code requested
// before a rotation still works after it as long as its key is still
// configured (codes live minutes; a rotation keeps the old key for at
// least an access-token lifetime). The other choice, a secret that never
// rotates, would be one more secret to share and could never be changed.
type otpHasher struct{ keys [][]byte }

func newOTPHasher(keys []auth.JWTKey) otpHasher {
	h := otpHasher{keys: make([][]byte, len(keys))}
	for i, k := range keys {
		m := hmac.New(sha256.New, k.Secret)
		m.Write([]byte("anavara otp key v1"))
		h.keys[i] = m.Sum(nil)
	}
	return h
}

// hash is the stored form of a new code, under the signing key.
func (h otpHasher) hash(userID, code string) []byte {
	return otpHash(h.keys[0], userID, code)
}

// matches reports whether stored is code's hash under any key, comparing
// in constant time against every one.
func (h otpHasher) matches(stored []byte, userID, code string) bool {
	ok := 0
	for _, k := range h.keys {
		ok |= subtle.ConstantTimeCompare(stored, otpHash(k, userID, code))
	}
	return ok == 1
}

func otpHash(key []byte, userID, code string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(userID))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return m.Sum(nil)
}
