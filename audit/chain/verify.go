package chain

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/anavara/anavara/model"
)

// Kind is how a link of the chain broke.
type Kind int

// The ways a link breaks, each naming what the verifier saw, not what
// was done: an edit and a forgery can look alike.
const (
	// ContentsChanged: the event's fields no longer hash to its stored
	// hash (a field edited, or the stored hash itself).
	ContentsChanged Kind = iota + 1
	// PrevHashMismatch: the event's prev_hash is not the hash of the event
	// before it in the chain: an event before it deleted, inserted or
	// moved, with the sequence numbers made to fit.
	PrevHashMismatch
	// SeqGap: the event's seq is past the expected one: the events in
	// between are missing (deleted).
	SeqGap
	// SeqRepeated: the event's seq is at or before one already checked:
	// an event inserted or moved.
	SeqRepeated
	// NotInChain: the event has no seq (Seq 0): it was written around the
	// store, straight into the database.
	NotInChain
	// Malformed: the stored hash or prev_hash is not 64 lower-case hex
	// digits.
	Malformed
	// AnchorMismatch: event Anchor.Count's hash is not the anchored one:
	// the trail was rewritten, up to that event, and re-hashed.
	AnchorMismatch
	// AnchorMissing: the trail ends before event Anchor.Count: events
	// were removed from its end.
	AnchorMissing
)

// String names the kind as verify reports it.
func (k Kind) String() string {
	switch k {
	case ContentsChanged:
		return "contents changed"
	case PrevHashMismatch:
		return "prev_hash mismatch"
	case SeqGap:
		return "seq gap"
	case SeqRepeated:
		return "seq repeated"
	case NotInChain:
		return "not in the chain"
	case Malformed:
		return "malformed hash"
	case AnchorMismatch:
		return "anchor mismatch"
	case AnchorMissing:
		return "anchor missing"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Break is the first broken link of a trail.
type Break struct {
	Kind Kind
	// Position is the seq the chain expected next: the broken link's
	// place, one more than the number of events that held.
	Position int64
	// EventID is the event found at Position; empty for AnchorMissing,
	// where there is none.
	EventID string
	// Detail says what differs, with the stored and the expected values.
	Detail string
}

// Error reports the break as verify prints it after "BROKEN".
func (b *Break) Error() string {
	if b.EventID == "" {
		return fmt.Sprintf("at position %d: %s", b.Position, b.Detail)
	}
	return fmt.Sprintf("at position %d (event %s): %s", b.Position, b.EventID, b.Detail)
}

// Anchor is a head an outside system recorded (GET /api/audit-events/head):
// event Count had hash Hash. A trail rewritten from some event on and
// re-hashed to the end holds together by itself; only a hash kept
// elsewhere shows it changed.
type Anchor struct {
	Count int64
	Hash  [Size]byte
}

// ParseAnchor reads an anchor written COUNT:HASH, the head's count and
// head_hash.
func ParseAnchor(s string) (Anchor, error) {
	count, hash, ok := strings.Cut(s, ":")
	if !ok {
		return Anchor{}, errors.New("want COUNT:HASH, the count and head_hash of a recorded head")
	}
	n, err := strconv.ParseInt(count, 10, 64)
	if err != nil || n < 0 {
		return Anchor{}, fmt.Errorf("count %q is not a number of events", count)
	}
	h, ok := Parse(strings.ToLower(hash))
	if !ok {
		return Anchor{}, fmt.Errorf("hash %q is not 64 hex digits", hash)
	}
	a := Anchor{Count: n, Hash: h}
	if n == 0 && a.Hash != Genesis {
		return Anchor{}, errors.New("the head of an empty trail is 64 zeros")
	}
	return a, nil
}

// String writes the anchor as ParseAnchor reads it.
func (a Anchor) String() string {
	return strconv.FormatInt(a.Count, 10) + ":" + hex.EncodeToString(a.Hash[:])
}

// Result is what a walk of the trail found.
type Result struct {
	// Checked is the number of events whose links held: all of them when
	// the trail is whole, those before the break otherwise.
	Checked int64
	// Head is the hash of the last event that held (Genesis for none).
	Head [Size]byte
	// Break is the first broken link; nil when the trail is whole.
	Break *Break
}

// Verifier checks a trail fed to it event by event in chain order (Seq,
// then the events outside the chain, as db.Snapshot.EachAudit walks it),
// holding only the previous link: a trail of any length in constant
// memory. It stops at the first broken link, since every link after it
// depends on it. The zero value is not usable; use NewVerifier.
type Verifier struct {
	anchor *Anchor
	// buf is reused for every event's encoding, so a walk allocates
	// nothing per event.
	buf []byte
	// prev is the last event's hash, prevHex the same in hex.
	prev    [Size]byte
	prevHex [2 * Size]byte
	checked int64
	brk     *Break
}

// NewVerifier returns a Verifier for a trail from its first event; with
// anchor non-nil it also checks the trail against that recorded head.
func NewVerifier(anchor *Anchor) *Verifier {
	v := &Verifier{anchor: anchor, buf: make([]byte, 0, 1024)}
	hex.Encode(v.prevHex[:], Genesis[:])
	return v
}

// Add checks e, the next event of the walk, and returns the Break (a
// *Break) at the first broken link, and again on every later call, so
// that it can stop a walk (EachAudit stops at its callback's first error).
func (v *Verifier) Add(e model.AuditEvent) error {
	if v.brk != nil {
		return v.brk
	}
	if b := v.check(&e); b != nil {
		v.brk = b
		return b
	}
	return nil
}

func (v *Verifier) check(e *model.AuditEvent) *Break {
	pos := v.checked + 1
	broke := func(k Kind, format string, args ...any) *Break {
		return &Break{Kind: k, Position: pos, EventID: e.ID, Detail: k.String() + ": " + fmt.Sprintf(format, args...)}
	}
	switch {
	case e.Seq == 0:
		return broke(NotInChain, "the event has no seq, so no hash links it to the trail: it was written into the database around anavara")
	case e.Seq > pos:
		n := e.Seq - pos
		return broke(SeqGap, "seq %d where %d was expected: %d %s before it missing (deleted)", e.Seq, pos, n, plural(n, "event", "events"))
	case e.Seq < pos:
		return broke(SeqRepeated, "seq %d where %d was expected: a seq repeated (an event inserted or moved)", e.Seq, pos)
	}
	// Compared as hex, as stored: one encoding of the computed hash per
	// event instead of decoding two stored ones.
	if e.PrevHash != string(v.prevHex[:]) {
		if !wellFormed(e.PrevHash) {
			return broke(Malformed, "stored prev_hash %q is not 64 lower-case hex digits", e.PrevHash)
		}
		if pos == 1 {
			return broke(PrevHashMismatch, "prev_hash %s is not the genesis (64 zeros): events before it were removed, or it was put first", e.PrevHash)
		}
		return broke(PrevHashMismatch, "prev_hash %s is not the hash of event %d (%s): an event before it was deleted, inserted or moved", e.PrevHash, pos-1, v.prevHex[:])
	}
	v.buf = Encode(v.buf[:0], e.Seq, *e, v.prev)
	sum := sha256.Sum256(v.buf)
	var sumHex [2 * Size]byte
	hex.Encode(sumHex[:], sum[:])
	if e.Hash != string(sumHex[:]) {
		if !wellFormed(e.Hash) {
			return broke(Malformed, "stored hash %q is not 64 lower-case hex digits", e.Hash)
		}
		return broke(ContentsChanged, "its fields hash to %s, not to its stored hash %s: a field (or the stored hash) was edited", string(sumHex[:]), e.Hash)
	}
	if a := v.anchor; a != nil && e.Seq == a.Count && sum != a.Hash {
		return broke(AnchorMismatch, "hash %s is not the anchored %x: the trail was rewritten at or before this event and re-hashed", e.Hash, a.Hash)
	}
	v.prev, v.prevHex = sum, sumHex
	v.checked = pos
	return nil
}

// Result ends the walk: the events checked, the head, and the break,
// including an anchor the trail fell short of.
func (v *Verifier) Result() Result {
	r := Result{Checked: v.checked, Head: v.prev, Break: v.brk}
	if a := v.anchor; r.Break == nil && a != nil && v.checked < a.Count {
		r.Break = &Break{Kind: AnchorMissing, Position: v.checked + 1,
			Detail: fmt.Sprintf("%s: the trail ends after %d %s, the anchor recorded %d: events were removed from its end",
				AnchorMissing, v.checked, plural(v.checked, "event", "events"), a.Count)}
	}
	return r
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// wellFormed reports whether s is a hash as stored: 64 lower-case hex
// digits.
func wellFormed(s string) bool {
	_, ok := Parse(s)
	return ok
}
