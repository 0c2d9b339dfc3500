package chain

import (
	"bytes"
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
	// buf and fields are reused for every event's encoding, so a walk
	// allocates nothing per event.
	buf, fields []byte
	// prev is the last event's hash.
	prev    [Size]byte
	checked int64
	brk     *Break
}

// NewVerifier returns a Verifier for a trail from its first event; with
// anchor non-nil it also checks the trail against that recorded head.
func NewVerifier(anchor *Anchor) *Verifier {
	return &Verifier{anchor: anchor, buf: make([]byte, 0, 1024), fields: make([]byte, 0, 1024)}
}

// Add checks e, the next event of the walk, and returns the Break (a
// *Break) at the first broken link, and again on every later call, so
// that it can stop a walk (EachAudit stops at its callback's first error).
func (v *Verifier) Add(e model.AuditEvent) error {
	if v.brk != nil {
		return v.brk
	}
	var l link
	v.fields = l.fromEvent(v.fields[:0], &e)
	return v.add(&l)
}

// AddStored is Add for an event as stored.
func (v *Verifier) AddStored(s *Stored) error {
	if v.brk != nil {
		return v.brk
	}
	l := link{seq: s.Seq, prefix: s.Prefix, id: s.ID, fields: s.Fields, prev: s.PrevHash, hash: s.Hash}
	return v.add(&l)
}

func (v *Verifier) add(l *link) error {
	if v.brk != nil {
		return v.brk
	}
	if b := v.check(l); b != nil {
		v.brk = b
		return b
	}
	return nil
}

// link is what checking an event's place in the chain takes: its seq and
// id, its encoded fields and its two hashes, raw. A hash of a
// model.AuditEvent that is not hex is kept as its text, to be shown.
type link struct {
	seq                int64
	prefix             string
	id                 []byte
	idText             string
	fields             []byte
	prev, hash         []byte
	prevText, hashText string
}

// fromEvent fills l from e, appending e's fields and hashes to buf, which
// it returns; l's slices point into it.
func (l *link) fromEvent(buf []byte, e *model.AuditEvent) []byte {
	start := len(buf)
	buf = EncodeFields(buf, *e)
	fields := len(buf)
	prev, prevOK := Parse(e.PrevHash)
	if prevOK {
		buf = append(buf, prev[:]...)
	}
	hashAt := len(buf)
	hash, hashOK := Parse(e.Hash)
	if hashOK {
		buf = append(buf, hash[:]...)
	}
	l.seq, l.prefix, l.idText = e.Seq, PrefixOf(*e), e.ID
	l.fields = buf[start:fields]
	if prevOK {
		l.prev = buf[fields:hashAt]
	} else {
		l.prevText = e.PrevHash
	}
	if hashOK {
		l.hash = buf[hashAt:]
	} else {
		l.hashText = e.Hash
	}
	return buf
}

func (l *link) eventID() string {
	if l.idText != "" {
		return l.idText
	}
	return string(l.id)
}

// shown is a stored hash as verify reports it: hex, or the text of one
// that is not.
func shown(raw []byte, text string) string {
	if raw == nil && text != "" {
		return text
	}
	return hex.EncodeToString(raw)
}

func (v *Verifier) check(l *link) *Break {
	pos := v.checked + 1
	broke := func(k Kind, format string, args ...any) *Break {
		return &Break{Kind: k, Position: pos, EventID: l.eventID(), Detail: k.String() + ": " + fmt.Sprintf(format, args...)}
	}
	switch {
	case l.seq == 0:
		return broke(NotInChain, "the event has no seq, so no hash links it to the trail: it was written into the database around anavara")
	case l.seq > pos:
		n := l.seq - pos
		return broke(SeqGap, "seq %d where %d was expected: %d %s before it missing (deleted)", l.seq, pos, n, plural(n, "event", "events"))
	case l.seq < pos:
		return broke(SeqRepeated, "seq %d where %d was expected: a seq repeated (an event inserted or moved)", l.seq, pos)
	}
	if !bytes.Equal(l.prev, v.prev[:]) {
		if len(l.prev) != Size {
			return broke(Malformed, "stored prev_hash %q is not 64 lower-case hex digits", shown(l.prev, l.prevText))
		}
		if pos == 1 {
			return broke(PrevHashMismatch, "prev_hash %x is not the genesis (64 zeros): events before it were removed, or it was put first", l.prev)
		}
		return broke(PrevHashMismatch, "prev_hash %x is not the hash of event %d (%x): an event before it was deleted, inserted or moved", l.prev, pos-1, v.prev)
	}
	v.buf = appendHead(v.buf[:0], l.prefix, l.seq)
	v.buf = append(v.buf, l.fields...)
	v.buf = append(v.buf, v.prev[:]...)
	sum := sha256.Sum256(v.buf)
	if !bytes.Equal(l.hash, sum[:]) {
		if len(l.hash) != Size {
			return broke(Malformed, "stored hash %q is not 64 lower-case hex digits", shown(l.hash, l.hashText))
		}
		return broke(ContentsChanged, "its fields hash to %x, not to its stored hash %x: a field (or the stored hash) was edited", sum, l.hash)
	}
	if a := v.anchor; a != nil && l.seq == a.Count && sum != a.Hash {
		return broke(AnchorMismatch, "hash %x is not the anchored %x: the trail was rewritten at or before this event and re-hashed", sum, a.Hash)
	}
	v.prev = sum
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
