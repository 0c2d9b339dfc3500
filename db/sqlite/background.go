package sqlite

import (
	"context"
	"sync/atomic"
	"time"
)

// backgroundJob is maintenance the store runs beside the requests, in
// writes of its own: the full-text indexes' merges (fts_merge.go) and the
// audit trail's indexing (audit_indexer.go).
type backgroundJob struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// startBackground calls work every interval until the job is closed. work
// reports whether it found anything to do; once it finds nothing, the
// ticks that follow skip it until another write has committed (commits
// counts them), since until then there is still nothing. An error is left
// to the next tick: the write that failed has rolled back.
func startBackground(commits *atomic.Uint64, interval time.Duration, work func(context.Context) (worked bool, err error)) *backgroundJob {
	ctx, cancel := context.WithCancel(context.Background())
	j := &backgroundJob{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(j.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		idleAt := ^uint64(0)
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				n := commits.Load()
				if n == idleAt {
					continue
				}
				if worked, err := work(ctx); err == nil && !worked {
					idleAt = n
				}
			}
		}
	}()
	return j
}

// close stops the job, waiting for a write under way to end; closing twice
// is harmless.
func (j *backgroundJob) close() {
	j.cancel()
	<-j.done
}
