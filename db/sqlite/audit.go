package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/anavara/anavara/db"
	"strings"

	"github.com/anavara/anavara/model"
)

// InsertAudit appends e to the audit trail and counts it under its action
// (counts.go). Call it inside Store.Write, in the transaction of the change it
// records.
func (q *queries) InsertAudit(ctx context.Context, e model.AuditEvent) error {
	_, err := q.q.ExecContext(ctx, `INSERT INTO audit_events (id, at, actor_id, action, entity, entity_id, ip) VALUES (?,?,?,?,?,?,?)`,
		e.ID, micros(e.At), e.ActorID, e.Action, e.Entity, e.EntityID, e.IP)
	if err != nil {
		return fmt.Errorf("insert audit event: %w", err)
	}
	return q.addToCount(ctx, countAudit, e.Action, 1)
}

// auditListSQL builds ListAudit's count and page queries for f; the page
// query takes args followed by the limit and offset.
func auditListSQL(f db.AuditFilter) (count, page string, args []any) {
	var where []string
	if f.ActorID != "" {
		where = append(where, "actor_id = ?")
		args = append(args, f.ActorID)
	}
	if f.EntityID != "" {
		where = append(where, "entity_id = ?")
		args = append(args, f.EntityID)
	}
	if f.Action != "" {
		where = append(where, "action = ?")
		args = append(args, f.Action)
	}
	if f.Since != nil {
		where = append(where, "at >= ?")
		args = append(args, micros(*f.Since))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	count = `SELECT count(*) FROM audit_events` + cond
	// InsertAudit counts events by action, which totals the whole trail and
	// each action in it without reading the trail.
	if f.ActorID == "" && f.EntityID == "" && f.Since == nil {
		count = `SELECT coalesce(sum(n), 0) FROM counts WHERE name = '` + countAudit + `'`
		if f.Action != "" {
			count += ` AND part = ?`
		}
	}
	// (at, id) is the table's primary key: newest first is its own order.
	return count,
		`SELECT id, at, actor_id, action, entity, entity_id, ip FROM audit_events` + cond + ` ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`,
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
		var e model.AuditEvent
		var at int64
		var actor, entity sql.NullString
		if err := rows.Scan(&e.ID, &at, &actor, &e.Action, &e.Entity, &entity, &e.IP); err != nil {
			return nil, 0, fmt.Errorf("scan audit event: %w", err)
		}
		e.At = fromMicros(at)
		if actor.Valid {
			e.ActorID = &actor.String
		}
		if entity.Valid {
			e.EntityID = &entity.String
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
