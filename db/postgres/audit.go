package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// InsertAudit appends e to the audit trail and counts it under its action
// (counts.go), in the transaction of the change it records.
func (t *tx) InsertAudit(ctx context.Context, e model.AuditEvent) error {
	id, err := idArg("insert audit event: id", e.ID)
	if err != nil {
		return err
	}
	actor, err := optionalIDArg("insert audit event: actor id", e.ActorID)
	if err != nil {
		return err
	}
	_, err = t.q.Exec(ctx, `INSERT INTO audit_events (id, at, actor_id, action, entity, entity_id, ip) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		id, at(e.At), actor, e.Action, e.Entity, e.EntityID, e.IP)
	if err != nil {
		return fmt.Errorf("insert audit event: %w", err)
	}
	t.addToCount(countAudit, e.Action, 1)
	return nil
}

// ListAudit returns one page of events, newest first (id breaking ties),
// and the number matching f. A filter by an actor id that is not a uuid
// matches nothing.
func (r *reader) ListAudit(ctx context.Context, f db.AuditFilter) ([]model.AuditEvent, int, error) {
	var w where
	if f.ActorID != "" {
		if !validID(f.ActorID) {
			return []model.AuditEvent{}, 0, nil
		}
		w.add("actor_id = ", f.ActorID)
	}
	if f.EntityID != "" {
		w.add("entity_id = ", f.EntityID)
	}
	if f.Action != "" {
		w.add("action = ", f.Action)
	}
	if f.Since != nil {
		w.add("at >= ", at(*f.Since))
	}
	countSQL, countArgs := `SELECT count(*) FROM audit_events`+w.sql(), w.args
	// InsertAudit counts events by action, which totals the whole trail and
	// each action in it without reading the trail.
	if f.ActorID == "" && f.EntityID == "" && f.Since == nil {
		countSQL, countArgs = `SELECT coalesce(sum(n), 0) FROM counts WHERE name = '`+countAudit+`'`, nil
		if f.Action != "" {
			countSQL, countArgs = countSQL+` AND part = $1`, []any{f.Action}
		}
		if err := r.flushCounts(ctx); err != nil {
			return nil, 0, fmt.Errorf("list audit events: %w", err)
		}
	}
	// (at, id) is the primary key: newest first is its own order.
	page, args := w.page("at DESC, id DESC", f.Limit, f.Offset)
	rows, err := r.q.Query(ctx, `SELECT id, at, actor_id, action, entity, entity_id, ip FROM audit_events`+w.sql()+page, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	events, err := collect(rows, db.PageCapacity(f.Limit), func(row pgx.Row) (model.AuditEvent, error) {
		var e model.AuditEvent
		err := row.Scan(&e.ID, &e.At, &e.ActorID, &e.Action, &e.Entity, &e.EntityID, &e.IP)
		e.At = e.At.UTC()
		return e, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	events, count, err := pageTotal(ctx, r.q, events, f.Limit, f.Offset, countSQL, countArgs)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	return events, count, nil
}
