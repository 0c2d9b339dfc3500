package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// InsertAudit appends e to the audit trail and counts it under its action
// (counts.go), and indexes the records it served (audit_record_index).
// Call it inside Store.Write, in the transaction of the change it records.
func (q *queries) InsertAudit(ctx context.Context, e model.AuditEvent) error {
	s, err := storedAuditOf(e)
	if err != nil {
		return fmt.Errorf("insert audit event: %w", err)
	}
	_, err = q.q.ExecContext(ctx, `INSERT INTO audit_events (`+auditColumns+`) VALUES (?,?,?,?,?,?,?,?,?)`,
		e.ID, micros(e.At), e.ActorID, e.Action, e.Entity, e.EntityID, e.IP, s.detail, s.recordIDs)
	if err != nil {
		return fmt.Errorf("insert audit event: %w", err)
	}
	if err := indexAuditRecords(ctx, q.q, s); err != nil {
		return fmt.Errorf("insert audit event: %w", err)
	}
	return q.addToCount(ctx, countAudit, e.Action, 1)
}

// InsertAudits appends es one after another: the engine runs in this
// process, so there is no round trip to save.
func (q *queries) InsertAudits(ctx context.Context, es []model.AuditEvent) error {
	for _, e := range es {
		if err := q.InsertAudit(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// storedAudit is an event with its detail and record ids as stored: text,
// or NULL when the event has none.
type storedAudit struct {
	model.AuditEvent
	detail, recordIDs any
}

func storedAuditOf(e model.AuditEvent) (storedAudit, error) {
	s := storedAudit{AuditEvent: e}
	if e.Detail != nil {
		s.detail = string(e.Detail)
	}
	if len(e.RecordIDs) > 0 {
		// 16 bytes a record, not a JSON array of 38: a list's event then
		// fits its B-tree cell instead of spilling to an overflow page,
		// which cost a page write per event.
		b := make([]byte, 0, 16*len(e.RecordIDs))
		for _, id := range e.RecordIDs {
			u, err := uuid.Parse(id)
			if err != nil || u.String() != id {
				return s, fmt.Errorf("record id %q is not a lower-case uuid", id)
			}
			b = append(b, u[:]...)
		}
		s.recordIDs = b
	}
	return s, nil
}

// indexAuditRecords adds e's records to audit_record_index, one document
// per event whatever the number of records.
func indexAuditRecords(ctx context.Context, q querier, e storedAudit) error {
	if len(e.RecordIDs) == 0 {
		return nil
	}
	terms := make([]string, len(e.RecordIDs))
	for i, id := range e.RecordIDs {
		terms[i] = recordTerm(id)
	}
	_, err := q.ExecContext(ctx, `INSERT INTO audit_record_index (records, event_at, event_id) VALUES (?, ?, ?)`,
		strings.Join(terms, " "), micros(e.At), e.ID)
	if err != nil {
		return fmt.Errorf("index the records served: %w", err)
	}
	return nil
}

// recordTerm is the term audit_record_index holds for a record id: FTS4's
// simple tokenizer would cut a uuid at its hyphens into five words.
func recordTerm(id string) string { return strings.ReplaceAll(strings.ToLower(id), "-", "") }

// auditColumns are the columns of audit_events scanAudit reads, in order.
const auditColumns = `id, at, actor_id, action, entity, entity_id, ip, detail, record_ids`

func scanAudit(row scanner) (model.AuditEvent, error) {
	var e model.AuditEvent
	var at int64
	var actor, entity, detail sql.NullString
	var recordIDs []byte
	if err := row.Scan(&e.ID, &at, &actor, &e.Action, &e.Entity, &entity, &e.IP, &detail, &recordIDs); err != nil {
		return e, fmt.Errorf("scan audit event: %w", err)
	}
	e.At = fromMicros(at)
	if actor.Valid {
		e.ActorID = &actor.String
	}
	if entity.Valid {
		e.EntityID = &entity.String
	}
	if detail.Valid {
		e.Detail = json.RawMessage(detail.String)
	}
	if recordIDs != nil {
		if len(recordIDs)%16 != 0 {
			return e, fmt.Errorf("scan audit event %s: record ids of %d bytes", e.ID, len(recordIDs))
		}
		e.RecordIDs = make([]string, 0, len(recordIDs)/16)
		for b := recordIDs; len(b) > 0; b = b[16:] {
			e.RecordIDs = append(e.RecordIDs, uuid.UUID(b[:16]).String())
		}
	}
	return e, nil
}

// auditColumnsOf is auditColumns of the table alias.
func auditColumnsOf(alias string) string {
	return alias + "." + strings.ReplaceAll(auditColumns, ", ", ", "+alias+".")
}

// auditConditions are f's conditions but the entity's, on the events
// aliased e, and their arguments.
func auditConditions(f db.AuditFilter) (where []string, args []any) {
	if f.ActorID != "" {
		where = append(where, "e.actor_id = ?")
		args = append(args, f.ActorID)
	}
	if f.Action != "" {
		where = append(where, "e.action = ?")
		args = append(args, f.Action)
	}
	if f.Since != nil {
		where = append(where, "e.at >= ?")
		args = append(args, micros(*f.Since))
	}
	return where, args
}

// auditListSQL builds ListAudit's count and page queries for f; the page
// query takes args followed by the limit and offset.
//
// A filter by entity finds the events about it (entity_id), a range of an
// index in the trail's order, and those that served it, one term of
// audit_record_index, which the page sorts.
func auditListSQL(f db.AuditFilter) (count, page string, args []any) {
	where, args := auditConditions(f)
	if f.EntityID != "" {
		condArgs := args
		about := append([]string{"e.entity_id = ?"}, where...)
		aboutSQL := ` FROM audit_events e WHERE ` + strings.Join(about, " AND ")
		countSQL := `SELECT (SELECT count(*)` + aboutSQL + `)`
		pageSQL := `SELECT ` + auditColumnsOf("e") + aboutSQL
		args = append([]any{f.EntityID}, condArgs...)
		// Only a uuid names a record, and only a term of hex digits is
		// safe to hand to MATCH as it is.
		if model.ValidUUID(f.EntityID) {
			// An event about the record that also served it is counted
			// once, as one about it.
			served := append([]string{"x.records MATCH ?", "(e.entity_id IS NULL OR e.entity_id <> ?)"}, where...)
			servedSQL := ` FROM audit_record_index x JOIN audit_events e ON e.at = x.event_at AND e.id = x.event_id WHERE ` + strings.Join(served, " AND ")
			countSQL += ` + (SELECT count(*)` + servedSQL + `)`
			pageSQL += ` UNION ALL SELECT ` + auditColumnsOf("e") + servedSQL
			args = append(append(args, recordTerm(f.EntityID), f.EntityID), condArgs...)
		}
		return countSQL, pageSQL + ` ORDER BY 2 DESC, 1 DESC LIMIT ? OFFSET ?`, args
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	count = `SELECT count(*) FROM audit_events e` + cond
	// InsertAudit counts events by action, which totals the whole trail and
	// each action in it without reading the trail.
	if f.ActorID == "" && f.Since == nil {
		count = `SELECT coalesce(sum(n), 0) FROM counts WHERE name = '` + countAudit + `'`
		if f.Action != "" {
			count += ` AND part = ?`
		}
	}
	// (at, id) is the table's primary key: newest first is its own order.
	return count,
		`SELECT ` + auditColumnsOf("e") + ` FROM audit_events e` + cond + ` ORDER BY e.at DESC, e.id DESC LIMIT ? OFFSET ?`,
		args
}

// ListAudit returns one page of events, newest first, and the total count.
func (q *queries) ListAudit(ctx context.Context, f db.AuditFilter) ([]model.AuditEvent, int, error) {
	countSQL, pageSQL, args := auditListSQL(f)
	// One row past the page, so a last page needs no count (pageTotal).
	rows, err := q.q.QueryContext(ctx, pageSQL, pageArgs(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	defer rows.Close()
	events := make([]model.AuditEvent, 0, db.PageCapacity(f.Limit))
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, 0, err
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	events, count, err := pageTotal(ctx, q.q, events, f.Limit, f.Offset, countSQL, args)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	return events, count, nil
}
