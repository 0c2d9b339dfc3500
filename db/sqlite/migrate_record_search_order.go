package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
)

// createNewestFirstRecordSearchSQL creates the records search index as
// migration 20 makes it: createRecordSearchSQL's, its doclists in
// descending docid order (FTS4's order=desc). Docids are rowids, which
// grow as records are created, so the lists' own order is the default
// ordering's (-created): FTS4 then reads a whole word's list as far as a
// page needs, newest first, where an ascending list had to be decoded
// whole and reversed for the same page (BENCHMARKS.md, "Issue 14, session
// 16"). A page in the opposite order pays that instead. matchinfo=fts3
// drops the table of each record's word counts (%_docsize), which only
// matchinfo()'s ranking reads and nothing here asks for, as audit_index
// does: one page less for every record write to copy, log and sync.
const createNewestFirstRecordSearchSQL = `CREATE VIRTUAL TABLE record_search USING fts4(
	content="medical_records", search_words, tokenize=unicode61 "remove_diacritics=2", order=desc, matchinfo=fts3)`

// newestFirstRecordSearch is migration 20: the records search index
// rebuilt newest first, without %_docsize.
func newestFirstRecordSearch(ctx context.Context, tx *sql.Tx) error {
	return rebuildRecordSearch(ctx, tx, createNewestFirstRecordSearchSQL, "migration 20: rebuilding the records search index newest first")
}

// oldestFirstRecordSearch undoes migration 20.
func oldestFirstRecordSearch(ctx context.Context, tx *sql.Tx) error {
	return rebuildRecordSearch(ctx, tx, createRecordSearchSQL, "undoing migration 20: rebuilding the records search index oldest first")
}

// rebuildRecordSearch replaces the records search index with the one
// create makes, built from every record's search_words and merged into
// one segment, as a copy leaves it (copy.go). It logs one line first when
// the records are many: about 3 s at a million records (BENCHMARKS.md).
func rebuildRecordSearch(ctx context.Context, tx *sql.Tx, create, doing string) error {
	var records int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM medical_records`).Scan(&records); err != nil {
		return fmt.Errorf("record search: %w", err)
	}
	if records > searchProgressEvery {
		slog.InfoContext(ctx, doing, "records", records)
	}
	for _, stmt := range []string{
		`DROP TABLE record_search`,
		create,
		`INSERT INTO record_search (record_search) VALUES ('rebuild')`,
		`INSERT INTO record_search (record_search) VALUES ('optimize')`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("record search: %w", err)
		}
	}
	return nil
}
