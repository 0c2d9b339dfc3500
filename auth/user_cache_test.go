package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
)

// TestUserCacheServesChangesAtOnce: the cache hands out rows without their
// password hash, and a change this process writes applies to the very
// next lookup, though the clock stands still within the cache's bound.
func TestUserCacheServesChangesAtOnce(t *testing.T) {
	store, _ := testenv.OpenStore(t, sqlite.Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
	clock := testenv.NewClock(time.Date(2030, 1, 15, 9, 0, 0, 0, time.UTC))
	u := testenv.CreateStaff(t, store, "sam@example.org", "Quiet-Harbour-51", fastParams, clock.Now())
	cache := auth.NewUserCache(store, clock.Now)
	ctx := context.Background()

	row, err := cache.User(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if row.PasswordHash != "" || row.Email != u.Email || !row.IsActive {
		t.Fatalf("cached %s active %v with hash %q, want %s active without its hash", row.Email, row.IsActive, row.PasswordHash, u.Email)
	}
	changed := row.User
	changed.IsActive = false
	if err := store.Write(ctx, func(q db.Tx) error { return q.UpdateUser(ctx, changed) }); err != nil {
		t.Fatal(err)
	}
	if row, err = cache.User(ctx, u.ID); err != nil || row.IsActive {
		t.Fatalf("after deactivation: active %v, %v; want the change at once", row.IsActive, err)
	}
	if _, err := cache.User(ctx, "3f1c2d4e-0000-4000-8000-000000000009"); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("an unknown id: %v, want db.ErrNotFound", err)
	}
}
