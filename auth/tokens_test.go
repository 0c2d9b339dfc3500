package auth_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/password"
)

// Keys for the rotation tests: A is the old key, B the new one.
var (
	keyA = auth.JWTKey{ID: "a", Secret: bytes.Repeat([]byte("A"), 32)}
	keyB = auth.JWTKey{ID: "b", Secret: bytes.Repeat([]byte("B"), 32)}
)

// TestAccessTokensVerifyByKeyID: a token verifies with any configured key
// its kid names, and not once that key is gone or the token expired.
func TestAccessTokensVerifyByKeyID(t *testing.T) {
	clock := testenv.NewClock(time.Date(2030, 1, 15, 9, 0, 0, 0, time.UTC))
	u := db.UserRow{}
	u.ID, u.TokenVersion = "3f1c2d4e-0000-4000-8000-000000000001", 4
	old := auth.NewTokens([]auth.JWTKey{keyA}, time.Minute, time.Hour, clock.Now)
	token, err := old.Access(u)
	if err != nil {
		t.Fatal(err)
	}
	rotated := auth.NewTokens([]auth.JWTKey{keyB, keyA}, time.Minute, time.Hour, clock.Now)
	claims, err := rotated.ParseAccess(token)
	if err != nil {
		t.Fatalf("a token of the old key after the rotation: %v", err)
	}
	if claims.Subject != u.ID || claims.Version != u.TokenVersion {
		t.Fatalf("claims %q version %d, want %q version %d", claims.Subject, claims.Version, u.ID, u.TokenVersion)
	}
	if _, err := auth.NewTokens([]auth.JWTKey{keyB}, time.Minute, time.Hour, clock.Now).ParseAccess(token); err == nil {
		t.Fatal("a token of a removed key verified")
	}
	clock.Advance(time.Minute)
	if _, err := rotated.ParseAccess(token); err == nil {
		t.Fatal("an expired token verified")
	}
}

// TestRefreshTokensAreStoredHashed: the stored row holds the token's hash,
// in the family asked for, expiring after the refresh lifetime.
func TestRefreshTokensAreStoredHashed(t *testing.T) {
	store, _ := testenv.OpenStore(t, sqlite.Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
	now := time.Date(2030, 1, 15, 9, 0, 0, 0, time.UTC)
	u := testenv.CreateStaff(t, store, "sam@example.org", "Quiet-Harbour-51", fastParams, now)
	tokens := auth.NewTokens([]auth.JWTKey{keyA}, time.Minute, time.Hour, func() time.Time { return now })
	ctx := context.Background()
	var token, id string
	err := store.Write(ctx, func(q db.Tx) error {
		var err error
		token, id, err = tokens.Refresh(ctx, q, u.ID, "")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = store.Write(ctx, func(q db.Tx) error {
		row, err := q.RefreshTokenByHash(ctx, auth.HashRefreshToken(token))
		if err != nil {
			return err
		}
		if row.ID != id || row.UserID != u.ID || row.FamilyID == "" || !row.ExpiresAt.Equal(now.Add(time.Hour)) {
			t.Errorf("stored %+v, want id %s of user %s in a family, expiring %v", row, id, u.ID, now.Add(time.Hour))
		}
		if _, err := q.RefreshTokenByHash(ctx, []byte(token)); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("the token in the clear found a row: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOTPHashesSurviveARotation: a code hashed under the signing key
// matches while that key is configured, under any position, and not after.
func TestOTPHashesSurviveARotation(t *testing.T) {
	code, err := auth.NewOTPCode()
	if err != nil {
		t.Fatal(err)
	}
	if len(code) != 6 {
		t.Fatalf("code %q is not six digits", code)
	}
	stored := auth.NewOTPHasher([]auth.JWTKey{keyA}).Hash("user-1", code)
	if !auth.NewOTPHasher([]auth.JWTKey{keyB, keyA}).Matches(stored, "user-1", code) {
		t.Fatal("the code stopped matching after the rotation")
	}
	if auth.NewOTPHasher([]auth.JWTKey{keyB, keyA}).Matches(stored, "user-2", code) {
		t.Fatal("the code matched for another user")
	}
	if auth.NewOTPHasher([]auth.JWTKey{keyB}).Matches(stored, "user-1", code) {
		t.Fatal("the code matched once its key was removed")
	}
}

// fastParams keep the tests' password hashes cheap.
var fastParams = password.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// TestVerifiedAccessTokensAreCheckedAgain: a token verified once is not
// parsed again, but each use still checks its times, a copy of its claims
// is what callers get, and a token altered in any byte is verified afresh
// (and refused).
func TestVerifiedAccessTokensAreCheckedAgain(t *testing.T) {
	clock := testenv.NewClock(time.Date(2030, 1, 15, 9, 0, 0, 0, time.UTC))
	u := db.UserRow{}
	u.ID, u.TokenVersion = "3f1c2d4e-0000-4000-8000-000000000002", 7
	tokens := auth.NewTokens([]auth.JWTKey{keyA}, time.Minute, time.Hour, clock.Now)
	token, err := tokens.Access(u)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		claims, err := tokens.ParseAccess(token)
		if err != nil {
			t.Fatalf("use %d: %v", i+1, err)
		}
		if claims.Subject != u.ID || claims.Version != u.TokenVersion {
			t.Fatalf("use %d: claims %q version %d, want %q version %d", i+1, claims.Subject, claims.Version, u.ID, u.TokenVersion)
		}
		// A caller that changes what it was given changes nothing
		// another caller gets.
		claims.Subject, claims.Version = "someone-else", 99
	}
	for _, tampered := range []string{token[:len(token)-1] + flip(token[len(token)-1]), flip(token[0]) + token[1:], token + "A"} {
		if _, err := tokens.ParseAccess(tampered); err == nil {
			t.Fatalf("a token altered from a verified one verified: %q", tampered)
		}
	}
	clock.Advance(-time.Hour)
	if _, err := tokens.ParseAccess(token); err == nil {
		t.Fatal("a verified token was taken before its issue time (the clock stepped back)")
	}
	clock.Advance(time.Hour + 59*time.Second)
	if _, err := tokens.ParseAccess(token); err != nil {
		t.Fatalf("a second before its expiry: %v", err)
	}
	clock.Advance(time.Second)
	if _, err := tokens.ParseAccess(token); err == nil {
		t.Fatal("a verified token was taken at its expiry")
	}
}

// flip returns c as another base64url character whose value differs in
// a high bit: the last character of a signature also holds bits that
// decoding drops, which a change of the lowest bit would only touch.
func flip(c byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, c)
	return string(alphabet[(i+16)%64])
}
