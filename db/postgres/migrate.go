package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the embedded migration files, named NNNNN_name.sql:
// for tools (and pgtest) that need to know the schema the binary expects.
func Migrations() fs.FS {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the directory is embedded: it exists
	}
	return fsys
}

// goMigrations are the migrations SQL alone cannot write: the audit
// chain's hash is Go's (package audit/chain), one encoding for both
// engines; the records search index's rebuild logs a line first.
var goMigrations = []*goose.Migration{
	goose.NewGoMigration(8, &goose.GoFunc{RunTx: linkAuditChain}, &goose.GoFunc{RunTx: unlinkAuditChain}),
	goose.NewGoMigration(13, &goose.GoFunc{RunTx: addSearchPairs}, &goose.GoFunc{RunTx: dropSearchPairs}),
}

// GoMigrations are the migrations written in Go, beside the embedded SQL
// files (Migrations): for tools that run goose themselves
// (goose.WithGoMigrations), or count or hash the schema's migrations.
func GoMigrations() []*goose.Migration { return slices.Clone(goMigrations) }

// GoMigrationsSQL is the SQL text the Go migrations run as it stands (the
// records search function's bodies and index), for tools that fingerprint the
// schema the migrations make, such as pgtest's template database: a
// change to it changes the schema under the same migration versions.
func GoMigrationsSQL() []string {
	return []string{searchLexemesWithPairsSQL, searchLexemesSQL, createSearchIndexSQL, createSearchIndexWithPairsSQL}
}

// LatestVersion is the schema version the embedded migrations lead to: the
// version Open leaves a database at.
func LatestVersion() int64 {
	names, err := fs.Glob(Migrations(), "*.sql")
	if err != nil {
		panic(err) // the pattern is valid
	}
	var latest int64
	for _, name := range names {
		if v, err := goose.NumericComponent(path.Base(name)); err == nil && v > latest {
			latest = v
		}
	}
	for _, m := range goMigrations {
		latest = max(latest, m.Version)
	}
	return latest
}

// migrationLockPoll is how often a process waiting for another's
// migrations asks for the lock again (in seconds, goose's unit; 1 is its
// least), and migrationLockTries how often before it gives up: five
// minutes in all.
const (
	migrationLockPoll  = 1
	migrationLockTries = 300
)

// newProvider returns a goose provider for the embedded migrations on
// pool, and a function that releases what it holds. It reaches the pool
// through database/sql, goose's interface, which hands connections back to
// the pool rather than keeping its own.
func newProvider(pool *pgxpool.Pool, opts ...goose.ProviderOption) (*goose.Provider, func(), error) {
	sqlDB := stdlib.OpenDBFromPool(pool)
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, Migrations(), append(opts, goose.WithGoMigrations(goMigrations...))...)
	if err != nil {
		sqlDB.Close()
		return nil, nil, fmt.Errorf("migrations: %w", err)
	}
	return p, func() { sqlDB.Close() }, nil
}

// migrate applies every pending migration. It runs under a session-level
// advisory lock (goose's Postgres session locker), so when several
// processes start against one database together, one applies the pending
// migrations while the others wait for it, then find nothing left to do.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(migrationLockPoll, migrationLockTries))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	p, release, err := newProvider(pool, goose.WithSessionLocker(locker))
	if err != nil {
		return err
	}
	defer release()
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// Version returns the schema version the database is at.
func (s *Store) Version(ctx context.Context) (int64, error) {
	p, release, err := newProvider(s.pool)
	if err != nil {
		return 0, err
	}
	defer release()
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}
