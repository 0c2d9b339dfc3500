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
// empty) and returns the opaque token.
func (t *tokenIssuer) refresh(ctx context.Context, q *db.Queries, userID, family string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("refresh token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	if family == "" {
		family = uuid.NewString()
	}
	now := t.now()
	err := q.CreateRefreshToken(ctx, db.RefreshToken{
		ID: uuid.NewString(), UserID: userID, FamilyID: family, Hash: hashRefreshToken(token),
		Created: now, ExpiresAt: now.Add(t.refreshTTL),
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// pair mints an access token and a refresh token in family.
func (t *tokenIssuer) pair(ctx context.Context, q *db.Queries, u db.UserRow, family string) (model.TokenPair, error) {
	access, err := t.access(u)
	if err != nil {
		return model.TokenPair{}, err
	}
	refresh, err := t.refresh(ctx, q, u.ID, family)
	if err != nil {
		return model.TokenPair{}, err
	}
	return model.TokenPair{AccessToken: access, RefreshToken: refresh}, nil
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
