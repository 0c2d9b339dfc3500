package auth

import (
	"bytes"
	"testing"
	"time"

	"github.com/anavara/anavara/db"
)

// TestVerifiedAccessIsBounded: however many distinct tokens are verified,
// the cache holds at most verifiedAccessMax, and a token dropped from it
// still verifies (afresh).
func TestVerifiedAccessIsBounded(t *testing.T) {
	now := time.Date(2030, 1, 15, 9, 0, 0, 0, time.UTC)
	tokens := NewTokens([]JWTKey{{ID: "a", Secret: bytes.Repeat([]byte("A"), 32)}}, time.Minute, time.Hour,
		func() time.Time { return now })
	u := db.UserRow{}
	u.ID = "3f1c2d4e-0000-4000-8000-000000000003"
	var first string
	for i := range verifiedAccessMax + 10 {
		token, err := tokens.Access(u) // each has its own jti
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = token
		}
		if _, err := tokens.ParseAccess(token); err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
		if n := len(tokens.verified.entries); n > verifiedAccessMax {
			t.Fatalf("%d tokens cached, want at most %d", n, verifiedAccessMax)
		}
	}
	if _, err := tokens.ParseAccess(first); err != nil {
		t.Fatalf("the first token, no longer cached: %v", err)
	}
}
