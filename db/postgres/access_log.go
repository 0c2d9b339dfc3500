package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// AccessLog returns one page of the account's access log, newest first,
// and its number of events. The events concerning the account are one key
// of the GIN index over subject_ids; population exports, which concern
// everyone, a range of the action index; the page sorts the two. Ids that
// are not uuids find nothing.
func (r *reader) AccessLog(ctx context.Context, f db.AccessLogFilter) ([]model.AuditEvent, int, error) {
	if !validID(f.SubjectID) || (f.RecordID != "" && !validID(f.RecordID)) {
		return []model.AuditEvent{}, 0, nil
	}
	if err := r.flushAudits(ctx); err != nil {
		return nil, 0, err
	}
	countW, mine, everyone, err := accessLogWhere(f, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("access log: %w", err)
	}
	countSQL := `SELECT (SELECT count(*)` + mine + `) + (SELECT count(*)` + everyone + `)`
	w := countW
	if f.Seek != nil {
		if w, mine, everyone, err = accessLogWhere(f, f.Seek); err != nil {
			return nil, 0, fmt.Errorf("access log: %w", err)
		}
	}
	pageSQL := `SELECT ` + auditColumnsOf("e") + mine + ` UNION ALL SELECT ` + auditColumnsOf("e") + everyone
	dir := direction(f.Seek, true)
	page, args := w.page("at "+dir+", id "+dir, f.Limit, f.Offset)
	rows, err := r.q.Query(ctx, pageSQL+page, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("access log: %w", err)
	}
	events, err := collect(rows, db.PageCapacity(f.Limit), scanAudit)
	if err != nil {
		return nil, 0, fmt.Errorf("access log: %w", err)
	}
	events, count, err := pageTotal(ctx, r.q, events, f.Limit, f.Offset, f.Seek != nil, countSQL, countW.args)
	if err != nil {
		return nil, 0, fmt.Errorf("access log: %w", err)
	}
	return db.InListOrder(events, f.Seek), count, nil
}

// accessLogWhere builds the FROM and WHERE clauses of the two parts of
// f's access log, the events concerning the account (mine) and the
// population exports (everyone), each with the row comparison of a page
// starting at seek, if any, and their parameters (w.args).
func accessLogWhere(f db.AccessLogFilter, seek *db.Seek) (w where, mine, everyone string, err error) {
	w.add("e.subject_ids @> ARRAY[", f.SubjectID, "::uuid]")
	w.add("e.actor_id IS DISTINCT FROM ", f.SubjectID, "::uuid")
	since := func() {
		if f.Since != nil {
			w.add("e.at >= ", at(*f.Since))
		}
	}
	since()
	if f.RecordID != "" {
		// The one parameter, twice: $n is the one add appends.
		n := strconv.Itoa(len(w.args) + 1)
		w.add("(e.entity_id = ", f.RecordID, " OR e.record_ids @> ARRAY[$"+n+"::uuid])")
	}
	if err := w.seek("e.at", "e.id", seek, true); err != nil {
		return w, "", "", err
	}
	mine = ` FROM audit_events e` + w.sql()
	w.conds = []string{"e.action = '" + model.ActionPopulationExport + "'"}
	since()
	if err := w.seek("e.at", "e.id", seek, true); err != nil {
		return w, "", "", err
	}
	everyone = ` FROM audit_events e WHERE ` + strings.Join(w.conds, " AND ")
	return w, mine, everyone, nil
}

// EachAudit walks the chain by seq (its unique index), then the events
// outside it in the trail's order.
func (s *snapshot) EachAudit(ctx context.Context, fn func(model.AuditEvent) error) error {
	each := func(row pgx.Row) error {
		e, err := scanAudit(row)
		if err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		return fn(e)
	}
	if err := walk(ctx, s.tx, `SELECT `+auditColumns+` FROM audit_events WHERE seq IS NOT NULL ORDER BY seq`, nil, each); err != nil {
		return err
	}
	return walk(ctx, s.tx, `SELECT `+auditColumns+` FROM audit_events WHERE seq IS NULL ORDER BY at, id`, nil, each)
}
