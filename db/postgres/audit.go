package postgres

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/anavara/anavara/audit/chain"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// auditColumns are the columns of audit_events scanAudit reads, in order.
const auditColumns = `id, at, actor_id, action, entity, entity_id, ip, detail, record_ids, via, subject_ids, seq, prev_hash, hash, token_id`

// auditColumnsBeforeTokens are the columns of the trail before the API
// tokens' migration added token_id, which the audit chain's migration,
// run before it, reads (scanLegacyAudit).
const auditColumnsBeforeTokens = `id, at, actor_id, action, entity, entity_id, ip, detail, record_ids, via, subject_ids, seq, prev_hash, hash`

// auditColumnsOf is auditColumns of the table alias.
func auditColumnsOf(alias string) string {
	return alias + "." + strings.ReplaceAll(auditColumns, ", ", ", "+alias+".")
}

// auditRow is an event's values for auditColumns, checked: every id a
// uuid, the detail text or NULL, the id lists arrays or NULL, the chain's
// hashes bytes (NULL with seq when the event is not linked yet).
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
	recordIDs, err := idList("audit event record id", e.RecordIDs)
	if err != nil {
		return nil, err
	}
	subjectIDs, err := idList("audit event subject id", e.SubjectIDs)
	if err != nil {
		return nil, err
	}
	token, err := optionalIDArg("audit event token id", e.TokenID)
	if err != nil {
		return nil, err
	}
	var seq *int64
	var prevHash, hash []byte
	if e.Seq > 0 {
		p, ok := chain.Parse(e.PrevHash)
		h, ok2 := chain.Parse(e.Hash)
		if !ok || !ok2 {
			return nil, fmt.Errorf("audit event %s: malformed chain hashes", e.ID)
		}
		seq, prevHash, hash = &e.Seq, p[:], h[:]
	}
	return []any{id, at(e.At), actor, e.Action, e.Entity, e.EntityID, e.IP, detail, recordIDs,
		e.Via, subjectIDs, seq, prevHash, hash, token}, nil
}

// idList checks ids for a uuid[] column: none stores NULL. They go as
// pgtype.UUIDs, which pgx sends in binary; a []string for a uuid[] fails
// the binary encoding, which pgx tries first, builds an error quoting the
// whole list and sends the text instead, for the server to parse: a
// quarter of the audit writer's CPU, with two lists an event.
func idList(what string, ids []string) ([]pgtype.UUID, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	out := make([]pgtype.UUID, len(ids))
	for i, id := range ids {
		u, ok := parseID(id)
		if !ok {
			return nil, fmt.Errorf("%s %q is not a uuid", what, id)
		}
		out[i] = pgtype.UUID{Bytes: u, Valid: true}
	}
	return out, nil
}

func scanAudit(row pgx.Row) (model.AuditEvent, error) {
	var e model.AuditEvent
	var detail *string
	var seq *int64
	var prevHash, hash []byte
	if err := row.Scan(&e.ID, &e.At, &e.ActorID, &e.Action, &e.Entity, &e.EntityID, &e.IP, &detail, &e.RecordIDs,
		&e.Via, &e.SubjectIDs, &seq, &prevHash, &hash, &e.TokenID); err != nil {
		return e, err
	}
	e.At = e.At.UTC()
	if detail != nil {
		e.Detail = []byte(*detail)
	}
	if seq != nil {
		e.Seq = *seq
	}
	// Whatever is stored, malformed or not, is shown as it is: the chain's
	// verifier is what judges it.
	e.PrevHash, e.Hash = hex.EncodeToString(prevHash), hex.EncodeToString(hash)
	return e, nil
}

// InsertAudit queues e for the trail, checked now and appended when the
// transaction commits (writeAudits), with its counter move.
func (t *tx) InsertAudit(ctx context.Context, e model.AuditEvent) error {
	return t.InsertAudits(ctx, []model.AuditEvent{e})
}

// InsertAudits queues es, in order, as InsertAudit queues each.
func (t *tx) InsertAudits(ctx context.Context, es []model.AuditEvent) error {
	for _, e := range es {
		if e.Via == "" {
			e.Via = model.ViaAPI
		}
		// The chain's fields are the store's to fill, at commit.
		e.Seq, e.PrevHash, e.Hash = 0, "", ""
		if _, err := auditRow(e); err != nil {
			return fmt.Errorf("insert audit event: %w", err)
		}
		t.pendingAudits = append(t.pendingAudits, e)
	}
	return nil
}

// chainLock is the key of the transaction-level advisory lock under which
// events are linked into the chain: "anavara audit chain" folded into 64
// bits, so that no other user of the database is likely to pick it.
const chainLock int64 = 0x616e617661726163

// writeAudits appends the queued events, each linked into the hash chain
// after the trail's newest event, in one round trip: the lock, then each
// event's INSERT, which reads the head and hashes the event in the
// database (linkAuditSQL), pipelined. The chain is one total order over
// every process: each transaction takes chainLock, which it holds until
// it commits, and each INSERT is a statement whose snapshot (READ
// COMMITTED, taken when it starts, after the lock is held) sees the
// commit of the lock's last holder, which is visible before its lock is
// released, and the events this transaction inserted before it. It runs
// at commit, after fn, with the transaction's counter moves in the same
// round trip, so that the lock is held for that round trip and the COMMIT
// only, as the counter rows already were.
func (t *tx) writeAudits(ctx context.Context) error {
	if len(t.pendingAudits) == 0 {
		return nil
	}
	es := t.pendingAudits
	t.pendingAudits = nil
	batcher, ok := t.q.(interface {
		SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	})
	if !ok {
		return errors.New("insert audit events: the transaction cannot send a batch")
	}
	var b pgx.Batch
	b.Queue(`SELECT pg_advisory_xact_lock($1)`, chainLock)
	var fields []byte
	for _, e := range es {
		row, err := auditRow(e)
		if err != nil {
			return fmt.Errorf("insert audit event: %w", err)
		}
		fields = chain.EncodeFields(fields[:0], e)
		// The event's own prefix: version 2 for one that names a token.
		b.Queue(linkAuditSQL, append(row[:11:11], row[14], []byte(chain.PrefixOf(e)), slices.Clone(fields), chain.Genesis[:])...)
	}
	// The counter moves, these events' among them, ride in the same
	// round trip: the lock is held until the COMMIT, and every round trip
	// under it is one more that no other writer can overlap.
	for _, e := range es {
		t.addToCount(countAudit, e.Action, 1)
	}
	counters := t.pendingStatements()
	for _, st := range counters {
		b.Queue(st.query, st.args...)
	}
	results := batcher.SendBatch(ctx, &b)
	if _, err := results.Exec(); err != nil {
		results.Close()
		return fmt.Errorf("insert audit events: lock the chain: %w", err)
	}
	for range es {
		if _, err := results.Exec(); err != nil {
			results.Close()
			return fmt.Errorf("insert audit events: %w", err)
		}
	}
	for range counters {
		if _, err := results.Exec(); err != nil {
			results.Close()
			return fmt.Errorf("count: %w", err)
		}
	}
	if err := results.Close(); err != nil {
		return fmt.Errorf("insert audit events: %w", err)
	}
	t.pending, t.pendingWords = nil, nil
	return nil
}

// linkAuditSQL appends one event, its first 11 values in auditColumns'
// order and its token_id ($12), linked after the trail's newest event:
// seq one more, prev_hash its hash (Genesis, $15, on an empty trail) and
// hash the SHA-256 of chain.Encode's bytes, put together here from the
// event's prefix, chain.PrefixOf ($13: version 1, or 2 for an event with
// a token), the seq field (its length as 4 bytes big-endian, int4send's,
// then its digits) and chain.EncodeFields ($14), then the previous hash.
// The conformance suite (AuditChain) holds the two to the same bytes.
const linkAuditSQL = `INSERT INTO audit_events (` + auditColumns + `)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, h.seq, h.prev,
	sha256($13::bytea || int4send(octet_length(h.seq::text)) || convert_to(h.seq::text, 'UTF8') || $14::bytea || h.prev),
	$12
FROM (SELECT coalesce(last.seq, 0) + 1 AS seq, coalesce(last.hash, $15::bytea) AS prev
	FROM (VALUES (1)) AS one
	LEFT JOIN LATERAL (SELECT seq, hash FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1) AS last ON true) AS h`

// flushAudits appends the transaction's queued events before a read of
// the trail, so that it sees them, as it would on SQLite. Outside a
// transaction there are none.
func (r *reader) flushAudits(ctx context.Context) error {
	if r.tx == nil {
		return nil
	}
	return r.tx.writeAudits(ctx)
}

// AuditHead returns the chain's newest link.
func (r *reader) AuditHead(ctx context.Context) (model.AuditHead, error) {
	if err := r.flushAudits(ctx); err != nil {
		return model.AuditHead{}, err
	}
	var head model.AuditHead
	var hash []byte
	var t time.Time
	err := r.q.QueryRow(ctx, `SELECT seq, hash, at FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1`).Scan(&head.Count, &hash, &t)
	if errors.Is(err, pgx.ErrNoRows) {
		return model.AuditHead{HeadHash: chain.GenesisHex}, nil
	}
	if err != nil {
		return model.AuditHead{}, fmt.Errorf("audit head: %w", err)
	}
	t = t.UTC()
	head.HeadHash, head.At = hex.EncodeToString(hash), &t
	return head, nil
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
	if err := r.flushAudits(ctx); err != nil {
		return nil, 0, err
	}
	countW, countSQL, _, err := auditListWhere(f, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	w, _, pageSQL, err := auditListWhere(f, f.Seek)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	countArgs := countW.args
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
	dir := direction(f.Seek, true)
	page, args := w.page("at "+dir+", id "+dir, f.Limit, f.Offset)
	rows, err := r.q.Query(ctx, pageSQL+page, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	events, err := collect(rows, db.PageCapacity(f.Limit), scanAudit)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	events, count, err := pageTotal(ctx, r.q, events, f.Limit, f.Offset, f.Seek != nil, countSQL, countArgs)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	return db.InListOrder(events, f.Seek), count, nil
}

// auditListWhere builds ListAudit's count and page queries (but the
// page's ORDER BY and LIMIT) for f, each part with the row comparison of
// a page starting at seek, if any, and their parameters (w.args).
func auditListWhere(f db.AuditFilter, seek *db.Seek) (w where, countSQL, pageSQL string, err error) {
	// f's conditions but the entity's, on the events aliased e, and the
	// seek's.
	conds := func() {
		if e := w.seek("e.at", "e.id", seek, true); e != nil {
			err = e
		}
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
	return w, countSQL, pageSQL, err
}
