package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// Counters in the counts table (migration 00007): the totals unfiltered
// lists report, kept by the writes that change them so that no page has to
// count a whole table.
const (
	// countRecords counts medical_records, in part "".
	countRecords = "medical_records"
	// countAudit counts audit_events by action, one part per action.
	countAudit = "audit_events"
)

// addToCount moves counter name's part by delta, creating the part at
// delta when it is new (an audit action seen for the first time). Call it
// inside Store.Write, in the transaction that makes the change it counts.
//
// Application code keeps the counters rather than triggers: a trigger makes
// every insert a multi-statement write, which SQLite backs with a
// statement journal (see migration 00006).
func (q *queries) addToCount(ctx context.Context, name, part string, delta int) error {
	res, err := q.q.ExecContext(ctx, `UPDATE counts SET n = n + ? WHERE name = ? AND part = ?`, delta, name, part)
	if err != nil {
		return fmt.Errorf("count %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("count %s: %w", name, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := q.q.ExecContext(ctx, `INSERT INTO counts (name, part, n) VALUES (?, ?, ?)`, name, part, delta); err != nil {
		return fmt.Errorf("count %s: %w", name, err)
	}
	return nil
}

// trueCounts is the counts table as it should be: one row for the records,
// one per audit action.
const trueCounts = `SELECT '` + countRecords + `', '', count(*) FROM medical_records
	UNION ALL
	SELECT '` + countAudit + `', action, count(*) FROM audit_events GROUP BY action`

// recountAtOpen corrects counters that drifted through writes that
// bypassed the code (an operator's sqlite3 session, say); Open runs it.
// It compares first, in one read statement, so a consistent snapshot
// without the write lock: another process serving from the same database
// (createsuperuser run beside serve) keeps writing meanwhile. Only when
// they differ does it recount under the write lock. Either way it reads
// the smallest index of each counted table once; BENCHMARKS.md has the
// cost at 1,000,000 records and 1,000,000 audit events.
func recountAtOpen(ctx context.Context, writer *sql.DB) error {
	var differences int
	err := writer.QueryRowContext(ctx, `WITH truth (name, part, n) AS MATERIALIZED (`+trueCounts+`)
		SELECT (SELECT count(*) FROM (SELECT name, part, n FROM truth EXCEPT SELECT name, part, n FROM counts))
		     + (SELECT count(*) FROM (SELECT name, part, n FROM counts EXCEPT SELECT name, part, n FROM truth))`).Scan(&differences)
	if err != nil {
		return fmt.Errorf("check counts: %w", err)
	}
	if differences == 0 {
		// The records counter can agree while the word counts do not:
		// an older build of Anavara, run on this database after an
		// upgrade, writes records and moves the counters but knows
		// nothing of search_word_counts.
		var agree bool
		if err := writer.QueryRowContext(ctx, wordTotalsAgreeSQL).Scan(&agree); err != nil {
			return fmt.Errorf("check search word counts: %w", err)
		}
		if agree {
			return nil
		}
	}
	tx, err := writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recount: %w", err)
	}
	defer tx.Rollback()
	for _, stmt := range []string{`DELETE FROM counts`, `INSERT INTO counts (name, part, n) ` + trueCounts} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("recount: %w", err)
		}
	}
	// Writes that moved the counters past the code moved the search's word
	// counts too, most likely, which a search trusts to leave words out
	// (search_word_counts.go); or only those are wrong.
	if err := recountSearchWords(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("recount: %w", err)
	}
	return nil
}
