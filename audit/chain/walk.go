package chain

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/anavara/anavara/model"
)

// walkBatch is how many events the reader hands the verifier at a time:
// enough that the hand-over costs nothing beside the events, few enough
// that memory stays a few hundred kilobytes.
const walkBatch = 512

// walkBatches is how many batches may be in flight: the reader fills one
// while the verifier checks another, with slack for either's hiccups.
const walkBatches = 4

// errStop ends the read once the verifier has found the break.
var errStop = errors.New("chain: verified up to a break")

// batch is walkBatch links whose bytes are in arena: the reader copies
// each event's bytes there, so that the row buffers they came from can be
// reused at once, and reuses the batch once the verifier is done with it.
type batch struct {
	links []link
	arena []byte
}

// Walk verifies the trail that each walks (db.Snapshot.EachAudit: every
// event in chain order), reading and encoding on the caller's goroutine
// and hashing on another, so that on two cores the hashing hides behind
// the read. It stops the read at the first broken link, which it reports
// in the Result; its error is a read's that kept the walk from finishing
// without a break, and then the Result holds what held before it.
func Walk(ctx context.Context, each func(context.Context, func(model.AuditEvent) error) error, anchor *Anchor) (Result, error) {
	return walk(ctx, anchor, each, putEvent)
}

// WalkStored is Walk over a trail as stored (db.StoredAuditWalker's
// EachStoredAudit), which builds no event.
func WalkStored(ctx context.Context, each func(context.Context, func(*Stored) error) error, anchor *Anchor) (Result, error) {
	return walk(ctx, anchor, each, putStored)
}

// putEvent adds e's link to b.
func putEvent(b *batch, e model.AuditEvent) {
	var l link
	b.arena = l.fromEvent(b.arena, &e)
	b.links = append(b.links, l)
}

// putStored adds s's link to b, its bytes copied.
func putStored(b *batch, s *Stored) {
	at := len(b.arena)
	b.arena = append(b.arena, s.ID...)
	b.arena = append(b.arena, s.Fields...)
	b.arena = append(b.arena, s.PrevHash...)
	b.arena = append(b.arena, s.Hash...)
	l := link{seq: s.Seq, prefix: s.Prefix}
	l.id, at = cut(b.arena, at, len(s.ID))
	l.fields, at = cut(b.arena, at, len(s.Fields))
	l.prev, at = cut(b.arena, at, len(s.PrevHash))
	l.hash, _ = cut(b.arena, at, len(s.Hash))
	b.links = append(b.links, l)
}

// cut is the n bytes of arena at at, and where the next part begins.
func cut(arena []byte, at, n int) ([]byte, int) { return arena[at : at+n : at+n], at + n }

// walk reads the trail with each, putting every item's link in a batch
// with put, and checks the batches on another goroutine; once a break is
// found it ends the read with errStop.
func walk[T any](ctx context.Context, anchor *Anchor, each func(context.Context, func(T) error) error, put func(*batch, T)) (Result, error) {
	v := NewVerifier(anchor)
	full := make(chan *batch, walkBatches)
	empty := make(chan *batch, walkBatches+1)
	for range walkBatches + 1 {
		empty <- &batch{links: make([]link, 0, walkBatch), arena: make([]byte, 0, 256*walkBatch)}
	}
	var broken atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		for b := range full {
			if !broken.Load() {
				for i := range b.links {
					if v.add(&b.links[i]) != nil {
						broken.Store(true)
						break
					}
				}
			}
			b.links, b.arena = b.links[:0], b.arena[:0]
			empty <- b
		}
	})

	cur := <-empty
	err := each(ctx, func(item T) error {
		if broken.Load() {
			return errStop
		}
		put(cur, item)
		if len(cur.links) == walkBatch {
			full <- cur
			cur = <-empty
		}
		return nil
	})
	// What was read before a failed read is checked too, so that the
	// result says how far the trail held.
	if len(cur.links) > 0 {
		full <- cur
	}
	close(full)
	wg.Wait()
	r := v.Result()
	if r.Break != nil || errors.Is(err, errStop) {
		return r, nil
	}
	return r, err
}
