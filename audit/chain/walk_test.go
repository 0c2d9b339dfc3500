package chain_test

import (
	"context"
	"errors"
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
