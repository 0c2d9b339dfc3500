package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
)

// addSearchWordCounts is migration 19: search_word_counts
// (search_word_counts.go), filled from the records' words.
func addSearchWordCounts(ctx context.Context, tx *sql.Tx) error {
	var records int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM medical_records`).Scan(&records); err != nil {
		return fmt.Errorf("search word counts: %w", err)
	}
	if records > searchProgressEvery {
		// One statement, so one line before it: about 5 s a million.
		slog.InfoContext(ctx, "migration 19: counting the search words of every record", "records", records)
	}
	_, err := tx.ExecContext(ctx, `CREATE TABLE search_word_counts (
		word TEXT PRIMARY KEY,
		records INTEGER NOT NULL CHECK (records > 0)
	) WITHOUT ROWID`)
	if err != nil {
		return fmt.Errorf("search word counts: %w", err)
	}
	return recountSearchWords(ctx, tx)
}

// dropSearchWordCounts undoes addSearchWordCounts.
func dropSearchWordCounts(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `DROP TABLE search_word_counts`); err != nil {
		return fmt.Errorf("drop search word counts: %w", err)
	}
	return nil
}
