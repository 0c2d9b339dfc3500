package chain_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/anavara/anavara/audit/chain"
	"github.com/anavara/anavara/model"
)

// eachOf walks es as a snapshot's EachAudit would, counting the events it
// handed out.
func eachOf(es []model.AuditEvent, fed *int) func(context.Context, func(model.AuditEvent) error) error {
	return func(ctx context.Context, fn func(model.AuditEvent) error) error {
		for _, e := range es {
			*fed++
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestWalkFindsWhatTheVerifierFinds(t *testing.T) {
	const n = 5000 // several batches
	for _, k := range []int{1, 511, 512, 513, 3000, n} {
		es := trail(n)
		es[k-1].IP = "198.51.100.1"
		var fed int
		got, err := chain.Walk(context.Background(), eachOf(es, &fed), nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := verify(es, nil); !reflect.DeepEqual(got, want) {
			t.Fatalf("edit at %d: Walk %+v %+v, Verifier %+v %+v", k, got, got.Break, want, want.Break)
		}
		if got.Break == nil || got.Break.Position != int64(k) {
			t.Fatalf("edit at %d: %+v", k, got.Break)
		}
		// The read stops soon after the break, not at the trail's end.
		if k == 1 && fed == n {
			t.Errorf("edit at 1: the walk read all %d events", fed)
		}
	}
	es := trail(n)
	anchor := chain.Anchor{Count: n + 1}
	got, err := chain.Walk(context.Background(), eachOf(es, new(int)), &anchor)
	if want := verify(es, &anchor); err != nil || !reflect.DeepEqual(got, want) || got.Break.Kind != chain.AnchorMissing {
		t.Fatalf("short of the anchor: Walk %+v %v, Verifier %+v", got, err, want)
	}
	got, err = chain.Walk(context.Background(), eachOf(es, new(int)), nil)
	if err != nil || got.Break != nil || got.Checked != n || got.Head != head(t, es) {
		t.Fatalf("whole: %+v %v", got, err)
	}
}

func TestWalkReturnsTheReadsError(t *testing.T) {
	es := trail(2000)
	failed := errors.New("disk gone")
	each := func(ctx context.Context, fn func(model.AuditEvent) error) error {
		for _, e := range es[:1500] {
			if err := fn(e); err != nil {
				return err
			}
		}
		return failed
	}
	r, err := chain.Walk(context.Background(), each, nil)
	if !errors.Is(err, failed) || r.Break != nil || r.Checked != 1500 || r.Head != head(t, es[:1500]) {
		t.Fatalf("Walk = %d %x %+v, %v; want the read's error after 1500 events", r.Checked, r.Head, r.Break, err)
	}
	// A break found before the read failed is still the answer.
	es[10].IP = "198.51.100.1"
	r, err = chain.Walk(context.Background(), each, nil)
	if err != nil || r.Break == nil || r.Break.Position != 11 {
		t.Fatalf("Walk = %+v, %v; want the break at 11", r.Break, err)
	}
}

// storedOf walks es as a store's EachStoredAudit would: each event as its
// row's bytes, in one buffer the walk overwrites for the next event, so a
// walk that kept a slice instead of copying it would check garbage.
func storedOf(es []model.AuditEvent) func(context.Context, func(*chain.Stored) error) error {
	return func(ctx context.Context, fn func(*chain.Stored) error) error {
		var row []byte
		for _, e := range es {
			row = append(row[:0], e.ID...)
			id := len(row)
			row = chain.EncodeFields(row, e)
			fields := len(row)
			// As stored: the bytes the hex stands for, whatever their length.
			prev, _ := hex.DecodeString(e.PrevHash)
			row = append(row, prev...)
			hashAt := len(row)
			hash, _ := hex.DecodeString(e.Hash)
			row = append(row, hash...)
			s := chain.Stored{Seq: e.Seq, Prefix: chain.PrefixOf(e), ID: row[:id], Fields: row[id:fields], PrevHash: row[fields:hashAt], Hash: row[hashAt:]}
			if err := fn(&s); err != nil {
				return err
			}
			clear(row)
		}
		return nil
	}
}

func TestWalkStoredFindsWhatTheVerifierFinds(t *testing.T) {
	const n = 3000
	for _, tc := range []struct {
		name   string
		tamper func(es []model.AuditEvent)
		kind   chain.Kind
	}{
		{"whole", func([]model.AuditEvent) {}, 0},
		{"edited at 1", func(es []model.AuditEvent) { es[0].IP = "198.51.100.1" }, chain.ContentsChanged},
		{"edited at 513", func(es []model.AuditEvent) { es[512].Action = model.ActionRecordDelete }, chain.ContentsChanged},
		{"records edited", func(es []model.AuditEvent) { es[2042].RecordIDs = es[2042].RecordIDs[1:] }, chain.ContentsChanged},
		{"deleted", func(es []model.AuditEvent) { copy(es[700:], es[701:]) }, chain.SeqGap},
		{"short hash", func(es []model.AuditEvent) { es[99].Hash = es[99].Hash[:20] }, chain.Malformed},
		{"no prev_hash", func(es []model.AuditEvent) { es[1500].PrevHash = "" }, chain.Malformed},
		{"outside the chain", func(es []model.AuditEvent) { es[n-1].Seq = 0 }, chain.NotInChain},
		{"token id removed", func(es []model.AuditEvent) { es[1000].TokenID = nil }, chain.ContentsChanged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es := tokenTrail(n)
			tc.tamper(es)
			got, err := chain.WalkStored(context.Background(), storedOf(es), nil)
			if err != nil {
				t.Fatal(err)
			}
			want := verify(es, nil)
			if got.Checked != want.Checked || got.Head != want.Head || (got.Break == nil) != (want.Break == nil) {
				t.Fatalf("WalkStored %+v %+v, Verifier %+v %+v", got, got.Break, want, want.Break)
			}
			if want.Break == nil {
				if tc.kind != 0 || got.Checked != n {
					t.Fatalf("whole trail: %+v", got)
				}
				return
			}
			if *got.Break != *want.Break || got.Break.Kind != tc.kind {
				t.Fatalf("WalkStored broke at %+v, the Verifier at %+v; want kind %v", got.Break, want.Break, tc.kind)
			}
		})
	}
	// Against an anchor, as Walk.
	es := tokenTrail(n)
	anchor := chain.Anchor{Count: n + 1}
	got, err := chain.WalkStored(context.Background(), storedOf(es), &anchor)
	if want := verify(es, &anchor); err != nil || !reflect.DeepEqual(got, want) || got.Break.Kind != chain.AnchorMissing {
		t.Fatalf("short of the anchor: WalkStored %+v %v, Verifier %+v", got, err, want)
	}
}

// tokenTrail is trail with every fifth event made by a request an API
// token authenticated (encoding version 2), linked.
func tokenTrail(n int) []model.AuditEvent {
	es := trail(n)
	for i := range es {
		if i%5 == 0 {
			token := fmt.Sprintf("30000000-0000-4000-8000-%012d", i%3)
			es[i].TokenID = &token
		}
	}
	relink(es, 0)
	return es
}
