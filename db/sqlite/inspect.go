package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/pressly/goose/v3"
)

// ErrNotAnavaraDatabase means a file is not a sound Anavara database: not
// SQLite at all, damaged, or without Anavara's schema.
var ErrNotAnavaraDatabase = errors.New("not a valid Anavara database")

// FileInfo describes a database file that Inspect found sound.
type FileInfo struct {
	// SchemaVersion is the highest migration applied to the file.
	SchemaVersion int64
	// LatestVersion is the highest migration this binary carries; a file
	// below it is migrated when the server next opens it.
	LatestVersion int64
}

// sqliteHeader starts every SQLite 3 database file.
const sqliteHeader = "SQLite format 3\x00"

// Inspect checks, without changing it, that the file at path is a sound
// Anavara database: a SQLite file that passes PRAGMA integrity_check and
// foreign_key_check, holds Anavara's tables and a goose schema version this
// binary can run. Errors for unsound files wrap ErrNotAnavaraDatabase. The
// file must not be in use: it is opened immutable, so a write-ahead log
// beside it would be ignored, and Inspect refuses such a file.
func Inspect(ctx context.Context, path string) (FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileInfo{}, err
	}
	header := make([]byte, len(sqliteHeader))
	_, err = io.ReadFull(f, header)
	f.Close()
	if err != nil || !bytes.Equal(header, []byte(sqliteHeader)) {
		return FileInfo{}, fmt.Errorf("%s: %w: it is not a SQLite database", path, ErrNotAnavaraDatabase)
	}
	if info, err := os.Stat(path + "-wal"); err == nil && info.Size() > 0 {
		return FileInfo{}, fmt.Errorf("%s: %w: a write-ahead log (%s-wal) lies beside it, so the file alone may miss recent writes; make copies with `anavara backup`",
			path, ErrNotAnavaraDatabase, path)
	}
	conn, err := sql.Open("sqlite3", "file:"+escapeURIPath(path)+"?mode=ro&immutable=1")
	if err != nil {
		return FileInfo{}, fmt.Errorf("open %s: %w", path, err)
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)

	rows, err := conn.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return FileInfo{}, fmt.Errorf("%s: %w: integrity check: %v", path, ErrNotAnavaraDatabase, err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return FileInfo{}, fmt.Errorf("%s: integrity check: %w", path, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return FileInfo{}, fmt.Errorf("%s: %w: integrity check: %v", path, ErrNotAnavaraDatabase, err)
	}
	if len(problems) > 0 {
		if len(problems) > 3 {
			problems = append(problems[:3], "…")
		}
		return FileInfo{}, fmt.Errorf("%s: %w: integrity check failed: %s", path, ErrNotAnavaraDatabase, strings.Join(problems, "; "))
	}
	var violations int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM pragma_foreign_key_check").Scan(&violations); err != nil {
		return FileInfo{}, fmt.Errorf("%s: foreign key check: %w", path, err)
	}
	if violations > 0 {
		return FileInfo{}, fmt.Errorf("%s: %w: %d rows break foreign keys", path, ErrNotAnavaraDatabase, violations)
	}

	for _, table := range []string{goose.DefaultTablename, "users", "medical_records", "audit_events"} {
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", table).Scan(&n); err != nil {
			return FileInfo{}, fmt.Errorf("%s: read schema: %w", path, err)
		}
		if n == 0 {
			return FileInfo{}, fmt.Errorf("%s: %w: it has no %s table", path, ErrNotAnavaraDatabase, table)
		}
	}
	var info FileInfo
	if err := conn.QueryRowContext(ctx, "SELECT coalesce(max(version_id), 0) FROM "+goose.DefaultTablename+" WHERE is_applied").Scan(&info.SchemaVersion); err != nil {
		return FileInfo{}, fmt.Errorf("%s: schema version: %w", path, err)
	}
	if info.LatestVersion, err = LatestVersion(); err != nil {
		return FileInfo{}, err
	}
	if info.SchemaVersion < 1 {
		return FileInfo{}, fmt.Errorf("%s: %w: no migration was ever applied to it", path, ErrNotAnavaraDatabase)
	}
	if info.SchemaVersion > info.LatestVersion {
		return info, fmt.Errorf("%s is at schema version %d, newer than this anavara knows (%d): use a newer anavara binary",
			path, info.SchemaVersion, info.LatestVersion)
	}
	return info, nil
}

// LatestVersion is the highest schema version among the embedded
// migrations.
func LatestVersion() (int64, error) {
	var latest int64
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	for _, name := range names {
		v, err := goose.NumericComponent(name)
		if err != nil {
			return 0, fmt.Errorf("migration %s: %w", name, err)
		}
		latest = max(latest, v)
	}
	for _, m := range goMigrations {
		latest = max(latest, m.Version)
	}
	return latest, nil
}

// escapeURIPath escapes the characters that end or alter the path part of
// a SQLite URI filename.
func escapeURIPath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}
