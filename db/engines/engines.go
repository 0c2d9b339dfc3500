// Package engines opens a db.Store from the --database setting: SQLite,
// embedded and the default, or PostgreSQL. It is the one place that knows
// every engine; the server and the commands see only db.Store.
package engines

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/sqlite"
)

// The engines a Target names.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Accepted describes the forms of the --database setting, for errors and
// help texts.
const Accepted = `empty (SQLite at <data-dir>/anavara.db), sqlite:PATH, or postgres://user:password@host:5432/dbname?sslmode=… (postgresql:// too)`

// Target is a parsed --database setting.
type Target struct {
	// Engine is SQLite or Postgres.
	Engine string
	// Path is the SQLite database file.
	Path string
	// URL is the PostgreSQL connection string, password included: never
	// log it (String redacts it).
	URL string
}

// Parse reads setting, the --database value, with dataDir giving the
// default SQLite file.
func Parse(setting, dataDir string) (Target, error) {
	switch {
	case setting == "":
		return Target{Engine: SQLite, Path: filepath.Join(dataDir, "anavara.db")}, nil
	case strings.HasPrefix(setting, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(setting, "sqlite:"), "//")
		if path == "" {
			return Target{}, errors.New("--database: sqlite: needs a file path, e.g. sqlite:/var/lib/anavara/anavara.db")
		}
		return Target{Engine: SQLite, Path: path}, nil
	case strings.HasPrefix(setting, "postgres://"), strings.HasPrefix(setting, "postgresql://"):
		return Target{Engine: Postgres, URL: setting}, nil
	}
	// Not echoed: a mistyped URL may still hold a password.
	return Target{}, fmt.Errorf("--database: not a database this version can open; accepted: %s", Accepted)
}

// String names the target for logs and messages, without a password.
func (t Target) String() string {
	if t.Engine == Postgres {
		return postgres.Redact(t.URL)
	}
	return t.Path
}

// Options configure Open beyond the target.
type Options struct {
	// Synchronous is SQLite's synchronous mode (FULL or NORMAL); PostgreSQL
	// has its own synchronous_commit, set on the server or the role.
	Synchronous string
	// SkipMigrations opens the database as it is.
	SkipMigrations bool
	// Logger receives what the engine finds wrong in the background (on
	// PostgreSQL, a listener that hears no announcements); nil discards it.
	Logger *slog.Logger
}

// Open opens the store t names, applying pending migrations unless
// opts.SkipMigrations. A SQLite target's directory is created if needed,
// readable by its owner only.
func Open(ctx context.Context, t Target, opts Options) (db.Store, error) {
	// Checked whatever the engine, so a script's mistake shows the same
	// way on both; PostgreSQL then ignores it.
	switch strings.ToUpper(opts.Synchronous) {
	case "", "FULL", "NORMAL", "EXTRA":
	default:
		return nil, fmt.Errorf("open database: synchronous must be FULL, NORMAL or EXTRA, not %q", opts.Synchronous)
	}
	switch t.Engine {
	case SQLite:
		if err := os.MkdirAll(filepath.Dir(t.Path), 0o700); err != nil {
			return nil, fmt.Errorf("database directory: %w", err)
		}
		return sqlite.Open(ctx, sqlite.Options{Path: t.Path, Synchronous: opts.Synchronous, SkipMigrations: opts.SkipMigrations})
	case Postgres:
		return postgres.Open(ctx, postgres.Options{URL: t.URL, SkipMigrations: opts.SkipMigrations, Logger: opts.Logger})
	}
	return nil, fmt.Errorf("open database: unknown engine %q", t.Engine)
}
