package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/anavara/anavara/audit/chain"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// auditChainBatch is how many events linkAuditChain links per read.
const auditChainBatch = 10_000

// linkAuditChain is migration 8: the events already in the trail when
// migration 7 added the chain's columns are linked, oldest first by (at,
// id), and given the subjects the rows still tell (db.LegacySubjects) and
// via 'api', which they cannot tell from 'ssh'. The append-only trigger
// is disabled for the rewrite and enabled again in the same transaction,
// which only the table's owner, who runs migrations, may do.
func linkAuditChain(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update`); err != nil {
		return fmt.Errorf("audit chain: %w", err)
	}
	if err := linkExistingEvents(ctx, tx); err != nil {
		return fmt.Errorf("audit chain: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update`); err != nil {
		return fmt.Errorf("audit chain: %w", err)
	}
	return nil
}

// linkExistingEvents gives every event its subjects and its link, in
// batches read by key after the last, each written back in one UPDATE.
func linkExistingEvents(ctx context.Context, tx *sql.Tx) error {
	owners := pgOwners{tx}
	var seq int64
	prev := chain.Genesis
	var after []any
	for {
		query := `SELECT ` + auditColumnsBeforeTokens + ` FROM audit_events ORDER BY at, id LIMIT $1`
		args := []any{auditChainBatch}
		if after != nil {
			query = `SELECT ` + auditColumnsBeforeTokens + ` FROM audit_events WHERE (at, id) > ($2, $3) ORDER BY at, id LIMIT $1`
			args = append(args, after...)
		}
		events, err := readAuditBatch(ctx, tx, query, args)
		if err != nil {
			return err
		}
		if len(events) == 0 {
			return nil
		}
		ids := make([]string, len(events))
		seqs := make([]int64, len(events))
		prevs, hashes := make([][]byte, len(events)), make([][]byte, len(events))
		subjects := make([]string, len(events)) // uuid[] literals, '' for NULL
		for i := range events {
			e := &events[i]
			if e.SubjectIDs, err = db.LegacySubjects(ctx, *e, owners); err != nil {
				return err
			}
			seq++
			p := prev
			prev = chain.Link(e, seq, prev)
			ids[i], seqs[i], prevs[i], hashes[i] = e.ID, seq, append([]byte(nil), p[:]...), append([]byte(nil), prev[:]...)
			subjects[i] = uuidArrayLiteral(e.SubjectIDs)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE audit_events AS e
			SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash, subject_ids = nullif(v.subjects, '')::uuid[]
			FROM unnest($1::uuid[], $2::bigint[], $3::bytea[], $4::bytea[], $5::text[]) AS v (id, seq, prev_hash, hash, subjects)
			WHERE e.id = v.id`, ids, seqs, prevs, hashes, subjects); err != nil {
			return err
		}
		last := events[len(events)-1]
		after = []any{last.At, last.ID}
	}
}

// uuidArrayLiteral is ids as a uuid[] literal, ” for none.
func uuidArrayLiteral(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	s := "{"
	for i, id := range ids {
		if i > 0 {
			s += ","
		}
		s += id
	}
	return s + "}"
}

func readAuditBatch(ctx context.Context, tx *sql.Tx, query string, args []any) ([]model.AuditEvent, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var events []model.AuditEvent
	for rows.Next() {
		e, err := scanLegacyAudit(rows)
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return events, rows.Err()
}

// scanLegacyAudit reads auditColumnsBeforeTokens through database/sql, which hands
// arrays over as their text: the events of a trail before the chain.
func scanLegacyAudit(rows *sql.Rows) (model.AuditEvent, error) {
	var e model.AuditEvent
	var detail, recordIDs, subjectIDs sql.NullString
	var seq sql.NullInt64
	var prevHash, hash []byte
	if err := rows.Scan(&e.ID, &e.At, &e.ActorID, &e.Action, &e.Entity, &e.EntityID, &e.IP, &detail, &recordIDs,
		&e.Via, &subjectIDs, &seq, &prevHash, &hash); err != nil {
		return e, err
	}
	e.At = e.At.UTC()
	if detail.Valid {
		e.Detail = []byte(detail.String)
	}
	if recordIDs.Valid && len(recordIDs.String) > 2 {
		e.RecordIDs = splitArray(recordIDs.String)
	}
	return e, nil
}

// splitArray reads a uuid[] as PostgreSQL writes it: {a,b,c}.
func splitArray(s string) []string {
	var ids []string
	start := 1
	for i := 1; i < len(s); i++ {
		if s[i] == ',' || s[i] == '}' {
			ids = append(ids, s[start:i])
			start = i + 1
		}
	}
	return ids
}

// pgOwners looks owners up in the migration's transaction.
type pgOwners struct{ tx *sql.Tx }

func (o pgOwners) RecordOwner(ctx context.Context, id string) (string, bool, error) {
	return o.owner(ctx, `SELECT user_id::text FROM medical_records WHERE id = $1`, id)
}

func (o pgOwners) SSHKeyOwner(ctx context.Context, id string) (string, bool, error) {
	return o.owner(ctx, `SELECT user_id::text FROM ssh_keys WHERE id = $1`, id)
}

func (o pgOwners) owner(ctx context.Context, query, id string) (string, bool, error) {
	if !validID(id) {
		return "", false, nil
	}
	var owner string
	err := o.tx.QueryRowContext(ctx, query, id).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return owner, err == nil, err
}

// unlinkAuditChain undoes linkAuditChain: nothing, as migration 7's down
// drops the columns it filled.
func unlinkAuditChain(context.Context, *sql.Tx) error { return nil }
