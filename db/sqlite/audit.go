package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/anavara/anavara/audit/chain"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// InsertAudit appends e to the audit trail, linked into the hash chain
// after the trail's newest event (chain.Link), and counts it under its
// action (counts.go); the records it served and the accounts it concerns
// are indexed behind the trail (audit_indexer.go). Call it inside
// Store.Write, in the transaction of the change it records.
func (q *queries) InsertAudit(ctx context.Context, e model.AuditEvent) error {
	return q.InsertAudits(ctx, []model.AuditEvent{e})
}

// InsertAudits appends es one after another, each linked to the one
// before. SQLite has one writer, whose transactions (and the group
// commit's savepoints) run one at a time, so the head read here is the
// trail's newest event and stays so until this transaction ends: the
// chain is one total order whatever the number of processes.
func (q *queries) InsertAudits(ctx context.Context, es []model.AuditEvent) error {
	if len(es) == 0 {
		return nil
	}
	seq, prev, err := chainHead(ctx, q.q)
	if err != nil {
		return fmt.Errorf("insert audit event: %w", err)
	}
	stored := make([]storedAudit, len(es))
	for i, e := range es {
		if e.Via == "" {
			e.Via = model.ViaAPI
		}
		seq++
		prev = chain.Link(&e, seq, prev)
		if stored[i], err = storedAuditOf(e); err != nil {
			return fmt.Errorf("insert audit event: %w", err)
		}
	}
	return q.appendAudits(ctx, stored)
}

// auditRowsPerStatement bounds the rows of one multi-row INSERT of events
// (15 values each) or of their documents (3), well inside SQLite's 32,766
// bound variables.
const auditRowsPerStatement = 256

// appendAudits inserts es as they are, chain fields included, and counts
// them. The events of a batch of reads (audit.Writer) go in as one
// INSERT of many rows and each action's count as one update: a statement an event, each prepared, run and finalized on
// the writer, cost a list's batch as much as the rows it wrote.
func (q *queries) appendAudits(ctx context.Context, es []storedAudit) error {
	for chunk := range slices.Chunk(es, auditRowsPerStatement) {
		args := make([]any, 0, len(chunk)*auditColumnCount)
		for _, s := range chunk {
			args = append(args, s.values()...)
		}
		if _, err := q.q.ExecContext(ctx, insertAuditsSQL(len(chunk)), args...); err != nil {
			return fmt.Errorf("insert audit event: %w", err)
		}
	}
	var actions []string
	counts := map[string]int{}
	for _, s := range es {
		if counts[s.Action] == 0 {
			actions = append(actions, s.Action)
		}
		counts[s.Action]++
	}
	for _, action := range actions {
		if err := q.addToCount(ctx, countAudit, action, counts[action]); err != nil {
			return err
		}
	}
	return nil
}

// insertAuditsSQL appends n events, their values in auditColumns' order,
// one row after another.
func insertAuditsSQL(n int) string {
	row := "(?" + strings.Repeat(",?", auditColumnCount-1) + ")"
	return `INSERT INTO audit_events (` + auditColumns + `) VALUES ` + row + strings.Repeat(","+row, n-1)
}

// chainHead is the newest event's place in the chain and hash: 0 and
// chain.Genesis on a trail with none.
func chainHead(ctx context.Context, q querier) (int64, [chain.Size]byte, error) {
	var seq int64
	var hash []byte
	err := q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	var h [chain.Size]byte
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, chain.Genesis, nil
	case err != nil:
		return 0, h, fmt.Errorf("the audit chain's head: %w", err)
	case len(hash) != chain.Size:
		return 0, h, fmt.Errorf("the audit chain's head (event %d) has a hash of %d bytes", seq, len(hash))
	}
	copy(h[:], hash)
	return seq, h, nil
}

// AuditHead returns the chain's newest link.
func (q *queries) AuditHead(ctx context.Context) (model.AuditHead, error) {
	var seq, at int64
	var hash []byte
	err := q.q.QueryRowContext(ctx, `SELECT seq, hash, at FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return model.AuditHead{HeadHash: chain.GenesisHex}, nil
	}
	if err != nil {
		return model.AuditHead{}, fmt.Errorf("audit head: %w", err)
	}
	t := fromMicros(at)
	return model.AuditHead{Count: seq, HeadHash: hex.EncodeToString(hash), At: &t}, nil
}

// storedAudit is an event with its columns as stored: text, blobs, or
// NULL when the event has none.
type storedAudit struct {
	model.AuditEvent
	detail, recordIDs, subjectIDs, seq, prevHash, hash any
}

// values are s's values for auditColumns, in order.
func (s storedAudit) values() []any {
	return []any{s.ID, micros(s.At), s.ActorID, s.Action, s.Entity, s.EntityID, s.IP, s.detail, s.recordIDs,
		s.Via, s.subjectIDs, s.seq, s.prevHash, s.hash, s.TokenID}
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
		b, err := packIDs(nil, e.RecordIDs)
		if err != nil {
			return s, fmt.Errorf("record %w", err)
		}
		s.recordIDs = b
	}
	if len(e.SubjectIDs) > 0 {
		b, err := packSubjects(e.SubjectIDs, len(e.RecordIDs))
		if err != nil {
			return s, err
		}
		s.subjectIDs = b
	}
	if e.Seq > 0 {
		prev, ok := chain.Parse(e.PrevHash)
		hash, ok2 := chain.Parse(e.Hash)
		if !ok || !ok2 {
			return s, fmt.Errorf("audit event %s: malformed chain hashes", e.ID)
		}
		s.seq, s.prevHash, s.hash = e.Seq, prev[:], hash[:]
	}
	return s, nil
}

// packIDs appends the 16 bytes of each uuid in ids to b.
func packIDs(b []byte, ids []string) ([]byte, error) {
	b = slices.Grow(b, 16*len(ids))
	for _, id := range ids {
		// Of the forms uuid.Parse accepts, only the 36-character one has
		// 36 characters, and only its letters' case can then differ from
		// the canonical: no String and its allocation an id to find out.
		u, err := uuid.Parse(id)
		if err != nil || len(id) != 36 || strings.ContainsAny(id, "ABCDEF") {
			return nil, fmt.Errorf("id %q is not a lower-case uuid", id)
		}
		b = append(b, u[:]...)
	}
	return b, nil
}

// unpackIDs reads 16-byte uuids.
func unpackIDs(b []byte) []string {
	ids := make([]string, 0, len(b)/16)
	for ; len(b) >= 16; b = b[16:] {
		ids = append(ids, uuid.UUID(b[:16]).String())
	}
	return ids
}

// How subject_ids is stored: a format byte, then
const (
	// subjectsList: the ids, 16 bytes each;
	subjectsList byte = 0
	// subjectsByRecord: parallel to record_ids, the distinct ids, 16 bytes
	// each, then for each record served one byte, the index of its owner
	// among them. A staff list of 20 records of 3 patients takes 69 bytes,
	// not 320, which keeps the event inside its B-tree cell.
	subjectsByRecord byte = 1
)

// packSubjects stores subjects, parallel to the event's records when
// there are as many of them.
func packSubjects(subjects []string, records int) ([]byte, error) {
	if records == 0 || len(subjects) != records {
		b, err := packIDs([]byte{subjectsList}, subjects)
		if err != nil {
			return nil, fmt.Errorf("subject %w", err)
		}
		return b, nil
	}
	var distinct []string
	index := make([]byte, len(subjects))
	for i, id := range subjects {
		j := slices.Index(distinct, id)
		if j < 0 {
			j = len(distinct)
			distinct = append(distinct, id)
		}
		if j > 255 {
			return packSubjects(subjects, 0)
		}
		index[i] = byte(j)
	}
	b, err := packIDs([]byte{subjectsByRecord}, distinct)
	if err != nil {
		return nil, fmt.Errorf("subject %w", err)
	}
	return append(b, index...), nil
}

// unpackSubjects reads what packSubjects stored for an event of records
// records.
func unpackSubjects(b []byte, records int) ([]string, error) {
	stored, err := parseSubjects(b, records)
	if err != nil {
		return nil, err
	}
	distinct := unpackIDs(stored.ids)
	if !stored.byRecord {
		return distinct, nil
	}
	subjects := make([]string, len(stored.index))
	for i, j := range stored.index {
		subjects[i] = distinct[j]
	}
	return subjects, nil
}

// indexAudit adds e's records and subjects to audit_index, one document
// whatever the number of ids, under docid = the event's seq, which the
// readers join on (audit_events_seq): migration 18's way of filling it,
// where the store indexes many events a step (audit_indexer.go). An event
// outside the chain (no seq: only a trail changed behind the code's back
// has one, and audit verify reports it) is not indexed, nor one that names
// no record and no account.
func indexAudit(ctx context.Context, q querier, e storedAudit) error {
	if e.Seq <= 0 || len(e.RecordIDs)+len(e.SubjectIDs) == 0 {
		return nil
	}
	return insertAuditDocuments(ctx, q, []auditDocument{{seq: e.Seq, records: termsOf(e.RecordIDs), subjects: termsOf(e.SubjectIDs)}})
}

// termsOf is the document of ids: each one's term (recordTerm), once,
// separated by spaces. It is built in one buffer, not a string or two an
// id: every list's event has two documents of 20 ids.
func termsOf(ids []string) string {
	doc := make([]byte, 0, len(ids)*(len("0123456789abcdef0123456789abcdef")+1))
	for _, id := range ids {
		end := len(doc)
		if end > 0 {
			doc = append(doc, ' ')
		}
		start := len(doc)
		doc = appendTerm(doc, id)
		if hasTerm(doc[:end], doc[start:]) {
			doc = doc[:end]
		}
	}
	return string(doc)
}

// appendTerm appends id's term (recordTerm) to doc.
func appendTerm(doc []byte, id string) []byte {
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= utf8.RuneSelf: // beyond ASCII: strings.ToLower's rules
			return append(doc, recordTerm(id[i:])...)
		case c == '-':
		case 'A' <= c && c <= 'Z':
			doc = append(doc, c+'a'-'A')
		default:
			doc = append(doc, c)
		}
	}
	return doc
}

// hasTerm reports whether doc, terms separated by spaces, holds term.
func hasTerm(doc, term []byte) bool {
	for len(doc) > 0 {
		t, rest, _ := bytes.Cut(doc, []byte{' '})
		if bytes.Equal(t, term) {
			return true
		}
		doc = rest
	}
	return false
}

// indexTerms inserts one document of ids' terms, each once, into the
// index named by into ("table (column"), keyed by e's (at, id): the two
// indexes of migrations 14 and 15, which audit_index replaced, and its
// migration's Down restores.
func indexTerms(ctx context.Context, q querier, into string, e storedAudit, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := q.ExecContext(ctx, `INSERT INTO `+into+`, event_at, event_id) VALUES (?, ?, ?)`,
		termsOf(ids), micros(e.At), e.ID)
	return err
}

// recordTerm is the term audit_index holds for an id: FTS4's simple tokenizer would cut a uuid at its hyphens into
// five words.
func recordTerm(id string) string { return strings.ReplaceAll(strings.ToLower(id), "-", "") }

// auditColumns are the columns of audit_events scanAudit reads, in order,
// auditColumnCount of them.
const (
	auditColumns     = `id, at, actor_id, action, entity, entity_id, ip, detail, record_ids, via, subject_ids, seq, prev_hash, hash, token_id`
	auditColumnCount = 15
)

// auditColumnsBeforeTokens are auditColumns for a trail before the API
// tokens' migration added token_id (the audit chain's migration, which
// runs before it, reads it so): NULL in its place.
const auditColumnsBeforeTokens = `id, at, actor_id, action, entity, entity_id, ip, detail, record_ids, via, subject_ids, seq, prev_hash, hash, NULL`

func scanAudit(row scanner) (model.AuditEvent, error) {
	var e model.AuditEvent
	var at int64
	var actor, entity, detail, token sql.NullString
	var seq sql.NullInt64
	var recordIDs, subjectIDs, prevHash, hash []byte
	if err := row.Scan(&e.ID, &at, &actor, &e.Action, &e.Entity, &entity, &e.IP, &detail, &recordIDs,
		&e.Via, &subjectIDs, &seq, &prevHash, &hash, &token); err != nil {
		return e, fmt.Errorf("scan audit event: %w", err)
	}
	if token.Valid {
		e.TokenID = &token.String
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
		e.RecordIDs = unpackIDs(recordIDs)
	}
	if subjectIDs != nil {
		var err error
		if e.SubjectIDs, err = unpackSubjects(subjectIDs, len(e.RecordIDs)); err != nil {
			return e, fmt.Errorf("scan audit event %s: %w", e.ID, err)
		}
	}
	// Whatever is stored, malformed or not, is shown as it is: the chain's
	// verifier is what judges it.
	e.Seq = seq.Int64
	e.PrevHash, e.Hash = hex.EncodeToString(prevHash), hex.EncodeToString(hash)
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
// query takes args followed by the limit and offset, the count query
// countArgs (the page's but a seek's).
//
// A filter by entity finds the events about it (entity_id), a range of an
// index in the trail's order, and those that served it: one term of
// audit_index's records, each found by its seq, and the events after
// audit_index_through (audit_tail.go), which the page sorts.
func auditListSQL(f db.AuditFilter) (count, page string, args, countArgs []any, err error) {
	where, condArgs := auditConditions(f)
	seek, seekArgs, err := seekCondition("e.at", "e.id", f.Seek, true)
	if err != nil {
		return "", "", nil, nil, err
	}
	seekWhere := where
	if seek != "" {
		seekWhere = append(append([]string(nil), where...), seek)
	}
	dir := direction(f.Seek, true)
	if f.EntityID != "" {
		about := ` FROM audit_events e WHERE ` + strings.Join(append([]string{"e.entity_id = ?"}, where...), " AND ")
		aboutPage := ` FROM audit_events e WHERE ` + strings.Join(append([]string{"e.entity_id = ?"}, seekWhere...), " AND ")
		count = `SELECT (SELECT count(*)` + about + `)`
		page = `SELECT ` + auditColumnsOf("e") + aboutPage
		countArgs = append([]any{f.EntityID}, condArgs...)
		args = append(append([]any{f.EntityID}, condArgs...), seekArgs...)
		// Only a uuid names a record, and only a term of hex digits is
		// safe to hand to MATCH as it is.
		if model.ValidUUID(f.EntityID) {
			// An event about the record that also served it is counted
			// once, as one about it.
			served := []string{"x.records MATCH ?", "(e.entity_id IS NULL OR e.entity_id <> ?)"}
			from := ` FROM audit_index x JOIN audit_events e ON e.seq = x.docid WHERE `
			count += ` + (SELECT count(*)` + from + strings.Join(append(served, where...), " AND ") + `)`
			page += ` UNION ALL SELECT ` + auditColumnsOf("e") + from + strings.Join(append(served, seekWhere...), " AND ")
			countArgs = append(append(countArgs, recordTerm(f.EntityID), f.EntityID), condArgs...)
			args = append(append(append(args, recordTerm(f.EntityID), f.EntityID), condArgs...), seekArgs...)
			// And those the index has not reached yet (audit_tail.go).
			tail := []string{"e.seq > " + auditThroughSQL, tailServedSQL, "(e.entity_id IS NULL OR e.entity_id <> ?)"}
			tailArgs := append(tailIDArgs(f.EntityID), f.EntityID)
			const tailFrom = ` FROM audit_events e INDEXED BY audit_events_seq WHERE `
			count += ` + (SELECT count(*)` + tailFrom + strings.Join(append(tail, where...), " AND ") + `)`
			page += ` UNION ALL SELECT ` + auditColumnsOf("e") + tailFrom + strings.Join(append(tail, seekWhere...), " AND ")
			countArgs = append(append(countArgs, tailArgs...), condArgs...)
			args = append(append(append(args, tailArgs...), condArgs...), seekArgs...)
		}
		return count, page + ` ORDER BY 2 ` + dir + `, 1 ` + dir + ` LIMIT ? OFFSET ?`, args, countArgs, nil
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
	if len(seekWhere) > 0 {
		cond = " WHERE " + strings.Join(seekWhere, " AND ")
	}
	// (at, id) is the table's primary key: newest first is its own order.
	return count,
		`SELECT ` + auditColumnsOf("e") + ` FROM audit_events e` + cond + ` ORDER BY e.at ` + dir + `, e.id ` + dir + ` LIMIT ? OFFSET ?`,
		append(append([]any(nil), condArgs...), seekArgs...), condArgs, nil
}

// ListAudit returns one page of events, newest first, and the total count.
func (q *queries) ListAudit(ctx context.Context, f db.AuditFilter) ([]model.AuditEvent, int, error) {
	countSQL, pageSQL, args, countArgs, err := auditListSQL(f)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	events, count, err := q.auditPage(ctx, countSQL, pageSQL, args, countArgs, f.Limit, f.Offset, f.Seek)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit events: %w", err)
	}
	return events, count, nil
}

// auditPage runs a page query of events (pageSQL, taking args then the
// limit and offset) and, when the page does not tell, the count query
// (taking countArgs); a page starting at seek is put in the list's order.
func (q *queries) auditPage(ctx context.Context, countSQL, pageSQL string, args, countArgs []any, limit, offset int, seek *db.Seek) ([]model.AuditEvent, int, error) {
	// One row past the page, so a last page needs no count (pageTotal).
	rows, err := q.q.QueryContext(ctx, pageSQL, pageArgs(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	events := make([]model.AuditEvent, 0, db.PageCapacity(limit))
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, 0, err
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	events, count, err := pageTotal(ctx, q.q, events, limit, offset, seek != nil, countSQL, countArgs)
	if err != nil {
		return nil, 0, err
	}
	return db.InListOrder(events, seek), count, nil
}
