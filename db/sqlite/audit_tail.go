package sqlite

import (
	"bytes"
	"fmt"

	"github.com/google/uuid"
	"github.com/mattn/go-sqlite3"
)

// The lookups of the trail by a record served or an account concerned
// read audit_index for the events through audit_index_through and the
// trail itself for the events after it, which the indexer has not reached
// yet (audit_indexer.go): a range of the seq index, a few hundred events at
// most while the indexer keeps up. An event's ids are packed, 16 bytes
// each (packIDs, packSubjects); SQLite's instr finds the id's bytes in
// them, and one of the functions below, registered on every connection of
// the store, checks that they are an id of the list and not bytes that
// straddle two.

// auditThroughSQL is the seq through which audit_index holds the chain.
const auditThroughSQL = `(SELECT seq FROM audit_index_through WHERE id = 1)`

// tailServedSQL is true of an event e that served the record whose id
// tailIDArgs gives.
const tailServedSQL = `(instr(e.record_ids, ?) > 0 AND anavara_holds_id(coalesce(e.record_ids, x''), ?))`

// tailConcernsSQL is true of an event e that concerns the account whose id
// tailIDArgs gives.
const tailConcernsSQL = `(instr(e.subject_ids, ?) > 0 AND anavara_concerns(coalesce(e.subject_ids, x''), coalesce(e.record_ids, x''), ?))`

// tailIDArgs are the arguments of tailServedSQL and tailConcernsSQL for
// id, a uuid its caller has checked (model.ValidUUID).
func tailIDArgs(id string) []any {
	u, err := uuid.Parse(id)
	if err != nil {
		// No event holds what is not an id: nothing matches 17 bytes.
		return []any{make([]byte, 17), make([]byte, 17)}
	}
	return []any{u[:], u[:]}
}

// registerTailFuncs adds the functions tailServedSQL and tailConcernsSQL
// call to conn.
func registerTailFuncs(conn *sqlite3.SQLiteConn) error {
	if err := conn.RegisterFunc("anavara_holds_id", holdsID, true); err != nil {
		return fmt.Errorf("register anavara_holds_id: %w", err)
	}
	if err := conn.RegisterFunc("anavara_concerns", concerns, true); err != nil {
		return fmt.Errorf("register anavara_concerns: %w", err)
	}
	return nil
}

// holdsID reports whether ids, packed 16 bytes each, holds id. A list
// whose length is not a multiple of 16 holds none, as the indexer has it
// (packedTerms).
func holdsID(ids, id []byte) bool {
	if len(id) != 16 || len(ids)%16 != 0 {
		return false
	}
	for ; len(ids) >= 16; ids = ids[16:] {
		if bytes.Equal(ids[:16], id) {
			return true
		}
	}
	return false
}

// concerns reports whether subjects, subject_ids as stored for an event
// that served records (record_ids), names the account id. Ids that do not
// parse name no one: audit verify is what reports them.
func concerns(subjects, records, id []byte) bool {
	s, err := parseSubjects(subjects, len(records)/16)
	return err == nil && holdsID(s.ids, id)
}
