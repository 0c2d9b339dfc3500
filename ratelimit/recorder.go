package ratelimit

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Outcomes a Recorder counts. A Counter's check is allowed, limited or an
// error; a Throttle's is open, blocked or an error; a Throttle's Fail is a
// failure or an error.
const (
	OutcomeAllowed = "allowed"
	OutcomeLimited = "limited"
	OutcomeOpen    = "open"
	OutcomeBlocked = "blocked"
	OutcomeFailure = "failure"
	OutcomeError   = "error"
)

// Decision is how often one limit reached one outcome since its Recorder
// was made.
type Decision struct {
	Limit   string
	Outcome string
	Count   uint64
}

// Recorder is a Store that counts the decisions of every limit it makes,
// for metrics, and otherwise hands each call to the Store it wraps. Errors
// are counted as an outcome of their own: a shared store that cannot be
// reached shows as a rising error count while requests still pass (the
// endpoint limits fail open).
type Recorder struct {
	store  Store
	shared bool

	mu     sync.Mutex
	counts map[[2]string]*atomic.Uint64
}

// NewRecorder wraps store. shared says whether its state is shared by every
// process on the database (PostgreSQL) rather than kept in this one's
// memory; Shared reports it back for metrics.
func NewRecorder(store Store, shared bool) *Recorder {
	return &Recorder{store: store, shared: shared, counts: make(map[[2]string]*atomic.Uint64)}
}

// Shared reports whether the wrapped store's state is shared across
// processes.
func (r *Recorder) Shared() bool { return r.shared }

// Limiter makes the wrapped store's limiter and counts its checks under
// name.
func (r *Recorder) Limiter(name string, rule Rule, now func() time.Time) Counter {
	return &recordedCounter{
		next:    r.store.Limiter(name, rule, now),
		allowed: r.counter(name, OutcomeAllowed),
		limited: r.counter(name, OutcomeLimited),
		failed:  r.counter(name, OutcomeError),
	}
}

// Backoff makes the wrapped store's back-off and counts its checks and
// failures under name.
func (r *Recorder) Backoff(name string, rule BackoffRule, now func() time.Time) Throttle {
	return &recordedThrottle{
		next:     r.store.Backoff(name, rule, now),
		open:     r.counter(name, OutcomeOpen),
		blocked:  r.counter(name, OutcomeBlocked),
		failures: r.counter(name, OutcomeFailure),
		failed:   r.counter(name, OutcomeError),
	}
}

// Decisions returns every count, sorted by limit and outcome. Limits made
// twice under one name (the same limit of two front ends in one process)
// share their counts.
func (r *Recorder) Decisions() []Decision {
	r.mu.Lock()
	out := make([]Decision, 0, len(r.counts))
	for k, c := range r.counts {
		out = append(out, Decision{Limit: k[0], Outcome: k[1], Count: c.Load()})
	}
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Limit != out[j].Limit {
			return out[i].Limit < out[j].Limit
		}
		return out[i].Outcome < out[j].Outcome
	})
	return out
}

// counter is the count of one limit's outcome, made on first use so that
// every outcome is exported (at zero) from the start.
func (r *Recorder) counter(limit, outcome string) *atomic.Uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := [2]string{limit, outcome}
	c, ok := r.counts[k]
	if !ok {
		c = new(atomic.Uint64)
		r.counts[k] = c
	}
	return c
}

// recordedCounter counts the checks of the Counter it wraps.
type recordedCounter struct {
	next                     Counter
	allowed, limited, failed *atomic.Uint64
}

func (c *recordedCounter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	ok, retry, err := c.next.Allow(ctx, key)
	switch {
	case err != nil:
		c.failed.Add(1)
	case ok:
		c.allowed.Add(1)
	default:
		c.limited.Add(1)
	}
	return ok, retry, err
}

// recordedThrottle counts the checks and failures of the Throttle it
// wraps.
type recordedThrottle struct {
	next                            Throttle
	open, blocked, failures, failed *atomic.Uint64
}

func (t *recordedThrottle) Blocked(ctx context.Context, key string) (bool, time.Duration, error) {
	blocked, retry, err := t.next.Blocked(ctx, key)
	switch {
	case err != nil:
		t.failed.Add(1)
	case blocked:
		t.blocked.Add(1)
	default:
		t.open.Add(1)
	}
	return blocked, retry, err
}

func (t *recordedThrottle) Fail(ctx context.Context, key string) error {
	err := t.next.Fail(ctx, key)
	if err != nil {
		t.failed.Add(1)
	} else {
		t.failures.Add(1)
	}
	return err
}

func (t *recordedThrottle) Clear(ctx context.Context, key string) error {
	err := t.next.Clear(ctx, key)
	if err != nil {
		t.failed.Add(1)
	}
	return err
}
