package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// goMigrations are the migrations SQL alone cannot write: they need Go's
// Unicode case folding (db.Fold, db.SearchWords), which SQLite's lower()
// lacks, the audit chain's hash (migration 15), or the packed ids of the
// events (the audit index, migration 18); or they share their statements
// with the code (the search word counts, migration 19, which an import's
// Recount rebuilds the same way; the audit index's watermark, migration 21,
// whose Down indexes the events after it as the indexer does).
var goMigrations = []*goose.Migration{
	goose.NewGoMigration(10, &goose.GoFunc{RunTx: addFoldKeys}, &goose.GoFunc{RunTx: dropFoldKeys}),
	goose.NewGoMigration(13, &goose.GoFunc{RunTx: addRecordSearch}, &goose.GoFunc{RunTx: dropRecordSearch}),
	goose.NewGoMigration(15, &goose.GoFunc{RunTx: addAuditChain}, &goose.GoFunc{RunTx: dropAuditChain}),
	goose.NewGoMigration(18, &goose.GoFunc{RunTx: addAuditIndex}, &goose.GoFunc{RunTx: dropAuditIndex}),
	goose.NewGoMigration(19, &goose.GoFunc{RunTx: addSearchWordCounts}, &goose.GoFunc{RunTx: dropSearchWordCounts}),
	goose.NewGoMigration(20, &goose.GoFunc{RunTx: newestFirstRecordSearch}, &goose.GoFunc{RunTx: oldestFirstRecordSearch}),
	goose.NewGoMigration(21, &goose.GoFunc{RunTx: addAuditIndexThrough}, &goose.GoFunc{RunTx: dropAuditIndexThrough}),
}

// newProvider returns goose's provider of every embedded migration, SQL
// files and goMigrations, on conn.
func newProvider(conn *sql.DB) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, conn, fsys, goose.WithGoMigrations(goMigrations...))
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// migrate applies every pending migration.
func migrate(ctx context.Context, conn *sql.DB) error {
	p, err := newProvider(conn)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// Version returns the schema version the database is at.
func (d *Store) Version(ctx context.Context) (int64, error) {
	p, err := newProvider(d.writer)
	if err != nil {
		return 0, err
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}
