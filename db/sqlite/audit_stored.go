package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/anavara/anavara/audit/chain"
)

// EachStoredAudit is EachAudit as stored (db.StoredAuditWalker): every
// column is scanned as raw bytes into buffers reused from row to row, and
// the event's fields are encoded straight from them, packed ids included,
// so a walk of a million events makes no string of any of them.
func (s *snapshot) EachStoredAudit(ctx context.Context, fn func(*chain.Stored) error) error {
	w := newStoredWalk()
	if err := w.run(ctx, s.tx, `SELECT `+auditColumns+` FROM audit_events WHERE seq IS NOT NULL ORDER BY seq`, fn); err != nil {
		return err
	}
	return w.run(ctx, s.tx, `SELECT `+auditColumns+` FROM audit_events WHERE seq IS NULL ORDER BY at, id`, fn)
}

// storedWalk holds the buffers of one walk: a row's columns (in
// auditColumns' order), the event as chain.Stored, its fields and their
// encoding.
type storedWalk struct {
	id, actor, action, entity, entityID, ip, detail, recordIDs, via, subjectIDs, prevHash, hash, token sql.RawBytes
	at                                                                                                 int64
	seq                                                                                                sql.NullInt64

	raw      []*sql.RawBytes
	dest     []any
	scratch  [][]byte
	records  packedIDs
	subjects storedSubjects
	fields   chain.StoredFields
	stored   chain.Stored
}

func newStoredWalk() *storedWalk {
	w := &storedWalk{}
	w.dest = []any{&w.id, &w.at, &w.actor, &w.action, &w.entity, &w.entityID, &w.ip, &w.detail, &w.recordIDs,
		&w.via, &w.subjectIDs, &w.seq, &w.prevHash, &w.hash, &w.token}
	for _, d := range w.dest {
		if r, ok := d.(*sql.RawBytes); ok {
			w.raw = append(w.raw, r)
			w.scratch = append(w.scratch, make([]byte, 0, 4096))
		}
	}
	w.stored.Fields = make([]byte, 0, 2048)
	return w
}

func (w *storedWalk) run(ctx context.Context, tx *sql.Tx, query string, fn func(*chain.Stored) error) error {
	return walk(ctx, tx, query, nil, func(row scanner) error {
		if err := w.scan(row); err != nil {
			return err
		}
		return fn(&w.stored)
	})
}

// scan reads one row into w.stored.
func (w *storedWalk) scan(row scanner) error {
	// A text column is appended to the buffer its RawBytes holds, a
	// blob's RawBytes becomes the driver's slice, and a NULL sets it to
	// nil: starting each row from an empty buffer that is not nil, nil
	// means NULL and an empty value stays distinct from it, as in
	// scanAudit. The buffers are never replaced, so a longer value than
	// they hold costs an allocation and changes nothing else.
	for i, r := range w.raw {
		*r = w.scratch[i][:0]
	}
	if err := row.Scan(w.dest...); err != nil {
		return fmt.Errorf("scan audit event: %w", err)
	}
	if w.recordIDs != nil && len(w.recordIDs)%16 != 0 {
		return fmt.Errorf("scan audit event %s: record ids of %d bytes", w.id, len(w.recordIDs))
	}
	w.records = packedIDs(w.recordIDs)
	w.subjects = storedSubjects{}
	if w.subjectIDs != nil {
		var err error
		if w.subjects, err = parseSubjects(w.subjectIDs, w.records.Len()); err != nil {
			return fmt.Errorf("scan audit event %s: %w", w.id, err)
		}
	}
	w.fields = chain.StoredFields{
		ID: w.id, At: fromMicros(w.at), ActorID: w.actor, Action: w.action, Entity: w.entity, EntityID: w.entityID,
		IP: w.ip, Via: w.via, Detail: w.detail, RecordIDs: &w.records, SubjectIDs: &w.subjects, TokenID: w.token,
	}
	w.stored.Seq, w.stored.Prefix, w.stored.ID = w.seq.Int64, chain.StoredPrefix(&w.fields), w.id
	w.stored.Fields = chain.EncodeStoredFields(w.stored.Fields[:0], &w.fields)
	w.stored.PrevHash, w.stored.Hash = w.prevHash, w.hash
	return nil
}

// packedIDs is an id list as record_ids stores it, 16 bytes an id
// (chain.IDList).
type packedIDs []byte

// Len is the number of ids.
func (p *packedIDs) Len() int { return len(*p) / 16 }

// AppendID appends the i-th id as text.
func (p *packedIDs) AppendID(buf []byte, i int) []byte {
	return chain.AppendUUID(buf, (*p)[16*i:16*i+16])
}

// storedSubjects is subject_ids as stored, in either of packSubjects'
// formats (chain.IDList): the ids, or the distinct ids and, for each
// record served, the index of its owner among them.
type storedSubjects struct {
	ids   packedIDs
	index []byte
	// byRecord is whether index holds the ids' order.
	byRecord bool
}

// Len is the number of ids.
func (s *storedSubjects) Len() int {
	if s.byRecord {
		return len(s.index)
	}
	return s.ids.Len()
}

// AppendID appends the i-th id as text.
func (s *storedSubjects) AppendID(buf []byte, i int) []byte {
	if s.byRecord {
		i = int(s.index[i])
	}
	return s.ids.AppendID(buf, i)
}

// parseSubjects reads what packSubjects stored for an event of records
// records, checking it whole, so that AppendID needs no check.
func parseSubjects(b []byte, records int) (storedSubjects, error) {
	if len(b) == 0 {
		return storedSubjects{}, fmt.Errorf("empty subject ids")
	}
	switch body := b[1:]; b[0] {
	case subjectsList:
		if len(body)%16 != 0 {
			return storedSubjects{}, fmt.Errorf("subject ids of %d bytes", len(body))
		}
		return storedSubjects{ids: body}, nil
	case subjectsByRecord:
		n := len(body) - records
		if records == 0 || n <= 0 || n%16 != 0 {
			return storedSubjects{}, fmt.Errorf("subject ids of %d bytes for %d records", len(body), records)
		}
		s := storedSubjects{ids: body[:n], index: body[n:], byRecord: true}
		for _, j := range s.index {
			if int(j) >= s.ids.Len() {
				return storedSubjects{}, fmt.Errorf("subject index %d of %d", j, s.ids.Len())
			}
		}
		return s, nil
	default:
		return storedSubjects{}, fmt.Errorf("subject ids in format %d", b[0])
	}
}
