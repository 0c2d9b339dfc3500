package chain_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/audit/chain"
	"github.com/anavara/anavara/model"
)

// trail returns n events linked as a store appends them, of every shape
// the encoding has: with and without actor, entity id, detail and ids.
func trail(n int) []model.AuditEvent {
	es := make([]model.AuditEvent, n)
	prev := chain.Genesis
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i := range es {
		actor, record := fmt.Sprintf("00000000-0000-4000-8000-%012d", i%7), fmt.Sprintf("10000000-0000-4000-8000-%012d", i)
		e := model.AuditEvent{
			ID:     fmt.Sprintf("20000000-0000-4000-8000-%012d", i),
			At:     at.Add(time.Duration(i/3) * time.Millisecond), // several events share a time
			Action: model.ActionRecordRead, Entity: model.EntityRecord, EntityID: &record,
			ActorID: &actor, IP: "192.0.2.7", Via: model.ViaAPI, SubjectIDs: []string{actor},
		}
		switch i % 4 {
		case 1:
			e.ActorID, e.Action, e.Entity, e.EntityID, e.SubjectIDs = nil, model.ActionLoginFailed, model.EntityUser, nil, nil
		case 2:
			e.Action, e.EntityID = model.ActionRecordList, nil
			e.Detail = json.RawMessage(`{"page":1,"page_size":20,"count":2}`)
			e.RecordIDs, e.SubjectIDs = []string{record, record}, []string{actor, actor}
		case 3:
			e.Via = model.ViaSSH
		}
		prev = chain.Link(&e, int64(i+1), prev)
		es[i] = e
	}
	return es
}

// relink re-hashes es from index from on, as a forger who rewrote the
// trail would, so that it holds together again.
func relink(es []model.AuditEvent, from int) {
	prev := chain.Genesis
	if from > 0 {
		prev, _ = chain.Parse(es[from-1].Hash)
	}
	for i := from; i < len(es); i++ {
		prev = chain.Link(&es[i], int64(i+1), prev)
	}
}

func verify(es []model.AuditEvent, anchor *chain.Anchor) chain.Result {
	v := chain.NewVerifier(anchor)
	for _, e := range es {
		if v.Add(e) != nil {
			break
		}
	}
	return v.Result()
}

func head(t *testing.T, es []model.AuditEvent) [chain.Size]byte {
	t.Helper()
	h, ok := chain.Parse(es[len(es)-1].Hash)
	if !ok {
		t.Fatalf("bad hash %q", es[len(es)-1].Hash)
	}
	return h
}

func TestVerifierFindsTheFirstBrokenLink(t *testing.T) {
	const n, k = 40, 17 // k is a seq; es[k-1] is its event
	original := trail(n)
	recorded := chain.Anchor{Count: n, Hash: head(t, original)}
	forged := model.AuditEvent{ID: "30000000-0000-4000-8000-000000000000", At: original[k-1].At,
		Action: model.ActionLogin, Entity: model.EntityUser, IP: "203.0.113.9", Via: model.ViaAPI}
	tests := []struct {
		name   string
		tamper func(es []model.AuditEvent) []model.AuditEvent
		anchor *chain.Anchor
		// want is the break: kind, position, and the index in the
		// original trail of the event found there (-1: none; -2: the
		// forged event).
		kind chain.Kind
		pos  int64
		at   int
		// detail is a part of the break's text.
		detail string
	}{
		{name: "untouched", tamper: func(es []model.AuditEvent) []model.AuditEvent { return es }},
		{name: "untouched, anchored at the head", anchor: &recorded, tamper: func(es []model.AuditEvent) []model.AuditEvent { return es }},
		{name: "untouched, anchored midway", anchor: &chain.Anchor{Count: k, Hash: head(t, original[:k])},
			tamper: func(es []model.AuditEvent) []model.AuditEvent { return es }},
		{name: "ip edited", kind: chain.ContentsChanged, pos: k, at: k - 1, detail: "contents changed: its fields hash to",
			tamper: func(es []model.AuditEvent) []model.AuditEvent { es[k-1].IP = "198.51.100.1"; return es }},
		{name: "actor removed", kind: chain.ContentsChanged, pos: k, at: k - 1,
			tamper: func(es []model.AuditEvent) []model.AuditEvent { es[k-1].ActorID = nil; return es }},
		{name: "a record id of a list dropped", kind: chain.ContentsChanged, pos: 3, at: 2,
			tamper: func(es []model.AuditEvent) []model.AuditEvent { es[2].RecordIDs = es[2].RecordIDs[:1]; return es }},
		{name: "time moved by a microsecond", kind: chain.ContentsChanged, pos: k, at: k - 1,
			tamper: func(es []model.AuditEvent) []model.AuditEvent {
				es[k-1].At = es[k-1].At.Add(time.Microsecond)
				return es
			}},
		{name: "stored hash replaced", kind: chain.ContentsChanged, pos: k, at: k - 1,
			tamper: func(es []model.AuditEvent) []model.AuditEvent { es[k-1].Hash = es[k].Hash; return es }},
		{name: "event deleted", kind: chain.SeqGap, pos: k, at: k, detail: fmt.Sprintf("seq %d where %d was expected: 1 event before it missing", k+1, k),
			tamper: func(es []model.AuditEvent) []model.AuditEvent { return slices.Delete(es, k-1, k) }},
		{name: "three events deleted", kind: chain.SeqGap, pos: k, at: k + 2, detail: "3 events before it missing",
			tamper: func(es []model.AuditEvent) []model.AuditEvent { return slices.Delete(es, k-1, k+2) }},
		{name: "event deleted, later seqs renumbered", kind: chain.PrevHashMismatch, pos: k, at: k,
			detail: fmt.Sprintf("is not the hash of event %d", k-1),
			tamper: func(es []model.AuditEvent) []model.AuditEvent {
				es = slices.Delete(es, k-1, k)
				for i := k - 1; i < len(es); i++ {
					es[i].Seq--
				}
				return es
			}},
		{name: "first event deleted, renumbered", kind: chain.PrevHashMismatch, pos: 1, at: 1, detail: "is not the genesis",
			tamper: func(es []model.AuditEvent) []model.AuditEvent {
				es = es[1:]
				for i := range es {
					es[i].Seq--
				}
				return es
			}},
		{name: "forged event linked in, later seqs renumbered", kind: chain.PrevHashMismatch, pos: k + 1, at: k - 1,
			tamper: func(es []model.AuditEvent) []model.AuditEvent {
				f := forged
				prev, _ := chain.Parse(es[k-2].Hash)
				chain.Link(&f, k, prev)
				es = slices.Insert(es, k-1, f)
				for i := k; i < len(es); i++ {
					es[i].Seq++
				}
				return es
			}},
		{name: "forged event with a repeated seq", kind: chain.SeqRepeated, pos: k + 1, at: -2,
			tamper: func(es []model.AuditEvent) []model.AuditEvent {
				f := forged
				prev, _ := chain.Parse(es[k-2].Hash)
				chain.Link(&f, k, prev)
				return slices.Insert(es, k, f)
			}},
		{name: "event outside the chain", kind: chain.NotInChain, pos: n + 1, at: -2, detail: "has no seq",
			tamper: func(es []model.AuditEvent) []model.AuditEvent { return append(es, forged) }},
		{name: "two events swapped", kind: chain.PrevHashMismatch, pos: k, at: k,
			tamper: func(es []model.AuditEvent) []model.AuditEvent {
				es[k-1], es[k] = es[k], es[k-1]
				es[k-1].Seq, es[k].Seq = es[k].Seq, es[k-1].Seq
				return es
			}},
		{name: "two events' contents swapped", kind: chain.ContentsChanged, pos: k, at: k - 1,
			tamper: func(es []model.AuditEvent) []model.AuditEvent {
				a, b := es[k-1], es[k]
				es[k-1].IP, es[k].IP = b.IP, a.IP
				es[k-1].Action, es[k].Action = b.Action, a.Action
				es[k-1].ActorID, es[k].ActorID = b.ActorID, a.ActorID
				es[k-1].Entity, es[k].Entity = b.Entity, a.Entity
				es[k-1].EntityID, es[k].EntityID = b.EntityID, a.EntityID
				es[k-1].SubjectIDs, es[k].SubjectIDs = b.SubjectIDs, a.SubjectIDs
				return es
			}},
		{name: "upper-case hash", kind: chain.Malformed, pos: k, at: k - 1, detail: "stored hash",
			tamper: func(es []model.AuditEvent) []model.AuditEvent {
				es[k-1].Hash = strings.ToUpper(es[k-1].Hash)
				return es
			}},
		{name: "short prev_hash", kind: chain.Malformed, pos: k, at: k - 1, detail: "stored prev_hash",
			tamper: func(es []model.AuditEvent) []model.AuditEvent { es[k-1].PrevHash = es[k-1].PrevHash[:10]; return es }},
		{name: "edited and re-hashed to the end", tamper: func(es []model.AuditEvent) []model.AuditEvent {
			es[k-1].IP = "198.51.100.1"
			relink(es, k-1)
			return es
		}},
		{name: "edited and re-hashed, against the anchor", anchor: &recorded, kind: chain.AnchorMismatch, pos: n, at: n - 1,
			detail: "is not the anchored " + hex.EncodeToString(recorded.Hash[:]),
			tamper: func(es []model.AuditEvent) []model.AuditEvent {
				es[k-1].IP = "198.51.100.1"
				relink(es, k-1)
				return es
			}},
		{name: "last events removed, against the anchor", anchor: &recorded, kind: chain.AnchorMissing, pos: n - 1, at: -1,
			detail: fmt.Sprintf("the trail ends after %d events, the anchor recorded %d", n-2, n),
			tamper: func(es []model.AuditEvent) []model.AuditEvent { return es[:n-2] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := tt.tamper(slices.Clone(original))
			r := verify(es, tt.anchor)
			if tt.kind == 0 {
				if r.Break != nil {
					t.Fatalf("broken: %v", r.Break)
				}
				if r.Checked != int64(len(es)) || r.Head != head(t, es) {
					t.Fatalf("checked %d, head %x; want %d, %s", r.Checked, r.Head, len(es), es[len(es)-1].Hash)
				}
				return
			}
			if r.Break == nil {
				t.Fatalf("no break found in %d events", r.Checked)
			}
			wantID := ""
			switch tt.at {
			case -1:
			case -2:
				wantID = forged.ID
			default:
				wantID = original[tt.at].ID
			}
			b := r.Break
			if b.Kind != tt.kind || b.Position != tt.pos || b.EventID != wantID {
				t.Fatalf("break %v at %d (event %s): %s\nwant %v at %d (event %s)", b.Kind, b.Position, b.EventID, b.Detail, tt.kind, tt.pos, wantID)
			}
			if !strings.HasPrefix(b.Detail, tt.kind.String()+": ") || !strings.Contains(b.Detail, tt.detail) {
				t.Fatalf("detail %q, want %q in it", b.Detail, tt.detail)
			}
			if r.Checked != tt.pos-1 {
				t.Fatalf("checked %d, want %d", r.Checked, tt.pos-1)
			}
			if tt.pos > 1 && hex.EncodeToString(r.Head[:]) != es[tt.pos-2].Hash {
				t.Fatalf("head %x, want event %d's %s", r.Head, tt.pos-1, es[tt.pos-2].Hash)
			}
		})
	}
}

func TestVerifierStopsAtTheFirstBreak(t *testing.T) {
	es := trail(10)
	es[3].IP, es[6].IP = "198.51.100.1", "198.51.100.2"
	v := chain.NewVerifier(nil)
	var first error
	for _, e := range es {
		if err := v.Add(e); err != nil && first == nil {
			first = err
		}
	}
	r := v.Result()
	if first == nil || r.Break == nil || r.Break != first || r.Break.Position != 4 {
		t.Fatalf("first error %v, result %+v: want the break at 4 kept", first, r.Break)
	}
}

func TestVerifierOfAnEmptyTrail(t *testing.T) {
	r := chain.NewVerifier(nil).Result()
	if r.Break != nil || r.Checked != 0 || r.Head != chain.Genesis {
		t.Fatalf("empty trail: %+v", r)
	}
	r = verify(nil, &chain.Anchor{Count: 1})
	if r.Break == nil || r.Break.Kind != chain.AnchorMissing || r.Break.Position != 1 {
		t.Fatalf("empty trail against an anchor of 1: %+v", r.Break)
	}
}

// TestVerifierAllocatesNothingPerEvent: a walk of a million events
// allocates no more than chain.Encode itself does per event.
func TestVerifierAllocatesNothingPerEvent(t *testing.T) {
	es := trail(1000)
	buf := make([]byte, 0, 1024)
	j := 0
	encode := testing.AllocsPerRun(len(es)-1, func() {
		buf = chain.Encode(buf[:0], es[j].Seq, es[j], chain.Genesis)
		j++
	})
	v := chain.NewVerifier(nil)
	i := 0
	allocs := testing.AllocsPerRun(len(es)-1, func() {
		if err := v.Add(es[i]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs > encode {
		t.Fatalf("%v allocations per event, %v of them chain.Encode's", allocs, encode)
	}
}

func TestParseAnchor(t *testing.T) {
	h := strings.Repeat("ab", 32)
	tests := []struct {
		in   string
		want string // the anchor written back, or "" for an error
	}{
		{"12:" + h, "12:" + h},
		{"12:" + strings.ToUpper(h), "12:" + h},
		{"0:" + chain.GenesisHex, "0:" + chain.GenesisHex},
		{"0:" + h, ""},
		{"12", ""},
		{h, ""},
		{"-1:" + h, ""},
		{"x:" + h, ""},
		{"12:" + h[:62], ""},
		{"12:" + h[:62] + "zz", ""},
		{"12:" + h + "00", ""},
	}
	for _, tt := range tests {
		a, err := chain.ParseAnchor(tt.in)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("ParseAnchor(%q) = %v, want an error", tt.in, a)
		case tt.want != "" && (err != nil || a.String() != tt.want):
			t.Errorf("ParseAnchor(%q) = %v, %v; want %s", tt.in, a, err, tt.want)
		}
	}
}

// BenchmarkVerifierCPU is the verifier alone, on events in memory: the
// hashing and comparing a walk of the trail costs beside reading it.
//
//	go test -run '^$' -bench VerifierCPU ./audit/chain/
func BenchmarkVerifierCPU(b *testing.B) {
	const n = 100_000
	es := trail(n)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := verify(es, nil)
		if r.Break != nil || r.Checked != n {
			b.Fatalf("%+v", r)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/event")
}
