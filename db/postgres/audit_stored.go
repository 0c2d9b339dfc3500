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
// column is read as the connection received it (pgx's raw values, valid
// until the next row), in binary but for text (storedColumns), and the
// event's fields are encoded straight from those bytes, each uuid
// written as text into the encoding, so a walk of a million events makes
// no string, no time and no slice of any of them.
func (s *snapshot) EachStoredAudit(ctx context.Context, fn func(*chain.Stored) error) error {
	w := &storedWalk{}
	w.stored.Fields = make([]byte, 0, 2048)
	if err := w.run(ctx, s.tx, `SELECT `+auditColumns+` FROM audit_events WHERE seq IS NOT NULL ORDER BY seq`, fn); err != nil {
		return err
	}
	return w.run(ctx, s.tx, `SELECT `+auditColumns+` FROM audit_events WHERE seq IS NULL ORDER BY at, id`, fn)
}

// storedColumn is a column of auditColumns as the stored walk reads it:
// its type, and the format it asks for.
type storedColumn struct {
	oid    uint32
	format int16
}

// storedColumns are auditColumns, in order, as storedWalk.scan decodes
// them, which the walk checks the result against before reading a row of
// it. Text is the same bytes in either format (the client encoding's),
// and costs the backend less in text (textsend builds a buffer for each
// value); every other column is binary: a uuid is 16 bytes (its text, 36,
// would be more to send and no cheaper to make; the text of a uuid[],
// array_out's, costs the backend several times what array_send does:
// BENCHMARKS.md), the time a number of microseconds (its text would be
// formatted in the session's time zone), the seq 8 bytes and the hashes
// raw.
var storedColumns = [...]storedColumn{
	{pgtype.UUIDOID, pgx.BinaryFormatCode},        // id
	{pgtype.TimestamptzOID, pgx.BinaryFormatCode}, // at
	{pgtype.UUIDOID, pgx.BinaryFormatCode},        // actor_id
	{pgtype.TextOID, pgx.TextFormatCode},          // action
	{pgtype.TextOID, pgx.TextFormatCode},          // entity
	{pgtype.TextOID, pgx.TextFormatCode},          // entity_id
	{pgtype.TextOID, pgx.TextFormatCode},          // ip
	{pgtype.TextOID, pgx.TextFormatCode},          // detail
	{pgtype.UUIDArrayOID, pgx.BinaryFormatCode},   // record_ids
	{pgtype.TextOID, pgx.TextFormatCode},          // via
	{pgtype.UUIDArrayOID, pgx.BinaryFormatCode},   // subject_ids
	{pgtype.Int8OID, pgx.BinaryFormatCode},        // seq
	{pgtype.ByteaOID, pgx.BinaryFormatCode},       // prev_hash
	{pgtype.ByteaOID, pgx.BinaryFormatCode},       // hash
	{pgtype.UUIDOID, pgx.BinaryFormatCode},        // token_id
}

// storedFormats are storedColumns' formats, as the query asks for them.
func storedFormats() pgx.QueryResultFormats {
	f := make(pgx.QueryResultFormats, len(storedColumns))
	for i, c := range storedColumns {
		f[i] = c.format
	}
	return f
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
	// Described and bound on the spot, each column in its format,
	// whatever the connection's default mode (a URL may choose the simple
	// protocol, whose results are all text, or no statement cache): the
	// walk reads one known form.
	rows, err := tx.Query(ctx, query, pgx.QueryExecModeDescribeExec, storedFormats())
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	defer rows.Close()
	fds := rows.FieldDescriptions()
	if len(fds) != len(storedColumns) {
		return fmt.Errorf("snapshot: the trail has %d columns, want %d", len(fds), len(storedColumns))
	}
	for i, fd := range fds {
		if c := storedColumns[i]; fd.DataTypeOID != c.oid || fd.Format != c.format {
			return fmt.Errorf("snapshot: column %s of type %d in format %d, want type %d in format %d", fd.Name, fd.DataTypeOID, fd.Format, c.oid, c.format)
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

// scan reads one row's values, in auditColumns' order and storedColumns'
// formats, into w.stored. A NULL is a nil value, and every absent field
// of the encoding is a nil slice, as in scanAudit's event a nil pointer.
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
