package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// searchWordsBatch is how many records addRecordSearch rewrites per read,
// and searchProgressEvery how many between its progress lines.
const (
	searchWordsBatch    = 10_000
	searchProgressEvery = 100_000
)

// addRecordSearch is migration 13. The records search was a substring
// LIKE over search_text, a scan of the whole table (0.3–0.7 s at a million
// records). It now matches words through an FTS4 index: search_text
// becomes search_words, holding db.RecordSearchWords, which Go computes
// (migrate_fold_keys.go's reason: SQLite cannot fold as Go does), and
// record_search indexes that column of medical_records (external content,
// so the words are stored once), docid = the record's rowid. The code
// keeps the index in step in the record's own write transaction
// (records.go).
func addRecordSearch(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `ALTER TABLE medical_records RENAME COLUMN search_text TO search_words`); err != nil {
		return fmt.Errorf("record search: %w", err)
	}
	if err := rewriteRecordSearch(ctx, tx, "building the records search index", db.RecordSearchWords); err != nil {
		return fmt.Errorf("record search: %w", err)
	}
	for _, stmt := range []string{
		createRecordSearchSQL,
		// Reads search_words of every row of the content table.
		`INSERT INTO record_search (record_search) VALUES ('rebuild')`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("record search: %w", err)
		}
	}
	return nil
}

// createRecordSearchSQL creates the FTS4 index of the records search as
// migration 13 made it, its doclists in ascending docid order (migration
// 20 reverses them). The words are already folded and split
// (db.SearchWords), which unicode61 leaves as they are
// (TestSearchWordsMatchUnicode61); remove_diacritics=2 would fold any
// accent that reached it all the same.
const createRecordSearchSQL = `CREATE VIRTUAL TABLE record_search USING fts4(
	content="medical_records", search_words, tokenize=unicode61 "remove_diacritics=2")`

// dropRecordSearch undoes addRecordSearch, back to the substring column.
func dropRecordSearch(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `DROP TABLE record_search`); err != nil {
		return fmt.Errorf("drop record search: %w", err)
	}
	if err := rewriteRecordSearch(ctx, tx, "undoing the records search index", substringSearchText); err != nil {
		return fmt.Errorf("drop record search: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `ALTER TABLE medical_records RENAME COLUMN search_words TO search_text`); err != nil {
		return fmt.Errorf("drop record search: %w", err)
	}
	return nil
}

// substringSearchText is what search_text held before migration 13.
func substringSearchText(r model.MedicalRecord) string {
	return db.Fold(r.PatientName + "\x1f" + r.Doctor + "\x1f" + r.Diagnosis)
}

// rewriteRecordSearch sets the search column (search_words, or search_text
// once renamed back) of every record to text(record), logging a progress
// line, saying what it is doing, every searchProgressEvery records when
// there are more than that.
func rewriteRecordSearch(ctx context.Context, tx *sql.Tx, doing string, text func(model.MedicalRecord) string) error {
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM medical_records`).Scan(&total); err != nil {
		return err
	}
	column := "search_words"
	if err := tx.QueryRowContext(ctx, `SELECT name FROM pragma_table_info('medical_records') WHERE name IN ('search_words', 'search_text')`).Scan(&column); err != nil {
		return err
	}
	update, err := tx.PrepareContext(ctx, `UPDATE medical_records SET `+column+` = ? WHERE rowid = ?`)
	if err != nil {
		return err
	}
	defer update.Close()
	type row struct {
		rowid int64
		text  string
	}
	batch := make([]row, 0, searchWordsBatch)
	done := 0
	// In rowid batches, each read whole before its updates, as in
	// addFoldKeys.
	for last := int64(-1 << 63); ; {
		batch = batch[:0]
		rows, err := tx.QueryContext(ctx, `SELECT rowid, patient_name, doctor, diagnosis FROM medical_records WHERE rowid > ? ORDER BY rowid LIMIT ?`, last, searchWordsBatch)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var r model.MedicalRecord
			if err := rows.Scan(&id, &r.PatientName, &r.Doctor, &r.Diagnosis); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, row{id, text(r)})
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		for _, r := range batch {
			if _, err := update.ExecContext(ctx, r.text, r.rowid); err != nil {
				return err
			}
		}
		last = batch[len(batch)-1].rowid
		before := done
		done += len(batch)
		if total > searchProgressEvery && done/searchProgressEvery != before/searchProgressEvery {
			slog.InfoContext(ctx, "migration 13: "+doing, "records", done, "of", total,
				"percent", 100*done/total)
		}
	}
}
