package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// snapshot is a repeatable-read, read-only transaction (db.Snapshot).
type snapshot struct {
	reader
	tx pgx.Tx
	at time.Time
}

// Snapshot runs fn in one REPEATABLE READ READ ONLY transaction: every
// query in it sees the snapshot its first one took, while other sessions
// go on writing; a read-only transaction takes no lock that would hold
// them up.
func (s *Store) Snapshot(ctx context.Context, fn func(db.Snapshot) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	// Read-only: there is nothing to commit.
	defer tx.Rollback(context.WithoutCancel(ctx))
	// The first query takes the snapshot; now() is its transaction's start.
	var at time.Time
	if err := tx.QueryRow(ctx, `SELECT now()`).Scan(&at); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	return fn(&snapshot{reader: reader{q: tx}, tx: tx, at: at.UTC()})
}

func (s *snapshot) At() time.Time { return s.at }

func (s *snapshot) EachUser(ctx context.Context, fn func(model.User) error) error {
	return walk(ctx, s.tx, `SELECT `+userColumns+` FROM users ORDER BY created, id`, nil, func(row pgx.Row) error {
		u, err := scanUser(row)
		if err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		return fn(u.User)
	})
}

func (s *snapshot) EachRecord(ctx context.Context, userID string, fn func(model.MedicalRecord) error) error {
	query, args := `SELECT `+recordColumns+` FROM medical_records ORDER BY user_id, created, id`, []any(nil)
	if userID != "" {
		if !validID(userID) {
			return nil
		}
		query, args = `SELECT `+recordColumns+` FROM medical_records WHERE user_id = $1 ORDER BY created, id`, []any{userID}
	}
	return walk(ctx, s.tx, query, args, func(row pgx.Row) error {
		r, err := scanRecord(row)
		if err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		return fn(r)
	})
}

// walk runs query and hands each row to fn as it arrives: pgx reads a
// result as it streams in, so memory holds a network buffer, not the
// result.
func walk(ctx context.Context, tx pgx.Tx, query string, args []any, fn func(pgx.Row) error) error {
	rows, err := tx.Query(ctx, query, args...)
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

// readSnapshot runs fn on a reader whose queries share one snapshot: r
// itself when it reads in a transaction already (a db.Snapshot's), or one
// on a REPEATABLE READ READ ONLY transaction begun on the pool, which
// costs two round trips more (BEGIN, ROLLBACK) and takes no lock. That
// transaction plans no parallel query (searchSnapshotBegin).
func (r *reader) readSnapshot(ctx context.Context, fn func(*reader) error) error {
	pool, ok := r.q.(*pgxpool.Pool)
	if !ok {
		return fn(r)
	}
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: searchSnapshotBegin})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	// Read-only: there is nothing to commit.
	defer tx.Rollback(context.WithoutCancel(ctx))
	return fn(&reader{q: tx})
}

// searchSnapshotBegin begins readSnapshot's transaction, in the same
// round trip, without parallel workers. The planner has no statistics
// for a pair of words (migration 13: too rare for the index's most
// common lexemes), takes each for 0.5% of the records, and would count a
// pair's 1,600 matches at a million records with two workers, 9–11 ms
// where one process takes 1.7 ms; a search that parallel workers do
// speed up (a letter that starts the words of 30% of the records) gains
// a tenth, for three processes' CPU taken from the other requests of a
// small host (BENCHMARKS.md, "Issue 14, session 17").
const searchSnapshotBegin = `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL max_parallel_workers_per_gather = 0`
