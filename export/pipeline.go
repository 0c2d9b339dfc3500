package export

import (
	"context"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// pipelineBatch is how many records pass from the walk to the encoder at
// a time, and pipelineDepth how many batches may wait: memory for about
// pipelineBatch × (pipelineDepth + 2) records, a few MB.
const (
	pipelineBatch = 512
	pipelineDepth = 2
)

// eachRecordPipelined walks every record of snap, as snap.EachRecord(ctx,
// "", handle) would, but hands them to handle on another goroutine, so
// that reading rows (SQLite stepping, through cgo) and encoding resources
// use a core each: together they are most of a population export's time.
// handle sees the records in the walk's order, from one goroutine.
func eachRecordPipelined(ctx context.Context, snap db.Snapshot, handle func(model.MedicalRecord) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	full := make(chan []model.MedicalRecord, pipelineDepth)
	empty := make(chan []model.MedicalRecord, pipelineDepth+2)
	for range pipelineDepth + 2 {
		empty <- make([]model.MedicalRecord, 0, pipelineBatch)
	}
	var handleErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for batch := range full {
			for _, r := range batch {
				if handleErr != nil {
					break
				}
				if err := handle(r); err != nil {
					handleErr = err
					// The walk stops at its next batch.
					cancel()
				}
			}
			empty <- batch[:0]
		}
	}()
	batch := <-empty
	send := func() error {
		select {
		case full <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case batch = <-empty:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	}
	walkErr := snap.EachRecord(ctx, "", func(r model.MedicalRecord) error {
		batch = append(batch, r)
		if len(batch) < pipelineBatch {
			return nil
		}
		return send()
	})
	if walkErr == nil && len(batch) > 0 {
		walkErr = send()
	}
	close(full)
	<-done
	if handleErr != nil {
		// The walk's own error is then the cancellation handleErr caused.
		return handleErr
	}
	return walkErr
}
