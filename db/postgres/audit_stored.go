package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/anavara/anavara/audit/chain"
	"github.com/anavara/anavara/db"
)

var _ db.StoredAuditWalker = (*snapshot)(nil)

// EachStoredAudit is EachAudit as stored (db.StoredAuditWalker): every
// column is read in PostgreSQL's binary format as the connection received
// it (pgx's raw values, valid until the next row), and the event's fields
// are encoded straight from those bytes, each uuid written as text into
// the encoding, so a walk of a million events makes no string, no time
// and no slice of any of them.
func (s *snapshot) EachStoredAudit(ctx context.Context, fn func(*chain.Stored) error) error {
	w := &storedWalk{}
	w.stored.Fields = make([]byte, 0, 2048)
	if err := w.run(ctx, s.tx, `SELECT `+auditColumns+` FROM audit_events WHERE seq IS NOT NULL ORDER BY seq`, fn); err != nil {
		return err
	}
	return w.run(ctx, s.tx, `SELECT `+auditColumns+` FROM audit_events WHERE seq IS NULL ORDER BY at, id`, fn)
}

// storedColumns are the types of auditColumns, in order, which the walk
// checks the result against before reading a row of it: the binary form
// of each is what storedWalk.scan decodes.
var storedColumns = [...]uint32{
	pgtype.UUIDOID,        // id
	pgtype.TimestamptzOID, // at
	pgtype.UUIDOID,        // actor_id
	pgtype.TextOID,        // action
	pgtype.TextOID,        // entity
	pgtype.TextOID,        // entity_id
	pgtype.TextOID,        // ip
	pgtype.TextOID,        // detail
	pgtype.UUIDArrayOID,   // record_ids
	pgtype.TextOID,        // via
	pgtype.UUIDArrayOID,   // subject_ids
	pgtype.Int8OID,        // seq
	pgtype.ByteaOID,       // prev_hash
	pgtype.ByteaOID,       // hash
	pgtype.UUIDOID,        // token_id
}

// storedWalk holds the buffers of one walk: the text of the row's uuids,
// its id lists, its fields and the event as chain.Stored.
type storedWalk struct {
	id, actor, token [36]byte
	records          uuidArray
	subjects         uuidArray
	fields           chain.StoredFields
	stored           chain.Stored
}

func (w *storedWalk) run(ctx context.Context, tx pgx.Tx, query string, fn func(*chain.Stored) error) error {
	// Described and bound on the spot, every column asked for in binary,
	// whatever the connection's default mode (a URL may choose the simple
	// protocol, whose results are text, or no statement cache): the walk
	// reads one known form. Text columns are the same bytes in either.
	rows, err := tx.Query(ctx, query, pgx.QueryExecModeDescribeExec, pgx.QueryResultFormats{pgx.BinaryFormatCode})
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	if len(fds) != len(storedColumns) {
		return fmt.Errorf("snapshot: the trail has %d columns, want %d", len(fds), len(storedColumns))
	}
	for i, fd := range fds {
		if fd.DataTypeOID != storedColumns[i] || fd.Format != pgx.BinaryFormatCode {
			return fmt.Errorf("snapshot: column %s of type %d in format %d, want type %d in binary", fd.Name, fd.DataTypeOID, fd.Format, storedColumns[i])
		}
	}
	for rows.Next() {
		if err := w.scan(rows.RawValues()); err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		if err := fn(&w.stored); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	return nil
}

// scan reads one row's values, in auditColumns' order and binary format,
// into w.stored. A NULL is a nil value, and every absent field of the
// encoding is a nil slice, as in scanAudit's event a nil pointer.
func (w *storedWalk) scan(v [][]byte) error {
	if len(v[0]) != 16 {
		return fmt.Errorf("scan audit event: id of %d bytes", len(v[0]))
	}
	id := chain.AppendUUID(w.id[:0], v[0])
	at, err := timestamptz(v[1])
	if err != nil {
		return fmt.Errorf("scan audit event %s: at: %w", id, err)
	}
	actor, err := optionalUUID(w.actor[:0], v[2])
	if err != nil {
		return fmt.Errorf("scan audit event %s: actor id: %w", id, err)
	}
	token, err := optionalUUID(w.token[:0], v[14])
	if err != nil {
		return fmt.Errorf("scan audit event %s: token id: %w", id, err)
	}
	if err := w.records.parse(v[8]); err != nil {
		return fmt.Errorf("scan audit event %s: record ids: %w", id, err)
	}
	if err := w.subjects.parse(v[10]); err != nil {
		return fmt.Errorf("scan audit event %s: subject ids: %w", id, err)
	}
	var seq int64
	if v[11] != nil {
		if len(v[11]) != 8 {
			return fmt.Errorf("scan audit event %s: seq of %d bytes", id, len(v[11]))
		}
		seq = int64(binary.BigEndian.Uint64(v[11]))
	}
	for i, name := range [...]string{3: "action", 4: "entity", 6: "ip", 9: "via"} {
		if name != "" && v[i] == nil {
			return fmt.Errorf("scan audit event %s: %s is NULL", id, name)
		}
	}
	w.fields = chain.StoredFields{
		ID: id, At: at, ActorID: actor, Action: v[3], Entity: v[4], EntityID: v[5],
		IP: v[6], Via: v[9], Detail: v[7], RecordIDs: &w.records, SubjectIDs: &w.subjects, TokenID: token,
	}
	w.stored.Seq, w.stored.Prefix, w.stored.ID = seq, chain.StoredPrefix(&w.fields), id
	w.stored.Fields = chain.EncodeStoredFields(w.stored.Fields[:0], &w.fields)
	w.stored.PrevHash, w.stored.Hash = v[12], v[13]
	return nil
}

// optionalUUID appends a nullable uuid column's value to buf as text; nil
// for NULL.
func optionalUUID(buf []byte, v []byte) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	if len(v) != 16 {
		return nil, fmt.Errorf("uuid of %d bytes", len(v))
	}
	return chain.AppendUUID(buf, v), nil
}

// y2k is PostgreSQL's epoch, 2000-01-01 UTC, in Unix microseconds.
const y2k = 946_684_800_000_000

// timestamptz is a timestamptz in binary: microseconds since 2000-01-01
// UTC, the instant pgx scans into a time.Time for scanAudit. Infinity,
// which that scan refuses, is refused here too.
func timestamptz(v []byte) (time.Time, error) {
	if len(v) != 8 {
		return time.Time{}, fmt.Errorf("timestamptz of %d bytes", len(v))
	}
	us := int64(binary.BigEndian.Uint64(v))
	if us == math.MaxInt64 || us == math.MinInt64 {
		return time.Time{}, errors.New("an infinite time")
	}
	return time.UnixMicro(y2k + us).UTC(), nil
}

// uuidArray is a uuid[] column's value in binary (array_send): a header
// of dimensions, then each element as its length and 16 bytes. It is a
// chain.IDList of the elements, in order; NULL and an empty array hold
// none, as scanAudit's nil and empty slices do.
type uuidArray struct {
	elems []byte
	n     int
}

// elemSize is an element's bytes in the array: its length, 4 bytes, and
// the uuid.
const elemSize = 4 + 16

// Len is the number of ids.
func (a *uuidArray) Len() int { return a.n }

// AppendID appends the i-th id as text.
func (a *uuidArray) AppendID(buf []byte, i int) []byte {
	return chain.AppendUUID(buf, a.elems[elemSize*i+4:elemSize*i+elemSize])
}

// parse reads v, checking it whole (one dimension at most, no NULL
// element, each 16 bytes), so that AppendID needs no check.
func (a *uuidArray) parse(v []byte) error {
	*a = uuidArray{}
	if v == nil {
		return nil
	}
	if len(v) < 12 {
		return fmt.Errorf("array of %d bytes", len(v))
	}
	dims, elem := binary.BigEndian.Uint32(v), binary.BigEndian.Uint32(v[8:])
	if elem != pgtype.UUIDOID {
		return fmt.Errorf("array of type %d", elem)
	}
	switch dims {
	case 0:
		if len(v) != 12 {
			return fmt.Errorf("empty array of %d bytes", len(v))
		}
		return nil
	case 1:
	default:
		// scanAudit reads the lists as []string, of one dimension.
		return fmt.Errorf("array of %d dimensions", dims)
	}
	if len(v) < 20 {
		return fmt.Errorf("array of %d bytes", len(v))
	}
	n, elems := int64(int32(binary.BigEndian.Uint32(v[12:]))), v[20:]
	if n < 0 || int64(len(elems)) != n*elemSize {
		return fmt.Errorf("array of %d elements in %d bytes", n, len(elems))
	}
	for i := range n {
		// A NULL element is length -1, which scanAudit cannot read either.
		if l := int32(binary.BigEndian.Uint32(elems[elemSize*i:])); l != 16 {
			return fmt.Errorf("element %d of %d bytes", i+1, l)
		}
	}
	a.elems, a.n = elems, int(n)
	return nil
}
