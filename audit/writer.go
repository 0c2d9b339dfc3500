// Package audit writes the audit events of reads of medical data.
//
// A change is audited in its own transaction (the event lands with the
// change or not at all). A read has no transaction of its own, and giving
// each one a commit of its own would cut list throughput to create's; so a
// Writer gathers the events of concurrent reads into one write
// transaction, the way a database groups commits: the events that arrive
// while a batch commits form the next batch. A read alone is not delayed,
// as its batch starts at once, and no caller is told its event is written
// before the transaction that holds it has committed, so a read answered
// after Log returns is always in the trail.
//
// Under concurrent reads the Writer also waits a little before a batch, as
// PostgreSQL's commit_delay does once commit_siblings transactions are
// active: when the batch before it held several events and committed
// moments ago, more readers are on their way, and a batch waits up to
// Options.Linger for as many events as that one held. Each commit costs the
// same whatever it holds (its sync, and on SQLite every reader's page
// cache), so fewer, fuller batches leave more of the CPU to the reads
// (BENCHMARKS.md, "Issue 14, session 18"). A read after a quiet spell, or
// while reads come one at a time, is never made to wait.
package audit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// DefaultMaxBatch bounds how many events one transaction writes.
const DefaultMaxBatch = 256

// DefaultLinger bounds how long a batch waits for more events under
// concurrent reads (see the package doc).
const DefaultLinger = time.Millisecond

// DefaultWriteTimeout bounds one batch's transaction, and the retries of
// its events one by one should it fail. A batch serves many callers, so no
// one caller's context may cancel it.
const DefaultWriteTimeout = 30 * time.Second

// Options configure a Writer; zero fields take the defaults.
type Options struct {
	// MaxBatch bounds how many events one transaction writes.
	MaxBatch int
	// WriteTimeout bounds one batch's transaction, and the retries of its
	// events one by one should it fail.
	WriteTimeout time.Duration
	// Linger bounds how long a batch waits for more events after a batch
	// of several (see the package doc); negative: it never waits.
	Linger time.Duration
}

// Writer appends events to the trail in batches (see the package doc). It
// holds no goroutine while idle; the zero value is not usable, use
// NewWriter.
type Writer struct {
	store db.Store
	opts  Options

	mu      sync.Mutex
	queue   []*pending
	writing bool // a goroutine is writing batches until the queue is empty
	// last is how many events the latest batch held, and lastDone when its
	// transaction ended: what tells a batch whether to wait for more.
	last     int
	lastDone time.Time
	// want, while a batch waits for more events, is how many it waits
	// for; Log signals gathered once the queue holds them.
	want     int
	gathered chan struct{}

	events, transactions atomic.Uint64
}

// Stats counts what a Writer has done since it was made.
type Stats struct {
	// Events is the number of events committed.
	Events uint64
	// Transactions is the number of transactions that committed them.
	Transactions uint64
}

// Stats reports the events committed and the transactions that held them.
func (w *Writer) Stats() Stats {
	return Stats{Events: w.events.Load(), Transactions: w.transactions.Load()}
}

// pending is one caller's event, and where its outcome goes.
type pending struct {
	event model.AuditEvent
	done  chan error // buffered: the writer never waits for the caller
}

// NewWriter returns a Writer appending to store's trail.
func NewWriter(store db.Store, opts Options) *Writer {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.Linger == 0 {
		opts.Linger = DefaultLinger
	}
	return &Writer{store: store, opts: opts, gathered: make(chan struct{}, 1)}
}

// Log appends e to the trail and returns once the transaction holding it
// has committed, or with the error that kept it out. When ctx ends first,
// Log returns ctx's error at once; the event may still be written, which
// over-reports a read the caller will not answer, never the reverse.
func (w *Writer) Log(ctx context.Context, e model.AuditEvent) error {
	p := &pending{event: e, done: make(chan error, 1)}
	w.mu.Lock()
	w.queue = append(w.queue, p)
	if !w.writing {
		w.writing = true
		go w.writeBatches()
	}
	if w.want > 0 && len(w.queue) >= w.want {
		w.want = 0
		select {
		case w.gathered <- struct{}{}:
		default:
		}
	}
	w.mu.Unlock()
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("audit %s: %w", e.Action, ctx.Err())
	}
}

// writeBatches writes what is queued, a batch at a time, until nothing is.
func (w *Writer) writeBatches() {
	var timer *time.Timer
	for {
		w.mu.Lock()
		if want := w.gatherFor(); want > 0 {
			w.want = want
			w.mu.Unlock()
			if timer == nil {
				timer = time.NewTimer(w.opts.Linger)
			} else {
				timer.Reset(w.opts.Linger)
			}
			select {
			case <-w.gathered:
			case <-timer.C:
			}
			w.mu.Lock()
			w.want = 0
			select { // a signal sent as the timer fired must not end the next wait
			case <-w.gathered:
			default:
			}
		}
		n := min(len(w.queue), w.opts.MaxBatch)
		if n == 0 {
			w.writing = false
			w.mu.Unlock()
			return
		}
		batch := w.queue[:n:n]
		w.queue = w.queue[n:]
		if len(w.queue) == 0 {
			w.queue = nil // let the backing array go
		}
		w.mu.Unlock()
		w.write(batch)
		w.mu.Lock()
		w.last, w.lastDone = n, time.Now()
		w.mu.Unlock()
	}
}

// gatherFor is how many events the next batch should wait for, 0 when it
// should start at once: it waits only when the batch before held several
// events and ended within Linger, and only while fewer are queued. With
// none queued there is no batch to wait for: the goroutine ends, and the
// next Log starts another, which asks again. Call it with w.mu held.
func (w *Writer) gatherFor() int {
	want := min(w.last, w.opts.MaxBatch)
	if w.opts.Linger < 0 || want < 2 || len(w.queue) == 0 || len(w.queue) >= want || time.Since(w.lastDone) >= w.opts.Linger {
		return 0
	}
	return want
}

// write commits batch in one transaction. Should that fail, each event is
// tried in a transaction of its own, so that one event the store refuses
// does not keep the others out of the trail; every caller gets its own
// event's outcome. The retries share one deadline: when the store itself
// is failing, a batch costs at most two WriteTimeouts, not one per event.
func (w *Writer) write(batch []*pending) {
	err := w.commitWithin(batch)
	if err == nil || len(batch) == 1 {
		for _, p := range batch {
			p.done <- err
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.opts.WriteTimeout)
	defer cancel()
	for _, p := range batch {
		p.done <- w.commit(ctx, []*pending{p})
	}
}

// commitWithin commits batch under a deadline of its own.
func (w *Writer) commitWithin(batch []*pending) error {
	ctx, cancel := context.WithTimeout(context.Background(), w.opts.WriteTimeout)
	defer cancel()
	return w.commit(ctx, batch)
}

// commit writes batch in one transaction. Its context is the writer's,
// not a caller's: a batch serves many callers, and no one of them may
// cancel it.
func (w *Writer) commit(ctx context.Context, batch []*pending) error {
	events := make([]model.AuditEvent, len(batch))
	for i, p := range batch {
		events[i] = p.event
	}
	err := w.store.AppendAudits(ctx, events)
	if err != nil {
		return fmt.Errorf("audit %d events: %w", len(batch), err)
	}
	w.transactions.Add(1)
	w.events.Add(uint64(len(batch)))
	return nil
}
