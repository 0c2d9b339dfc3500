package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// The trail's index of the records each event served and the accounts it
// concerns (audit_index) is filled behind the trail rather than in each
// event's transaction. FTS4 writes a segment for every transaction that
// adds a document, so indexing an audited read's event in its own commit
// cost that read about 130 µs, and a create 2.7 pages more to log, sync
// and checkpoint (BENCHMARKS.md, "Issue 14, session 19" and "session 16").
// The indexer instead adds the events of many commits in one step, a
// write of its own that group commit gathers with the others.
//
// audit_index_through holds the seq through which every event of the
// chain is indexed; the step that indexes events moves it in the same
// transaction. The lookups read the index up to it and the trail's events
// after it (audit_tail.go), so "who saw record X" is exact whatever the
// indexer has reached, and no correctness rests on its running: a process
// that stops before a step leaves its events to the next step of any
// process.

const (
	// auditIndexInterval is how often the indexer looks for events to
	// index (Options.AuditIndexInterval; startBackground).
	auditIndexInterval = 50 * time.Millisecond
	// auditIndexStep bounds the events one step indexes, so that a step
	// holds the writer about as long as a commit of a few creates: FTS4
	// takes about 1 µs a term, and a list's event has 21, so a step of 256
	// lists held it 8-41 ms (BENCHMARKS.md, "Issue 14, session 20").
	auditIndexStep = 32
)

// indexAuditSteps indexes the events after audit_index_through, a step
// of auditIndexStep (a write of its own) at a time, until a step finds
// fewer, and reports whether any step indexed one: the background
// indexer's work (startBackground). A reader asks first whether there is
// any, so that an idle store writes nothing, not an empty transaction a
// tick (which would count as a commit, and wake the next tick).
func (d *Store) indexAuditSteps(ctx context.Context) (worked bool, err error) {
	var behind bool
	if err := d.reader.QueryRowContext(ctx, `SELECT coalesce((SELECT max(seq) FROM audit_events), 0) > `+auditThroughSQL).Scan(&behind); err != nil {
		return false, fmt.Errorf("index the audit trail: %w", err)
	}
	for behind && ctx.Err() == nil {
		n, err := d.indexAuditTail(ctx, auditIndexStep)
		if err != nil {
			return worked, err
		}
		worked = worked || n > 0
		if n < auditIndexStep {
			break
		}
	}
	return worked, nil
}

// IndexAuditTrail indexes every event of the trail the background indexer
// has not reached yet, in steps of its own, and returns once it has or ctx
// has ended: for a caller that has just appended many events and is about
// to look them up by the records they served, whose lookups would
// otherwise read the events one by one (a benchmark's seeding). The
// lookups' answers are the same either way.
func (d *Store) IndexAuditTrail(ctx context.Context) error {
	return untilIndexed(func(limit int) (int, error) { return d.indexAuditTail(ctx, limit) })
}

// indexAuditTail indexes, in a write of its own, up to limit events after
// audit_index_through, and reports how many it took.
func (d *Store) indexAuditTail(ctx context.Context, limit int) (indexed int, err error) {
	err = d.write(ctx, func(q *queries) error {
		indexed, err = q.indexAuditTail(ctx, limit)
		return err
	})
	return indexed, err
}

// indexAuditTail indexes up to limit events of the chain after
// audit_index_through, oldest first, and moves it past them; it reports
// how many it took. Call it in a write transaction.
func (q *queries) indexAuditTail(ctx context.Context, limit int) (int, error) {
	var through int64
	if err := q.q.QueryRowContext(ctx, `SELECT seq FROM audit_index_through`).Scan(&through); err != nil {
		return 0, fmt.Errorf("index the audit trail: %w", err)
	}
	rows, err := q.q.QueryContext(ctx, `SELECT seq, record_ids, subject_ids FROM audit_events
		WHERE seq > ? ORDER BY seq LIMIT ?`, through, limit)
	if err != nil {
		return 0, fmt.Errorf("index the audit trail: %w", err)
	}
	docs, last, n, err := auditDocuments(rows)
	if err != nil {
		return 0, fmt.Errorf("index the audit trail: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	if err := insertAuditDocuments(ctx, q.q, docs); err != nil {
		return 0, fmt.Errorf("index the audit trail: %w", err)
	}
	if _, err := q.q.ExecContext(ctx, `UPDATE audit_index_through SET seq = ?`, last); err != nil {
		return 0, fmt.Errorf("index the audit trail: %w", err)
	}
	return n, nil
}

// auditDocument is one event's row of audit_index.
type auditDocument struct {
	seq               int64
	records, subjects string
}

// auditDocuments reads rows of (seq, record_ids, subject_ids), in seq
// order, closing them, into the documents of the events that name a
// record or an account, and reports the last seq read and how many rows
// there were.
// Ids that do not parse, which only a trail changed behind the code's back
// holds, are left out, as the lookups of the newer events leave them
// (audit_tail.go): audit verify is what reports them, and an indexer that
// stopped at them would leave every later event to those lookups.
func auditDocuments(rows *sql.Rows) (docs []auditDocument, last int64, n int, err error) {
	defer rows.Close()
	for rows.Next() {
		var records, subjects []byte
		if err := rows.Scan(&last, &records, &subjects); err != nil {
			return nil, 0, 0, err
		}
		n++
		doc := auditDocument{seq: last, records: packedTerms(records)}
		if s, err := parseSubjects(subjects, len(records)/16); subjects != nil && err == nil {
			doc.subjects = packedTerms(s.ids)
		}
		if doc.records != "" || doc.subjects != "" {
			docs = append(docs, doc)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, 0, err
	}
	return docs, last, n, nil
}

// packedTerms is termsOf of ids packed 16 bytes each: a uuid's term is its
// 32 hex digits, which are the 16 bytes' own. A list whose length is not a
// multiple of 16 has none.
func packedTerms(ids []byte) string {
	if len(ids)%16 != 0 {
		return ""
	}
	doc := make([]byte, 0, len(ids)/16*33)
	for ; len(ids) >= 16; ids = ids[16:] {
		end := len(doc)
		if end > 0 {
			doc = append(doc, ' ')
		}
		start := len(doc)
		doc = hex.AppendEncode(doc, ids[:16])
		if hasTerm(doc[:end], doc[start:]) {
			doc = doc[:end]
		}
	}
	return string(doc)
}

// insertAuditDocuments inserts docs into audit_index, many rows a
// statement.
func insertAuditDocuments(ctx context.Context, q querier, docs []auditDocument) error {
	for len(docs) > 0 {
		n := min(len(docs), auditRowsPerStatement)
		args := make([]any, 0, 3*n)
		for _, d := range docs[:n] {
			args = append(args, d.seq, d.records, d.subjects)
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO audit_index (docid, records, subjects) VALUES (?,?,?)`+
			strings.Repeat(",(?,?,?)", n-1), args...); err != nil {
			return fmt.Errorf("index the records served and the accounts concerned: %w", err)
		}
		docs = docs[n:]
	}
	return nil
}

// indexAuditTrail indexes every event after audit_index_through in q's
// transaction: an import's, or a migration's.
func indexAuditTrail(ctx context.Context, q *queries) error {
	return untilIndexed(func(limit int) (int, error) { return q.indexAuditTail(ctx, limit) })
}

// untilIndexed calls step, which indexes up to limit events after
// audit_index_through and reports how many it took, auditIndexBatch at a
// time until a step takes fewer.
func untilIndexed(step func(limit int) (int, error)) error {
	for {
		n, err := step(auditIndexBatch)
		if err != nil {
			return err
		}
		if n < auditIndexBatch {
			return nil
		}
	}
}
