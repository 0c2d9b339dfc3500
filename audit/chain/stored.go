package chain

import "time"

// Stored is one event of a trail as a store holds it: what checking its
// link takes, read straight from the database's row buffers, so that a
// walk of a million events builds no model.AuditEvent and none of its
// strings (Snapshot walks that offer it: db.StoredAuditWalker). Its
// slices need only stay valid until the callback it is handed to returns.
type Stored struct {
	// Seq is the event's place in the chain; 0 for an event outside it.
	Seq int64
	// Prefix is the prefix of the event's encoding (StoredPrefix).
	Prefix string
	// ID is the event's id as stored.
	ID []byte
	// Fields are the event's fields in the encoding (EncodeStoredFields).
	Fields []byte
	// PrevHash and Hash are the hashes as stored: Size bytes each when
	// well formed.
	PrevHash, Hash []byte
}

// StoredFields are an event's fields as a store's row buffers hold them,
// for EncodeStoredFields. A nil ActorID or EntityID is absent, as a nil
// pointer is in model.AuditEvent; an empty Detail is absent; a nil list
// holds no ids.
type StoredFields struct {
	ID                    []byte
	At                    time.Time
	ActorID               []byte
	Action, Entity        []byte
	EntityID              []byte
	IP, Via               []byte
	Detail                []byte
	RecordIDs, SubjectIDs IDList
	// TokenID is the API token's id; nil for none (version 1).
	TokenID []byte
}

// EncodeStoredFields appends the fields of f as EncodeFields appends an
// event's: the same bytes for the same event.
func EncodeStoredFields(buf []byte, f *StoredFields) []byte {
	return appendFields(buf, f.ID, f.At, f.ActorID, f.ActorID != nil, f.Action, f.Entity, f.EntityID, f.EntityID != nil,
		f.IP, f.Via, f.Detail, orNone(f.RecordIDs), orNone(f.SubjectIDs), f.TokenID, f.TokenID != nil)
}

// StoredPrefix is the prefix of f's encoding, as PrefixOf is an event's.
func StoredPrefix(f *StoredFields) string {
	if f.TokenID != nil {
		return PrefixV2
	}
	return Prefix
}

func orNone(l IDList) IDList {
	if l == nil {
		return textIDs(nil)
	}
	return l
}
