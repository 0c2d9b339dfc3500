package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// auditColumns are the columns of audit_events scanAudit reads, in order.
const auditColumns = `id, at, actor_id, action, entity, entity_id, ip, detail, record_ids`

// auditColumnsOf is auditColumns of the table alias.
func auditColumnsOf(alias string) string {
	return alias + "." + strings.ReplaceAll(auditColumns, ", ", ", "+alias+".")
}

// auditRow is an event's values for auditColumns, checked: every id a
// uuid, the detail text or NULL, the record ids an array or NULL.
func auditRow(e model.AuditEvent) ([]any, error) {
	id, err := idArg("audit event id", e.ID)
	if err != nil {
		return nil, err
	}
	actor, err := optionalIDArg("audit event actor id", e.ActorID)
	if err != nil {
		return nil, err
	}
	var detail *string
	if e.Detail != nil {
		s := string(e.Detail)
		detail = &s
	}
	var recordIDs []string // NULL when the event served no records
	for _, r := range e.RecordIDs {
		if _, err := idArg("audit event record id", r); err != nil {
			return nil, err
		}
		recordIDs = append(recordIDs, r)
	}
	return []any{id, at(e.At), actor, e.Action, e.Entity, e.EntityID, e.IP, detail, recordIDs}, nil
}

func scanAudit(row pgx.Row) (model.AuditEvent, error) {
	var e model.AuditEvent
	var detail *string
	if err := row.Scan(&e.ID, &e.At, &e.ActorID, &e.Action, &e.Entity, &e.EntityID, &e.IP, &detail, &e.RecordIDs); err != nil {
		return e, err
	}
	e.At = e.At.UTC()
	if detail != nil {
		e.Detail = []byte(*detail)
	}
	return e, nil
}

// InsertAudit appends e to the audit trail, the records it served indexed
// with it (audit_events_record_ids), and counts it under its action
// (counts.go), in the transaction of the change it records.
func (t *tx) InsertAudit(ctx context.Context, e model.AuditEvent) error {
	row, err := auditRow(e)
	if err != nil {
		return fmt.Errorf("insert audit event: %w", err)
	}
	if _, err := t.q.Exec(ctx, insertAuditSQL, row...); err != nil {
		return fmt.Errorf("insert audit event: %w", err)
	}
	t.addToCount(countAudit, e.Action, 1)
	return nil
}

// insertAuditSQL appends one event, its values in auditColumns' order.
const insertAuditSQL = `INSERT INTO audit_events (` + auditColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

// InsertAudits appends es in one round trip (a pipelined batch of
// InsertAudit's statement), counting each under its action.
func (t *tx) InsertAudits(ctx context.Context, es []model.AuditEvent) error {
	batcher, ok := t.q.(interface {
		SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	})
	if !ok || len(es) < 2 {
		for _, e := range es {
			if err := t.InsertAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	}
	var b pgx.Batch
	for _, e := range es {
		row, err := auditRow(e)
		if err != nil {
			return fmt.Errorf("insert audit event: %w", err)
		}
		b.Queue(insertAuditSQL, row...)
	}
	results := batcher.SendBatch(ctx, &b)
	for range es {
		if _, err := results.Exec(); err != nil {
			results.Close()
			return fmt.Errorf("insert audit events: %w", err)
		}
	}
	if err := results.Close(); err != nil {
		return fmt.Errorf("insert audit events: %w", err)
	}
	for _, e := range es {
		t.addToCount(countAudit, e.Action, 1)
	}
	return nil
}

// ListAudit returns one page of events, newest first (id breaking ties),
// and the number matching f. A filter by an actor id that is not a uuid
// matches nothing.
//
// A filter by entity finds the events about it (entity_id), a range of an
// index in the trail's order, and, when it is a uuid, the events that
// served it, one key of the GIN index over record_ids, which the page
// sorts.
func (r *reader) ListAudit(ctx context.Context, f db.AuditFilter) ([]model.AuditEvent, int, error) {
	if f.ActorID != "" && !validID(f.ActorID) {
		return []model.AuditEvent{}, 0, nil
	}
	var w where
	// f's conditions but the entity's, on the events aliased e.
	conds := func() {
		if f.ActorID != "" {
			w.add("e.actor_id = ", f.ActorID)
		}
		if f.Action != "" {
			w.add("e.action = ", f.Action)
		}
		if f.Since != nil {
			w.add("e.at >= ", at(*f.Since))
		}
	}
	var countSQL, pageSQL string
	switch {
	case f.EntityID != "":
		w.add("e.entity_id = ", f.EntityID)
		conds()
		about := ` FROM audit_events e` + w.sql()
		countSQL, pageSQL = `SELECT (SELECT count(*)`+about+`)`, `SELECT `+auditColumnsOf("e")+about
		if validID(f.EntityID) {
			aboutConds := w.conds
			w.conds = nil
			// An event about the record that also served it is counted
			// once, as one about it.
			w.add("e.record_ids @> ARRAY[", f.EntityID, "::uuid]")
			w.add("e.entity_id IS DISTINCT FROM ", f.EntityID)
			conds()
			served := ` FROM audit_events e` + w.sql()
			countSQL += ` + (SELECT count(*)` + served + `)`
			pageSQL += ` UNION ALL SELECT ` + auditColumnsOf("e") + served
			w.conds = append(aboutConds, w.conds...) // for the page's numbering only
		}
	default:
		conds()
		countSQL, pageSQL = `SELECT count(*) FROM audit_events e`+w.sql(), `SELECT `+auditColumnsOf("e")+` FROM audit_events e`+w.sql()
	}
	countArgs := w.args
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
	rows, err := r.q.Query(ctx, pageSQL+page, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	events, err := collect(rows, db.PageCapacity(f.Limit), scanAudit)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	events, count, err := pageTotal(ctx, r.q, events, f.Limit, f.Offset, countSQL, countArgs)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	return events, count, nil
}
