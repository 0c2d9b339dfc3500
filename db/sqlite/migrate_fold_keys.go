package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/anavara/anavara/db"
)

// foldKeyBatch is how many records addFoldKeys reads at a time, so that a
// large table is not held in memory at once.
const foldKeyBatch = 10_000

// addFoldKeys is migration 10. The doctor filter and the patient_name
// ordering compared with COLLATE NOCASE, which folds ASCII only: "dr. öz"
// did not find "Dr. Öz", and "Émile" sorted after "Zoé", where PostgreSQL
// (which stores db.Fold keys) gave the other answer. Both engines now
// compare the same keys, folded in Go.
func addFoldKeys(ctx context.Context, tx *sql.Tx) error {
	for _, stmt := range []string{
		`ALTER TABLE medical_records ADD COLUMN patient_name_key TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE medical_records ADD COLUMN doctor_key TEXT NOT NULL DEFAULT ''`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("fold keys: %w", err)
		}
	}
	update, err := tx.PrepareContext(ctx, `UPDATE medical_records SET patient_name_key = ?, doctor_key = ? WHERE rowid = ?`)
	if err != nil {
		return fmt.Errorf("fold keys: %w", err)
	}
	defer update.Close()
	type row struct {
		rowid           int64
		patient, doctor string
	}
	batch := make([]row, 0, foldKeyBatch)
	// In rowid batches, each read whole before its updates: updating the
	// table a statement is still stepping through is not safe.
	for last := int64(-1 << 63); ; {
		batch = batch[:0]
		rows, err := tx.QueryContext(ctx, `SELECT rowid, patient_name, doctor FROM medical_records WHERE rowid > ? ORDER BY rowid LIMIT ?`, last, foldKeyBatch)
		if err != nil {
			return fmt.Errorf("fold keys: %w", err)
		}
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.rowid, &r.patient, &r.doctor); err != nil {
				rows.Close()
				return fmt.Errorf("fold keys: %w", err)
			}
			batch = append(batch, r)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("fold keys: %w", err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("fold keys: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		for _, r := range batch {
			if _, err := update.ExecContext(ctx, db.Fold(r.patient), db.Fold(r.doctor), r.rowid); err != nil {
				return fmt.Errorf("fold keys: %w", err)
			}
		}
		last = batch[len(batch)-1].rowid
	}
	for _, stmt := range []string{
		`DROP INDEX medical_records_patient_name`,
		`DROP INDEX medical_records_doctor`,
		`CREATE INDEX medical_records_patient_name ON medical_records (patient_name_key, id)`,
		`CREATE INDEX medical_records_doctor ON medical_records (doctor_key, created, id)`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("fold keys: %w", err)
		}
	}
	return nil
}

// dropFoldKeys undoes addFoldKeys, back to the NOCASE indexes.
func dropFoldKeys(ctx context.Context, tx *sql.Tx) error {
	for _, stmt := range []string{
		`DROP INDEX medical_records_patient_name`,
		`DROP INDEX medical_records_doctor`,
		`ALTER TABLE medical_records DROP COLUMN patient_name_key`,
		`ALTER TABLE medical_records DROP COLUMN doctor_key`,
		`CREATE INDEX medical_records_patient_name ON medical_records (patient_name COLLATE NOCASE, id)`,
		`CREATE INDEX medical_records_doctor ON medical_records (doctor COLLATE NOCASE, created, id)`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("drop fold keys: %w", err)
		}
	}
	return nil
}
