package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Counters in the counts table: the totals unfiltered lists report, kept
// by the writes that change them so that no page has to count a whole
// table.
const (
	// countRecords counts medical_records, in part "".
	countRecords = "medical_records"
	// countAudit counts audit_events by action, one part per action.
	countAudit = "audit_events"
)

// countKey names one counter row.
type countKey struct{ name, part string }

// addToCount moves counter name's part by delta when the transaction
// commits. The moves are held in the Tx and written together just before
// COMMIT (writeCounts), because the counter rows are the hottest in the
// database: every record created and every audit event moves one, and an
// updated row stays locked until its transaction ends. Written last, they
// are locked for one round trip instead of for the whole transaction, and
// always in the same order, so two transactions cannot deadlock over them.
func (t *tx) addToCount(name, part string, delta int64) {
	if t.pending == nil {
		t.pending = map[countKey]int64{}
	}
	t.pending[countKey{name, part}] += delta
}

// writeCounts writes the pending counter moves, the search words' first
// (pendingStatements), in one round trip.
func (t *tx) writeCounts(ctx context.Context) error {
	stmts := t.pendingStatements()
	switch len(stmts) {
	case 0:
	case 1:
		if _, err := t.q.Exec(ctx, stmts[0].query, stmts[0].args...); err != nil {
			return fmt.Errorf("count: %w", err)
		}
	default:
		batcher, ok := t.q.(interface {
			SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
		})
		if !ok {
			return errors.New("count: the transaction cannot send a batch")
		}
		var b pgx.Batch
		for _, st := range stmts {
			b.Queue(st.query, st.args...)
		}
		if err := batcher.SendBatch(ctx, &b).Close(); err != nil {
			return fmt.Errorf("count: %w", err)
		}
	}
	t.pending, t.pendingWords = nil, nil
	return nil
}

// statement is one query and its arguments, to send in a batch.
type statement struct {
	query string
	args  []any
}

// pendingStatements are the upserts that write the pending counter moves:
// the search words' (wordCountsUpsert), then the counts table's
// (countsUpsert). Every transaction locks the rows in this one order,
// each table's in sorted order, so no two deadlock over them.
func (t *tx) pendingStatements() []statement {
	var stmts []statement
	if query, args, ok := t.wordCountsUpsert(); ok {
		stmts = append(stmts, statement{query, args})
	}
	if query, args, ok := t.countsUpsert(); ok {
		stmts = append(stmts, statement{query, args})
	}
	return stmts
}

// countsUpsert is the statement that writes the pending counter moves, and
// its arguments; ok is false when there are none. writeAudits sends it in
// the round trip of the transaction's audit events.
func (t *tx) countsUpsert() (query string, args []any, ok bool) {
	keys := make([]countKey, 0, len(t.pending))
	for k, n := range t.pending {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "", nil, false
	}
	// One lock order for every transaction: no deadlock between two that
	// move the same counters.
	slices.SortFunc(keys, func(a, b countKey) int {
		return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.part, b.part))
	})
	names, parts, deltas := make([]string, len(keys)), make([]string, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		names[i], parts[i], deltas[i] = k.name, k.part, t.pending[k]
	}
	return `INSERT INTO counts (name, part, n)
		SELECT m.name, m.part, m.n FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS m (name, part, n, i) ORDER BY m.i
		ON CONFLICT (name, part) DO UPDATE SET n = counts.n + EXCLUDED.n`, []any{names, parts, deltas}, true
}

// flushCounts writes the transaction's pending counter moves before a read
// of the counters, so that it sees the transaction's own changes, as it
// would on SQLite. Outside a transaction there are none.
func (r *reader) flushCounts(ctx context.Context) error {
	if r.tx == nil {
		return nil
	}
	return r.tx.writeCounts(ctx)
}

// trueCounts is the counts table as it should be: one row for the records,
// one per audit action.
const trueCounts = `SELECT '` + countRecords + `', '', count(*) FROM medical_records
	UNION ALL
	SELECT '` + countAudit + `', action, count(*) FROM audit_events GROUP BY action`

// recountAtOpen corrects counters that drifted through writes that
// bypassed the code (an operator's psql session, say); Open runs it. It
// compares first, in one statement, so on one snapshot and without
// blocking anyone: other servers on the same database keep writing
// meanwhile. Only when the counters differ does it recount, holding the
// counts table EXCLUSIVE: every write that changes a counted table moves
// its counter in the same transaction, before it commits, so it either
// committed before the lock (and is counted) or waits for the recount (and
// adds itself after). Locking counts rather than the counted tables keeps
// the recount within an application role's privileges: SHARE on the audit
// trail would take more than INSERT there.
func (s *Store) recountAtOpen(ctx context.Context) error {
	var differences int
	err := s.pool.QueryRow(ctx, `WITH truth (name, part, n) AS MATERIALIZED (`+trueCounts+`)
		SELECT (SELECT count(*) FROM (SELECT name, part, n FROM truth EXCEPT SELECT name, part, n FROM counts) AS missing)
		     + (SELECT count(*) FROM (SELECT name, part, n FROM counts EXCEPT SELECT name, part, n FROM truth) AS wrong)`).Scan(&differences)
	if err != nil {
		return fmt.Errorf("check counts: %w", err)
	}
	if differences == 0 {
		// The records counter can agree while the word counts do not:
		// an older build of Anavara, still serving during a rolling
		// upgrade, writes records and moves the counters but knows
		// nothing of search_word_counts.
		var agree bool
		if err := s.pool.QueryRow(ctx, wordTotalsAgreeSQL).Scan(&agree); err != nil {
			return fmt.Errorf("check search word counts: %w", err)
		}
		if agree {
			return nil
		}
	}
	// Writers lock the tables in their own order; a deadlock with one of
	// them is retried like any other.
	var last error
	for range writeAttempts {
		last = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
			// The search words' counts are rebuilt with the others: a
			// write that bypassed the code may have left them wrong
			// too. Locked in the writers' order (pendingStatements).
			for _, stmt := range append([]string{
				`LOCK TABLE search_word_counts, counts IN EXCLUSIVE MODE`,
				`DELETE FROM counts`,
				`INSERT INTO counts (name, part, n) ` + trueCounts,
			}, recountWordsSQL...) {
				if _, err := tx.Exec(ctx, stmt); err != nil {
					return err
				}
			}
			return nil
		})
		if !retryable(last) {
			break
		}
	}
	if last != nil {
		return fmt.Errorf("recount: %w", last)
	}
	return nil
}
