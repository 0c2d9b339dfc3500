package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
)

// auditIndexBatch is how many events the audit index's migration reads at
// a time, and auditIndexProgressEvery how many between its progress lines.
const (
	auditIndexBatch         = 10_000
	auditIndexProgressEvery = 100_000
)

// createAuditIndexSQL creates audit_index: for every event in the chain,
// one document of the records it served and the accounts it concerns,
// docid its seq (see indexAudit).
//
// One table, where there were two (audit_record_index, audit_subject_index),
// because an event then writes one document, and a transaction one segment
// (and its share of the merges) at commit, not two. Contentless, because
// the index is only ever searched: a content table stored every term again
// (about 700 bytes a list event), and the event's key with it; the docid is
// the key instead, the chain's place having a unique index of its own.
const createAuditIndexSQL = `CREATE VIRTUAL TABLE audit_index USING fts4(
	records, subjects, content="", tokenize=simple, matchinfo=fts3)`

// addAuditIndex is the migration (after the API tokens') where audit_index replaces the two full-text
// indexes of migrations 14 and 15, filled from the events' own record_ids
// and subject_ids, as an import fills it.
func addAuditIndex(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, createAuditIndexSQL); err != nil {
		return fmt.Errorf("audit index: %w", err)
	}
	if err := fillAuditIndexes(ctx, tx, "building the audit index", indexAudit); err != nil {
		return fmt.Errorf("audit index: %w", err)
	}
	for _, stmt := range []string{`DROP TABLE audit_record_index`, `DROP TABLE audit_subject_index`} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("audit index: %w", err)
		}
	}
	return nil
}

// dropAuditIndex undoes addAuditIndex: the two indexes of migrations 14
// and 15 as they were, one document per event in each, keyed by the
// event's (at, id).
func dropAuditIndex(ctx context.Context, tx *sql.Tx) error {
	for _, stmt := range []string{
		`CREATE VIRTUAL TABLE audit_record_index USING fts4(
			records, event_at, event_id,
			notindexed=event_at, notindexed=event_id, tokenize=simple, matchinfo=fts3)`,
		`CREATE VIRTUAL TABLE audit_subject_index USING fts4(
			subjects, event_at, event_id,
			notindexed=event_at, notindexed=event_id, tokenize=simple, matchinfo=fts3)`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("drop audit index: %w", err)
		}
	}
	err := fillAuditIndexes(ctx, tx, "undoing the audit index", func(ctx context.Context, q querier, e storedAudit) error {
		if err := indexTerms(ctx, q, `audit_record_index (records`, e, e.RecordIDs); err != nil {
			return err
		}
		return indexTerms(ctx, q, `audit_subject_index (subjects`, e, e.SubjectIDs)
	})
	if err != nil {
		return fmt.Errorf("drop audit index: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE audit_index`); err != nil {
		return fmt.Errorf("drop audit index: %w", err)
	}
	return nil
}

// fillAuditIndexes calls index for every event, oldest first, with its
// key, seq, records and subjects as stored, in batches read by key after
// the last, logging a progress line, saying what it is doing, every
// auditIndexProgressEvery events when there are more than that.
func fillAuditIndexes(ctx context.Context, tx *sql.Tx, doing string, index func(context.Context, querier, storedAudit) error) error {
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM audit_events`).Scan(&total); err != nil {
		return err
	}
	batch := make([]storedAudit, 0, auditIndexBatch)
	done := 0
	for lastAt, lastID := int64(-1<<63), ""; ; {
		batch = batch[:0]
		rows, err := tx.QueryContext(ctx, `SELECT at, id, seq, record_ids, subject_ids FROM audit_events
			WHERE (at, id) > (?, ?) ORDER BY at, id LIMIT ?`, lastAt, lastID, auditIndexBatch)
		if err != nil {
			return err
		}
		for rows.Next() {
			var e storedAudit
			var at int64
			var seq sql.NullInt64
			var records, subjects []byte
			if err := rows.Scan(&at, &e.ID, &seq, &records, &subjects); err != nil {
				rows.Close()
				return err
			}
			e.At, e.Seq = fromMicros(at), seq.Int64
			if len(records)%16 != 0 {
				rows.Close()
				return fmt.Errorf("event %s: record ids of %d bytes", e.ID, len(records))
			}
			e.RecordIDs = unpackIDs(records)
			if subjects != nil {
				if e.SubjectIDs, err = unpackSubjects(subjects, len(e.RecordIDs)); err != nil {
					rows.Close()
					return fmt.Errorf("event %s: %w", e.ID, err)
				}
			}
			batch = append(batch, e)
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
		for _, e := range batch {
			if err := index(ctx, tx, e); err != nil {
				return fmt.Errorf("event %s: %w", e.ID, err)
			}
		}
		last := batch[len(batch)-1]
		lastAt, lastID = micros(last.At), last.ID
		before := done
		done += len(batch)
		if total > auditIndexProgressEvery && done/auditIndexProgressEvery != before/auditIndexProgressEvery {
			slog.InfoContext(ctx, "migrating the audit trail: "+doing, "events", done, "of", total, "percent", 100*done/total)
		}
	}
}
