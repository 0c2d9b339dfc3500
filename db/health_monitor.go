package db

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultHealthInterval is how long one health check's answer is reused
// when a store is given none.
const DefaultHealthInterval = time.Second

// failureHold is how long a real write's failure keeps the database
// unhealthy when no write has succeeded since: long enough that a load
// balancer sees a steady answer while writes keep failing, short enough
// that an instance no longer sent traffic comes back once its heartbeat
// writes again.
const failureHold = 10 * time.Second

// healthProbeTimeout bounds one health check's queries.
const healthProbeTimeout = 2 * time.Second

// HealthMonitor is the part of Store.Health every engine shares: it
// remembers what the store's writes and reads ran into and caches the
// check's answer, so that many polls a second cost one check. The engine
// supplies how to classify its errors and the check itself.
type HealthMonitor struct {
	interval time.Duration
	classify func(error) Cause
	// lastCommit is when a write last committed (Unix nanoseconds).
	lastCommit atomic.Int64
	// closed is set by Close: no cached answer outlives the store.
	closed atomic.Bool

	mu sync.Mutex
	// failure is the last failure a write or read ran into that names a
	// cause, and failedAt when. Corruption is kept for good: neither
	// engine repairs damaged data by itself; an operator must.
	failure  Health
	failedAt time.Time
	corrupt  error

	checkMu sync.Mutex
	checked time.Time
	last    Health
}

// NewHealthMonitor returns a monitor that reuses an answer for interval
// (DefaultHealthInterval when it is not positive) and names the cause
// behind an error with classify.
func NewHealthMonitor(interval time.Duration, classify func(error) Cause) *HealthMonitor {
	if interval <= 0 {
		interval = DefaultHealthInterval
	}
	return &HealthMonitor{interval: interval, classify: classify}
}

// Committed records a successful commit.
func (h *HealthMonitor) Committed() { h.lastCommit.Store(time.Now().UnixNano()) }

// CommittedRecently reports whether a write committed within the interval,
// which proves writes work without a heartbeat of the check's own.
func (h *HealthMonitor) CommittedRecently() bool {
	return time.Since(time.Unix(0, h.lastCommit.Load())) < h.interval
}

// Observe records err if it names a cause.
func (h *HealthMonitor) Observe(err error) {
	c := h.classify(err)
	if c == Healthy {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if c == CauseCorrupt && h.corrupt == nil {
		h.corrupt = err
	}
	h.failure, h.failedAt = Health{Cause: c, Err: err}, time.Now()
}

// Close makes every later Health answer that the database is closed.
func (h *HealthMonitor) Close() { h.closed.Store(true) }

// Failed is the health of a check whose query failed with err: the cause
// err names, or not answering.
func (h *HealthMonitor) Failed(err error) Health {
	c := h.classify(err)
	if c == Healthy {
		c = CauseUnavailable
	}
	return Health{Cause: c, Err: err}
}

// remembered is the failure that still stands: corruption ever seen, or a
// failure within failureHold that no commit has followed.
func (h *HealthMonitor) remembered(now time.Time) (Health, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.corrupt != nil {
		return Health{Cause: CauseCorrupt, Err: h.corrupt}, true
	}
	if h.failure.Cause != Healthy && h.failedAt.UnixNano() > h.lastCommit.Load() && now.Sub(h.failedAt) < failureHold {
		return h.failure, true
	}
	return Health{}, false
}

// Health answers, in order: closed; the cached answer if it is younger
// than the interval; corruption once any query met it; a failure a write
// met within the last 10 s that no commit has followed; and otherwise what
// check, the engine's queries, finds. Concurrent callers wait for the one
// check in progress.
//
// It takes no context on purpose: its one check serves every caller
// waiting for it, so no single caller's cancellation may fail it; check
// gets a context bounded to 2 s instead.
func (h *HealthMonitor) Health(check func(ctx context.Context) Health) Health {
	if h.closed.Load() {
		return Health{Cause: CauseUnavailable, Err: errors.New("health check: the database is closed")}
	}
	h.checkMu.Lock()
	defer h.checkMu.Unlock()
	now := time.Now()
	if !h.checked.IsZero() && now.Sub(h.checked) < h.interval {
		return h.last
	}
	if f, ok := h.remembered(now); ok {
		h.last = f
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), healthProbeTimeout)
		h.last = check(ctx)
		cancel()
	}
	h.checked = time.Now()
	return h.last
}
