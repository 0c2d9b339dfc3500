package testenv

import (
	"context"
	"os"
	"testing"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/engines"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/postgres/pgtest"
	"github.com/anavara/anavara/db/sqlite"
)

// OnPostgres reports whether this test run is on PostgreSQL: with
// ANAVARA_TEST_DATABASE set, the harnesses that open a store through
// OpenStore open a fresh PostgreSQL database instead of SQLite, so the
// same API, SSH and CLI tests hold both engines to the same answers.
func OnPostgres() bool { return os.Getenv(pgtest.EnvVar) != "" }

// SQLiteOnly skips tb on a PostgreSQL run: what it tests is SQLite's own
// (its files, locks, pragmas or disk), and it ran on the SQLite run.
func SQLiteOnly(tb testing.TB, why string) {
	tb.Helper()
	if OnPostgres() {
		tb.Skip("SQLite only: " + why)
	}
}

// OpenStore opens the store a test runs on and closes it when tb ends: on
// a PostgreSQL run a fresh database (opts are SQLite's and ignored, except
// HealthInterval), otherwise SQLite with opts. The target names it, for a
// second process's connection (OpenAgain).
func OpenStore(tb testing.TB, opts sqlite.Options) (db.Store, engines.Target) {
	tb.Helper()
	t := engines.Target{Engine: engines.SQLite, Path: opts.Path}
	if OnPostgres() {
		t = engines.Target{Engine: engines.Postgres, URL: pgtest.URL(tb)}
	}
	store, err := open(t, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	return store, t
}

// OpenAgain opens a second store on the database t names, as another
// process would, and closes it when tb ends.
func OpenAgain(tb testing.TB, t engines.Target) db.Store {
	tb.Helper()
	store, err := open(t, sqlite.Options{Path: t.Path})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	return store
}

func open(t engines.Target, opts sqlite.Options) (db.Store, error) {
	ctx := context.Background()
	if t.Engine == engines.Postgres {
		return postgres.Open(ctx, postgres.Options{URL: t.URL, HealthInterval: opts.HealthInterval})
	}
	opts.Path = t.Path
	return sqlite.Open(ctx, opts)
}

// DatabaseURL returns what --database (ANAVARA_DATABASE) should be for a
// process a test starts: a fresh PostgreSQL database on a PostgreSQL run,
// "" (SQLite in the data directory) otherwise.
func DatabaseURL(tb testing.TB) string {
	tb.Helper()
	if !OnPostgres() {
		return ""
	}
	return pgtest.URL(tb)
}
