// Package chain defines the audit trail's hash chain: the one canonical
// encoding of an event that both engines hash as they append it, and the
// walk that checks a trail against it (Verifier).
//
// # The encoding (version 1)
//
// An event's hash is SHA-256 over these bytes, in this order:
//
//	the 24 bytes "anavara-audit-chain-v1\n\x00"
//	then each field below as a 4-byte big-endian length and that many bytes,
//	or the length 0xFFFFFFFF and no bytes for a field the event lacks:
//	  seq         decimal, no leading zeros
//	  id          the event id, a lower-case uuid
//	  at          UTC, microseconds, "2006-01-02T15:04:05.000000Z"
//	  actor_id    absent when nobody was signed in
//	  action
//	  entity
//	  entity_id   absent when the event names none
//	  ip
//	  via         "api", "ssh" or "cli"
//	  detail      the JSON text as stored; absent when none
//	  record_ids  the ids joined by ","; absent when none
//	  subject_ids the ids joined by ","; absent when none
//	then the previous event's hash, 32 raw bytes (32 zero bytes for seq 1).
//
// Every field is length-prefixed, so no two events encode alike, and the
// previous hash is inside, so changing, removing, inserting or reordering
// any event changes the hash of every event after it. The encoding is
// versioned by its prefix: a new field means a new version, never a
// changed meaning of this one.
//
// # Version 2
//
// An event made by a request an API token authenticated names the token
// (model.AuditEvent.TokenID), and is encoded as version 2: version 1's
// bytes with the prefix "anavara-audit-chain-v2\n\x00" (24 bytes too),
// and one more field after subject_ids:
//
//	token_id    the API token's id, a lower-case uuid
//
// then the previous hash as in version 1. Every other event (no token) is
// encoded as version 1, byte for byte as before version 2 existed, so a
// trail written before it verifies unchanged, and one trail mixes both.
// The prefix is part of the hashed bytes, so an event cannot be passed
// off as the other version: dropping a token id changes the prefix and
// the fields, and so the hash.
package chain

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/anavara/anavara/model"
)

// Prefix starts every version 1 encoding, naming its version; PrefixV2
// starts every version 2 encoding (an event with a TokenID).
const (
	Prefix   = "anavara-audit-chain-v1\n\x00"
	PrefixV2 = "anavara-audit-chain-v2\n\x00"
)

// PrefixOf is the prefix of e's encoding: version 2 for an event that
// names an API token, version 1 for every other.
func PrefixOf(e model.AuditEvent) string {
	if e.TokenID != nil {
		return PrefixV2
	}
	return Prefix
}

// Size is the length of a hash in bytes.
const Size = sha256.Size

// Genesis is the previous hash of the first event: 32 zero bytes.
var Genesis [Size]byte

// GenesisHex is Genesis in hex, the PrevHash of event 1 and the head of an
// empty trail.
const GenesisHex = "0000000000000000000000000000000000000000000000000000000000000000"

// timeLayout is the encoding's time: UTC to the microsecond, the
// precision both engines store.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// absent is the length of a field the event lacks.
const absent = 0xFFFFFFFF

// Encode appends e's canonical encoding at position seq after prev to
// buf and returns it. It reads e's fields, not its Seq, PrevHash or
// Hash.
func Encode(buf []byte, seq int64, e model.AuditEvent, prev [Size]byte) []byte {
	buf = appendHead(buf, PrefixOf(e), seq)
	buf = EncodeFields(buf, e)
	return append(buf, prev[:]...)
}

// appendHead appends what comes before an event's fields: the prefix of
// its version and the seq. The seq is appended in place and its length
// written after, which allocates nothing: verify encodes a million events
// in a row.
func appendHead(buf []byte, prefix string, seq int64) []byte {
	buf = append(buf, prefix...)
	buf, at := reserve(buf)
	buf = strconv.AppendInt(buf, seq, 10)
	return lengthAt(buf, at)
}

// EncodeFields appends the part of e's encoding between its seq and the
// previous hash, which does not depend on e's place in the chain: a store
// that links events inside the database (PostgreSQL) sends it, and the
// database hashes PrefixOf(e), the seq field, it and the previous hash,
// the same bytes as Encode. For a version 2 event it ends with token_id.
func EncodeFields(buf []byte, e model.AuditEvent) []byte {
	var actor, entity string
	if e.ActorID != nil {
		actor = *e.ActorID
	}
	if e.EntityID != nil {
		entity = *e.EntityID
	}
	var token string
	if e.TokenID != nil {
		token = *e.TokenID
	}
	return appendFields(buf, e.ID, e.At, actor, e.ActorID != nil, e.Action, e.Entity, entity, e.EntityID != nil,
		e.IP, e.Via, []byte(e.Detail), textIDs(e.RecordIDs), textIDs(e.SubjectIDs), token, e.TokenID != nil)
}

// text is a field's bytes: a string of a model.AuditEvent, or a slice of
// a store's row buffer (StoredFields).
type text interface{ ~string | ~[]byte }

// appendFields is the one definition of the fields' order and form, for
// events (EncodeFields) and rows as stored (EncodeStoredFields) alike;
// with hasToken, version 2's.
func appendFields[T, D text, L IDList](buf []byte, id T, at time.Time, actor T, hasActor bool, action, entity, entityID T, hasEntity bool,
	ip, via T, detail D, records, subjects L, token T, hasToken bool) []byte {
	buf = field(buf, id)
	buf, mark := reserve(buf)
	buf = appendTime(buf, at)
	buf = lengthAt(buf, mark)
	buf = optional(buf, actor, hasActor)
	buf = field(buf, action)
	buf = field(buf, entity)
	buf = optional(buf, entityID, hasEntity)
	buf = field(buf, ip)
	buf = field(buf, via)
	buf = optional(buf, detail, len(detail) > 0)
	buf = list(buf, records)
	buf = list(buf, subjects)
	if hasToken {
		buf = field(buf, token)
	}
	return buf
}

// IDList is a list field (record_ids, subject_ids) as its holder keeps
// it: Len ids, the i-th appended in text form, a lower-case uuid, by
// AppendID. A store whose column packs ids as bytes implements it to
// encode them without making a string of each.
type IDList interface {
	Len() int
	AppendID(buf []byte, i int) []byte
}

// textIDs is a model.AuditEvent's list of ids.
type textIDs []string

func (l textIDs) Len() int                          { return len(l) }
func (l textIDs) AppendID(buf []byte, i int) []byte { return append(buf, l[i]...) }

// reserve appends room for a length prefix, returning where it is.
func reserve(buf []byte) ([]byte, int) {
	return append(buf, 0, 0, 0, 0), len(buf)
}

// lengthAt writes, at the prefix reserve made at at, the length of what
// follows it.
func lengthAt(buf []byte, at int) []byte {
	binary.BigEndian.PutUint32(buf[at:], uint32(len(buf)-at-4))
	return buf
}

// Hash is the hash of e at position seq after the event whose hash is
// prev.
func Hash(seq int64, e model.AuditEvent, prev [Size]byte) [Size]byte {
	var stack [512]byte
	return sha256.Sum256(Encode(stack[:0], seq, e, prev))
}

// Link fills e's Seq, PrevHash and Hash for position seq after prev and
// returns its hash, the prev of the next event: how a store appends.
func Link(e *model.AuditEvent, seq int64, prev [Size]byte) [Size]byte {
	h := Hash(seq, *e, prev)
	e.Seq = seq
	e.PrevHash, e.Hash = Hex(prev), Hex(h)
	return h
}

// Hex is h in lower-case hex, as events carry it.
func Hex(h [Size]byte) string { return hex.EncodeToString(h[:]) }

// Parse decodes a hash in hex; ok is false unless s is exactly Size bytes
// of lower-case hex.
func Parse(s string) (h [Size]byte, ok bool) {
	if len(s) != 2*Size || strings.ToLower(s) != s {
		return h, false
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, false
	}
	return h, true
}

func field[T text](buf []byte, s T) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(s)))
	return append(buf, s...)
}

// optional appends s, or the absent length when the event lacks it.
func optional[T text](buf []byte, s T, present bool) []byte {
	if !present {
		return binary.BigEndian.AppendUint32(buf, absent)
	}
	return field(buf, s)
}

// list appends ids joined by ",", or the absent length for none.
func list[L IDList](buf []byte, ids L) []byte {
	n := ids.Len()
	if n == 0 {
		return binary.BigEndian.AppendUint32(buf, absent)
	}
	buf, at := reserve(buf)
	for i := range n {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = ids.AppendID(buf, i)
	}
	return lengthAt(buf, at)
}
