package metrics_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/postgres/pgtest"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/metrics"
	"github.com/anavara/anavara/model"
)

// On PostgreSQL the listener for changes to users is exported from the real
// store: connected, and counting what it hears of another store's change.
// On SQLite, which has no listener, the metrics are absent.
func TestUsersListenerMetrics(t *testing.T) {
	store, target := testenv.OpenStore(t, sqlite.Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
	reg := prometheus.NewRegistry()
	if _, err := metrics.New(reg, metrics.Options{DB: store}); err != nil {
		t.Fatal(err)
	}
	const connected = "anavara_db_users_listener_connected"
	const heard = "anavara_db_users_notifications_total"
	const reconnects = "anavara_db_users_listener_reconnects_total"
	const unacked = "anavara_db_users_announcements_unacknowledged_total"
	if !testenv.OnPostgres() {
		fams := gather(t, reg)
		for _, name := range []string{connected, heard, reconnects, unacked} {
			if _, ok := fams[name]; ok {
				t.Errorf("%s exported on SQLite, which has no listener", name)
			}
		}
		return
	}
	fams := gather(t, reg)
	if g := find(t, fams, connected, nil).GetGauge().GetValue(); g != 1 {
		t.Errorf("%s = %v, want 1", connected, g)
	}
	if c := find(t, fams, heard, nil).GetCounter().GetValue(); c != 0 {
		t.Errorf("%s = %v before any change, want 0", heard, c)
	}
	if c := find(t, fams, reconnects, nil).GetCounter().GetValue(); c != 0 {
		t.Errorf("%s = %v, want 0", reconnects, c)
	}
	if c := find(t, fams, unacked, nil).GetCounter().GetValue(); c != 0 {
		t.Errorf("%s = %v, want 0", unacked, c)
	}

	other := testenv.OpenAgain(t, target)
	ctx := context.Background()
	u := db.UserRow{User: model.User{ID: uuid.NewString(), Email: "ada@example.org", IsActive: true}, PasswordHash: "hash"}
	v, _ := store.UsersVersion()
	if err := other.Write(ctx, func(tx db.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return tx.InvalidateAccessTokens(ctx, u.ID)
	}); err != nil {
		t.Fatal(err)
	}
	pgtest.WaitUsersVersion(t, store, "the store to hear of the change", func(got uint64, _ bool) bool { return got != v })
	if c := find(t, gather(t, reg), heard, nil).GetCounter().GetValue(); c != 1 {
		t.Errorf("%s = %v after one change, want 1", heard, c)
	}
}
