package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/model"
)

// tokenFixture is a store with a staff account, Sam, and API tokens on a
// test clock.
func tokenFixture(t *testing.T) (db.Store, *testenv.Clock, model.User, *auth.APITokens) {
	t.Helper()
	store, _ := testenv.OpenStore(t, sqlite.Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
	clock := testenv.NewClock(time.Date(2030, 1, 15, 9, 0, 0, 0, time.UTC))
	u := testenv.CreateStaff(t, store, "sam@example.org", "Quiet-Harbour-51", fastParams, clock.Now())
	tokens := auth.NewAPITokens(clock.Now)
	return store, clock, u, tokens
}

// TestAPITokensIssueAndCheck: a secret is anv_ and 256 random bits, the
// row holds its hash, not the secret, and Check accepts it until it is
// revoked or expires, and never a secret one character off.
func TestAPITokensIssueAndCheck(t *testing.T) {
	store, clock, u, tokens := tokenFixture(t)
	ctx := context.Background()
	var row db.APITokenRow
	var secret string
	err := store.Write(ctx, func(q db.Tx) (err error) {
		row, secret, err = tokens.Issue(ctx, q, u.ID, "cron", []string{model.ScopeRecordsRead}, 30)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "anv_") || len(secret) != 4+43 || strings.ContainsAny(secret, "=+/") {
		t.Fatalf("secret %q: want anv_ and 43 base64url characters", secret)
	}
	if !row.Expires.Equal(row.Created.AddDate(0, 0, 30)) {
		t.Errorf("expires %v; want 30 days on", row.Expires)
	}
	stored, err := store.Read().APITokenByHash(ctx, auth.HashAPIToken(secret))
	if err != nil || stored.ID != row.ID || strings.Contains(string(stored.Hash), secret) {
		t.Fatalf("stored %+v, %v", stored, err)
	}
	got, err := tokens.Check(ctx, store.Read(), secret)
	if err != nil || got.ID != row.ID || !slices.Equal(got.Scopes, []string{model.ScopeRecordsRead}) {
		t.Fatalf("Check = %+v, %v", got, err)
	}
	mid := len(secret) / 2
	other := byte('A')
	if secret[mid] == 'A' {
		other = 'B'
	}
	flipped := secret[:mid] + string(other) + secret[mid+1:]
	for _, bad := range []string{"", "anv_", secret + "A", flipped, "anv_" + strings.Repeat("!", 43), strings.Replace(secret, "anv_", "anx_", 1)} {
		if _, err := tokens.Check(ctx, store.Read(), bad); !errors.Is(err, auth.ErrBadAPIToken) {
			t.Errorf("Check(%q) = %v; want ErrBadAPIToken", bad, err)
		}
	}
	clock.Advance(30*24*time.Hour - time.Second)
	if _, err := tokens.Check(ctx, store.Read(), secret); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	clock.Advance(time.Second)
	if _, err := tokens.Check(ctx, store.Read(), secret); !errors.Is(err, auth.ErrBadAPIToken) {
		t.Fatalf("at expiry: %v; want ErrBadAPIToken", err)
	}
	clock.Advance(-time.Hour)
	if err := store.Write(ctx, func(q db.Tx) error { return q.RevokeAPIToken(ctx, u.ID, row.ID, clock.Now()) }); err != nil {
		t.Fatal(err)
	}
	if _, err := tokens.Check(ctx, store.Read(), secret); !errors.Is(err, auth.ErrBadAPIToken) {
		t.Fatalf("revoked: %v; want ErrBadAPIToken", err)
	}
}

// TestNeedsTouch: a use writes LastUsed when there is none or it is a
// minute old.
func TestNeedsTouch(t *testing.T) {
	now := time.Date(2030, 1, 15, 9, 0, 0, 0, time.UTC)
	row := db.APITokenRow{}
	if !auth.NeedsTouch(row, now) {
		t.Error("never used: no touch")
	}
	recent, old := now.Add(-59*time.Second), now.Add(-time.Minute)
	row.LastUsed = &recent
	if auth.NeedsTouch(row, now) {
		t.Error("used 59 s ago: touched")
	}
	row.LastUsed = &old
	if !auth.NeedsTouch(row, now) {
		t.Error("used a minute ago: no touch")
	}
}

// TestAccessScoped: a scoped token carries its scopes, a plain one none
// (the full session); no scoped token is minted of no scope, an unknown
// one, or too long a life.
func TestAccessScoped(t *testing.T) {
	clock := testenv.NewClock(time.Date(2030, 1, 15, 9, 0, 0, 0, time.UTC))
	u := db.UserRow{}
	u.ID, u.TokenVersion = "3f1c2d4e-0000-4000-8000-000000000001", 4
	tokens := auth.NewTokens([]auth.JWTKey{keyA}, 15*time.Minute, time.Hour, clock.Now)
	full, err := tokens.Access(u)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := tokens.ParseAccess(full)
	if err != nil || claims.Scopes() != nil || claims.Scope != "" {
		t.Fatalf("full session: scopes %v, %v; want none", claims.Scopes(), err)
	}
	scoped, err := tokens.AccessScoped(u, []string{model.ScopeRecordsRead, model.ScopeUsersRead}, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	claims, err = tokens.ParseAccess(scoped)
	if err != nil || !slices.Equal(claims.Scopes(), []string{model.ScopeRecordsRead, model.ScopeUsersRead}) || claims.Version != 4 {
		t.Fatalf("scoped: %+v, %v", claims, err)
	}
	if !claims.ExpiresAt.Equal(claims.IssuedAt.Add(5 * time.Minute)) {
		t.Errorf("scoped expires %v; want in 5 minutes", claims.ExpiresAt)
	}
	clock.Advance(5 * time.Minute)
	if _, err := tokens.ParseAccess(scoped); err == nil {
		t.Error("an expired scoped token verified")
	}
	for _, tc := range []struct {
		scopes []string
		ttl    time.Duration
	}{
		{nil, time.Minute},
		{[]string{}, time.Minute},
		{[]string{"records:delete"}, time.Minute},
		{[]string{""}, time.Minute},
		{[]string{model.ScopeRecordsRead}, 0},
		{[]string{model.ScopeRecordsRead}, auth.MaxScopedTTL + time.Second},
	} {
		if tok, err := tokens.AccessScoped(u, tc.scopes, tc.ttl); err == nil {
			t.Errorf("AccessScoped(%q, %v) = %q; want an error", tc.scopes, tc.ttl, tok)
		}
	}
}

// TestAPITokensIssueCountsOneAfterTheOther: with 99 live tokens, a second
// Issue while a first one's transaction has counted and inserted but not
// committed must wait for that commit (the account's row is locked on
// PostgreSQL; SQLite has one writer) and then count 100: the limit holds
// against concurrent creations, on every instance. Without the lock the
// second counts 99 and makes the account's 101st.
func TestAPITokensIssueCountsOneAfterTheOther(t *testing.T) {
	store, clock, u, tokens := tokenFixture(t)
	ctx := context.Background()
	issue := func(q db.Tx) error {
		_, _, err := tokens.Issue(ctx, q, u.ID, "run", []string{model.ScopeRecordsRead}, 30)
		return err
	}
	if err := store.Write(ctx, func(q db.Tx) error {
		for range model.MaxLiveAPITokens - 1 {
			if err := issue(q); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	issued, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- store.Write(ctx, func(q db.Tx) error {
			if err := issue(q); err != nil {
				return err
			}
			close(issued)
			<-release
			return nil
		})
	}()
	<-issued
	second := make(chan error, 1)
	go func() { second <- store.Write(ctx, issue) }()
	// Long enough for the second to count and insert, had it not waited.
	time.Sleep(300 * time.Millisecond)
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first Issue: %v", err)
	}
	if err := <-second; !errors.Is(err, auth.ErrTooManyAPITokens) {
		t.Fatalf("second Issue: %v; want ErrTooManyAPITokens", err)
	}
	if n, err := store.Read().LiveAPITokens(ctx, u.ID, clock.Now()); err != nil || n != model.MaxLiveAPITokens {
		t.Fatalf("live tokens: %d, %v; want %d", n, err, model.MaxLiveAPITokens)
	}
}
