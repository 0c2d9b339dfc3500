package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// tokenIssuer mints and checks access tokens and mints refresh tokens.
type tokenIssuer struct {
	secret     []byte
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

// access mints an HS256 access token for u.
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
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return signed, nil
}

// parseAccess verifies an access token's signature, algorithm, issuer and
// expiry.
func (t *tokenIssuer) parseAccess(token string) (*accessClaims, error) {
	claims := &accessClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return t.secret, nil },
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
// only a million values, so an unkeyed hash would not protect them.
type otpHasher struct{ key []byte }

func newOTPHasher(secret []byte) otpHasher {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("anavara otp key v1"))
	return otpHasher{key: m.Sum(nil)}
}

func (h otpHasher) hash(userID, code string) []byte {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(userID))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return m.Sum(nil)
}
