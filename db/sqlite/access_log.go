package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// accessLogSQL builds AccessLog's count and page queries for f; the page
// query takes args followed by the limit and offset, the count query
// countArgs (the page's but a seek's).
//
// The events concerning the account are one term of audit_index's
// subjects, each found by its seq, and those after audit_index_through
// (audit_tail.go); population exports, which concern everyone, are a range
// of the action index. The page sorts them: an account's log is its own
// events, not the trail's.
func accessLogSQL(f db.AccessLogFilter) (count, page string, args, countArgs []any, err error) {
	term := recordTerm(f.SubjectID)
	mine := []string{"x.subjects MATCH ?", "(e.actor_id IS NULL OR e.actor_id <> ?)"}
	mineArgs := []any{term, f.SubjectID}
	// The events audit_index has not reached yet (audit_tail.go).
	newer := []string{"e.seq > " + auditThroughSQL, tailConcernsSQL, "(e.actor_id IS NULL OR e.actor_id <> ?)"}
	newerArgs := append(tailIDArgs(f.SubjectID), f.SubjectID)
	everyone := []string{"e.action = '" + model.ActionPopulationExport + "'"}
	var everyoneArgs []any
	if f.Since != nil {
		mine = append(mine, "e.at >= ?")
		mineArgs = append(mineArgs, micros(*f.Since))
		newer = append(newer, "e.at >= ?")
		newerArgs = append(newerArgs, micros(*f.Since))
		everyone = append(everyone, "e.at >= ?")
		everyoneArgs = append(everyoneArgs, micros(*f.Since))
	}
	if f.RecordID != "" {
		mine = append(mine, "(e.entity_id = ? OR e.seq IN (SELECT docid FROM audit_index WHERE records MATCH ?))")
		mineArgs = append(mineArgs, f.RecordID, recordTerm(f.RecordID))
		newer = append(newer, "(e.entity_id = ? OR "+tailServedSQL+")")
		newerArgs = append(append(newerArgs, f.RecordID), tailIDArgs(f.RecordID)...)
	}
	seek, seekArgs, err := seekCondition("e.at", "e.id", f.Seek, true)
	if err != nil {
		return "", "", nil, nil, err
	}
	const mineFrom = ` FROM audit_index x JOIN audit_events e ON e.seq = x.docid WHERE `
	// The events after audit_index_through are a range of the seq index,
	// which SQLite would otherwise pass over for the trail's order.
	const newerFrom = ` FROM audit_events e INDEXED BY audit_events_seq WHERE `
	const everyoneFrom = ` FROM audit_events e WHERE `
	count = `SELECT (SELECT count(*)` + mineFrom + strings.Join(mine, " AND ") +
		`) + (SELECT count(*)` + newerFrom + strings.Join(newer, " AND ") +
		`) + (SELECT count(*)` + everyoneFrom + strings.Join(everyone, " AND ") + `)`
	countArgs = append(append(append([]any(nil), mineArgs...), newerArgs...), everyoneArgs...)
	if seek != "" {
		mine, newer, everyone = append(mine, seek), append(newer, seek), append(everyone, seek)
		mineArgs, everyoneArgs = append(mineArgs, seekArgs...), append(everyoneArgs, seekArgs...)
		newerArgs = append(newerArgs, seekArgs...)
	}
	dir := direction(f.Seek, true)
	page = `SELECT ` + auditColumnsOf("e") + mineFrom + strings.Join(mine, " AND ") +
		` UNION ALL SELECT ` + auditColumnsOf("e") + newerFrom + strings.Join(newer, " AND ") +
		` UNION ALL SELECT ` + auditColumnsOf("e") + everyoneFrom + strings.Join(everyone, " AND ") +
		` ORDER BY 2 ` + dir + `, 1 ` + dir + ` LIMIT ? OFFSET ?`
	return count, page, append(append(mineArgs, newerArgs...), everyoneArgs...), countArgs, nil
}

// AccessLog returns one page of the account's access log, newest first,
// and its number of events. Only a uuid names an account, and only a term
// of hex digits is safe to hand to MATCH as it is, so anything else finds
// nothing.
func (q *queries) AccessLog(ctx context.Context, f db.AccessLogFilter) ([]model.AuditEvent, int, error) {
	if !model.ValidUUID(f.SubjectID) || (f.RecordID != "" && !model.ValidUUID(f.RecordID)) {
		return []model.AuditEvent{}, 0, nil
	}
	countSQL, pageSQL, args, countArgs, err := accessLogSQL(f)
	if err != nil {
		return nil, 0, fmt.Errorf("access log: %w", err)
	}
	events, count, err := q.auditPage(ctx, countSQL, pageSQL, args, countArgs, f.Limit, f.Offset, f.Seek)
	if err != nil {
		return nil, 0, fmt.Errorf("access log: %w", err)
	}
	return events, count, nil
}

// EachAudit walks the chain by seq (its unique index), then the events
// outside it in the trail's order.
func (s *snapshot) EachAudit(ctx context.Context, fn func(model.AuditEvent) error) error {
	each := func(row scanner) error {
		e, err := scanAudit(row)
		if err != nil {
			return err
		}
		return fn(e)
	}
	if err := walk(ctx, s.tx, `SELECT `+auditColumns+` FROM audit_events WHERE seq IS NOT NULL ORDER BY seq`, nil, each); err != nil {
		return err
	}
	return walk(ctx, s.tx, `SELECT `+auditColumns+` FROM audit_events WHERE seq IS NULL ORDER BY at, id`, nil, each)
}
