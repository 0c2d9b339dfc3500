package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/anavara/anavara/audit/chain"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// auditChainBatch is how many events addAuditChain links per read.
const auditChainBatch = 10_000

// addAuditChain is migration 15 (issue 15). Every event gains via (how
// the request arrived), subject_ids (the accounts it concerns, found
// through audit_subject_index, a full-text index built like
// audit_record_index: one document per event) and its link in the hash
// chain: seq, prev_hash and hash (package audit/chain).
//
// The events already in the trail are linked here, oldest first by (at,
// id), and given the subjects the rows still tell (db.LegacySubjects) and
// via 'api', which they cannot tell from 'ssh'. The append-only trigger
// is dropped for the rewrite and created again in the same transaction.
func addAuditChain(ctx context.Context, tx *sql.Tx) error {
	for _, stmt := range []string{
		`ALTER TABLE audit_events ADD COLUMN via TEXT NOT NULL DEFAULT 'api'`,
		`ALTER TABLE audit_events ADD COLUMN subject_ids BLOB`,
		`ALTER TABLE audit_events ADD COLUMN seq INTEGER`,
		`ALTER TABLE audit_events ADD COLUMN prev_hash BLOB`,
		`ALTER TABLE audit_events ADD COLUMN hash BLOB`,
		// The chain's order, and its head (InsertAudit, AuditHead).
		`CREATE UNIQUE INDEX audit_events_seq ON audit_events (seq)`,
		`CREATE VIRTUAL TABLE audit_subject_index USING fts4(
			subjects, event_at, event_id,
			notindexed=event_at, notindexed=event_id, tokenize=simple, matchinfo=fts3)`,
		`DROP TRIGGER audit_events_no_update`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("audit chain: %w", err)
		}
	}
	if err := linkExistingEvents(ctx, tx); err != nil {
		return fmt.Errorf("audit chain: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END`); err != nil {
		return fmt.Errorf("audit chain: %w", err)
	}
	return nil
}

// linkExistingEvents gives every event its subjects and its link, in
// batches read by key after the last.
func linkExistingEvents(ctx context.Context, tx *sql.Tx) error {
	q := &queries{q: tx}
	owners := sqliteOwners{tx}
	var seq int64
	prev := chain.Genesis
	lastAt, lastID := int64(-1<<63), ""
	for {
		events, err := readAuditBatch(ctx, tx, lastAt, lastID)
		if err != nil {
			return err
		}
		if len(events) == 0 {
			return nil
		}
		for _, e := range events {
			if e.SubjectIDs, err = db.LegacySubjects(ctx, e, owners); err != nil {
				return err
			}
			seq++
			prev = chain.Link(&e, seq, prev)
			s, err := storedAuditOf(e)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE audit_events SET subject_ids = ?, seq = ?, prev_hash = ?, hash = ? WHERE at = ? AND id = ?`,
				s.subjectIDs, s.seq, s.prevHash, s.hash, micros(e.At), e.ID); err != nil {
				return err
			}
			if err := indexTerms(ctx, q.q, `audit_subject_index (subjects`, s, e.SubjectIDs); err != nil {
				return err
			}
		}
		last := events[len(events)-1]
		lastAt, lastID = micros(last.At), last.ID
	}
}

func readAuditBatch(ctx context.Context, tx *sql.Tx, afterAt int64, afterID string) ([]model.AuditEvent, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+auditColumnsBeforeTokens+` FROM audit_events WHERE (at, id) > (?, ?) ORDER BY at, id LIMIT ?`,
		afterAt, afterID, auditChainBatch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var events []model.AuditEvent
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return events, rows.Err()
}

// sqliteOwners looks owners up in the migration's transaction.
type sqliteOwners struct{ tx *sql.Tx }

func (o sqliteOwners) RecordOwner(ctx context.Context, id string) (string, bool, error) {
	return o.owner(ctx, `SELECT user_id FROM medical_records WHERE id = ?`, id)
}

func (o sqliteOwners) SSHKeyOwner(ctx context.Context, id string) (string, bool, error) {
	return o.owner(ctx, `SELECT user_id FROM ssh_keys WHERE id = ?`, id)
}

func (o sqliteOwners) owner(ctx context.Context, query, id string) (string, bool, error) {
	var owner string
	err := o.tx.QueryRowContext(ctx, query, id).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return owner, err == nil, err
}

// dropAuditChain undoes addAuditChain.
func dropAuditChain(ctx context.Context, tx *sql.Tx) error {
	for _, stmt := range []string{
		`DROP TABLE audit_subject_index`,
		`DROP INDEX audit_events_seq`,
		`ALTER TABLE audit_events DROP COLUMN hash`,
		`ALTER TABLE audit_events DROP COLUMN prev_hash`,
		`ALTER TABLE audit_events DROP COLUMN seq`,
		`ALTER TABLE audit_events DROP COLUMN subject_ids`,
		`ALTER TABLE audit_events DROP COLUMN via`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("drop audit chain: %w", err)
		}
	}
	return nil
}
