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

// Walk verifies the trail that each walks (db.Snapshot.EachAudit: every
// event in chain order), reading on the caller's goroutine and hashing on
// another, so that on two cores the hashing hides behind the read. It
// stops the read at the first broken link, which it reports in the
// Result; its error is a read's that kept the walk from finishing
// without a break, and then the Result holds what held before it.
func Walk(ctx context.Context, each func(context.Context, func(model.AuditEvent) error) error, anchor *Anchor) (Result, error) {
	v := NewVerifier(anchor)
	full := make(chan []model.AuditEvent, walkBatches)
	empty := make(chan []model.AuditEvent, walkBatches+1)
	for range walkBatches + 1 {
		empty <- make([]model.AuditEvent, 0, walkBatch)
	}
	var broken atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		for batch := range full {
			if !broken.Load() {
				for _, e := range batch {
					if v.Add(e) != nil {
						broken.Store(true)
						break
					}
				}
			}
			empty <- batch[:0]
		}
	})

	batch := <-empty
	err := each(ctx, func(e model.AuditEvent) error {
		if broken.Load() {
			return errStop
		}
		batch = append(batch, e)
		if len(batch) == walkBatch {
			full <- batch
			batch = <-empty
		}
		return nil
	})
	// What was read before a failed read is checked too, so that the
	// result says how far the trail held.
	if len(batch) > 0 {
		full <- batch
	}
	close(full)
	wg.Wait()
	r := v.Result()
	if r.Break != nil || errors.Is(err, errStop) {
		return r, nil
	}
	return r, err
}
