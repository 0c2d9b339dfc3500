package auth_test

import (
	"testing"
	"time"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
)

// BenchmarkParseAccess measures checking an access token: the first time
// (verified: signature, claims, JSON) and again (from the verified-token
// cache, its times checked).
//
//	go test -run '^$' -bench ParseAccess ./auth/
func BenchmarkParseAccess(b *testing.B) {
	now := time.Date(2030, 1, 15, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	u := db.UserRow{}
	u.ID, u.TokenVersion = "3f1c2d4e-0000-4000-8000-000000000004", 3
	minter := auth.NewTokens([]auth.JWTKey{keyA}, time.Minute, time.Hour, clock)
	pool := make([]string, 1024)
	for i := range pool {
		t, err := minter.Access(u)
		if err != nil {
			b.Fatal(err)
		}
		pool[i] = t
	}
	b.Run("first", func(b *testing.B) {
		b.ReportAllocs()
		var tokens *auth.Tokens
		i := 0
		for b.Loop() {
			if i%len(pool) == 0 {
				// A new cache, so that every token is new to it.
				tokens = auth.NewTokens([]auth.JWTKey{keyA}, time.Minute, time.Hour, clock)
			}
			if _, err := tokens.ParseAccess(pool[i%len(pool)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("again", func(b *testing.B) {
		b.ReportAllocs()
		tokens := auth.NewTokens([]auth.JWTKey{keyA}, time.Minute, time.Hour, clock)
		if _, err := tokens.ParseAccess(pool[0]); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := tokens.ParseAccess(pool[0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
