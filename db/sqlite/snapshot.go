package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// snapshot is a read transaction on a reader connection (db.Snapshot).
type snapshot struct {
	queries
	tx *sql.Tx
	at time.Time
}

// Snapshot runs fn in one read transaction on a reader connection: in WAL
// mode the transaction's first read fixes what every later query of it
// sees, while the writer carries on. The writer is never blocked, though a
// checkpoint cannot recycle the log past the snapshot until it ends.
func (d *Store) Snapshot(ctx context.Context, fn func(db.Snapshot) error) error {
	tx, err := d.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	// Read-only: there is nothing to commit.
	defer tx.Rollback()
	// The first read of a table starts the snapshot; a statement that
	// reads none (SELECT 1) would leave it to the caller's first query.
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM counts`).Scan(&n); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	at := time.Now().UTC().Truncate(time.Microsecond)
	return fn(&snapshot{queries: queries{q: tx}, tx: tx, at: at})
}

func (s *snapshot) At() time.Time { return s.at }

func (s *snapshot) EachUser(ctx context.Context, fn func(model.User) error) error {
	return walk(ctx, s.tx, `SELECT `+userColumns+` FROM users ORDER BY created, id`, nil, func(row scanner) error {
		u, err := scanUser(row)
		if err != nil {
			return err
		}
		return fn(u.User)
	})
}

func (s *snapshot) EachRecord(ctx context.Context, userID string, fn func(model.MedicalRecord) error) error {
	query, args := `SELECT `+recordColumns+` FROM medical_records ORDER BY user_id, created, id`, []any(nil)
	if userID != "" {
		query, args = `SELECT `+recordColumns+` FROM medical_records WHERE user_id = ? ORDER BY created, id`, []any{userID}
	}
	return walk(ctx, s.tx, query, args, func(row scanner) error {
		r, err := scanRecord(row)
		if err != nil {
			return err
		}
		return fn(r)
	})
}

// walk runs query and hands each row to fn as it is read.
func walk(ctx context.Context, tx *sql.Tx, query string, args []any, fn func(scanner) error) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	return nil
}
