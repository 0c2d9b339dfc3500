package sqlite

import (
	"context"
	"errors"
	"fmt"
	"github.com/anavara/anavara/db"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Classify names the cause behind err when err means the database itself
// is broken (read-only, full, corrupt, failing I/O), and answers db.Healthy
// for every other error: a conflict, a busy lock, a cancelled request say
// nothing about the database.
func Classify(err error) db.Cause {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		switch {
		case errors.Is(err, syscall.EROFS):
			return db.CauseReadOnly
		case errors.Is(err, syscall.ENOSPC):
			return db.CauseDiskFull
		}
		return db.Healthy
	}
	switch se.Code {
	case sqlite3.ErrCorrupt, sqlite3.ErrNotADB:
		return db.CauseCorrupt
	case sqlite3.ErrFull:
		return db.CauseDiskFull
	case sqlite3.ErrReadonly:
		return db.CauseReadOnly
	case sqlite3.ErrIoErr, sqlite3.ErrCantOpen:
		switch se.SystemErrno {
		case syscall.ENOSPC:
			return db.CauseDiskFull
		case syscall.EROFS:
			return db.CauseReadOnly
		}
		return db.CauseIOError
	}
	return db.Healthy
}

// defaultHealthInterval is how long one health check's answer is reused.
const defaultHealthInterval = time.Second

// failureHold is how long a real write's failure keeps the database
// unhealthy when no write has succeeded since: long enough that a load
// balancer sees a steady answer while writes keep failing, short enough
// that an instance no longer sent traffic comes back once its heartbeat
// writes again.
const failureHold = 10 * time.Second

// healthProbeTimeout bounds one health check's queries.
const healthProbeTimeout = 2 * time.Second

// healthMonitor remembers what the store's own writes and reads ran into
// and caches the health check's answer, so that many polls a second cost
// one check.
type healthMonitor struct {
	interval time.Duration
	dir      string
	// lastCommit is when a write last committed (Unix nanoseconds).
	lastCommit atomic.Int64
	// closed is set by Close: no cached answer outlives the store.
	closed atomic.Bool

	mu sync.Mutex
	// failure is the last failure a write or read ran into that names a
	// cause, and failedAt when. Corruption is kept for good: SQLite does
	// not repair a damaged file, an operator must.
	failure  db.Health
	failedAt time.Time
	corrupt  error

	checkMu sync.Mutex
	checked time.Time
	last    db.Health
}

func newHealthMonitor(interval time.Duration, dir string) *healthMonitor {
	if interval <= 0 {
		interval = defaultHealthInterval
	}
	return &healthMonitor{interval: interval, dir: dir}
}

// committed records a successful commit.
func (h *healthMonitor) committed() { h.lastCommit.Store(time.Now().UnixNano()) }

// observe records err if it names a cause.
func (h *healthMonitor) observe(err error) {
	c := Classify(err)
	if c == db.Healthy {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if c == db.CauseCorrupt && h.corrupt == nil {
		h.corrupt = err
	}
	h.failure, h.failedAt = db.Health{Cause: c, Err: err}, time.Now()
}

// remembered is the failure that still stands: corruption ever seen, or
// a failure within failureHold that no commit has followed.
func (h *healthMonitor) remembered(now time.Time) (db.Health, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.corrupt != nil {
		return db.Health{Cause: db.CauseCorrupt, Err: h.corrupt}, true
	}
	if h.failure.Cause != db.Healthy && h.failedAt.UnixNano() > h.lastCommit.Load() && now.Sub(h.failedAt) < failureHold {
		return h.failure, true
	}
	return db.Health{}, false
}

// Observe records an error a caller got from this database's queries, so
// that db.Health reports the corruption or I/O failure behind it. Write
// records its own errors; callers pass what reads ran into. Errors that
// say nothing about the database (not found, conflicts, cancellations) are
// ignored.
func (d *Store) Observe(err error) { d.health.observe(err) }

// db.Health reports whether the database can be read and written. Its answer
// is reused for a second (Options.HealthInterval), so polling it often
// costs one check per interval; concurrent callers wait for the one check
// in progress. A check answers, in order: corruption once any query has
// met it; a failure a write met within the last 10 s that no commit has
// followed; a failing read of the schema; a full file system; and, unless
// a write committed within the interval (which proves writes work), the
// outcome of a one-row heartbeat write.
//
// It takes no context on purpose: its one check serves every caller
// waiting for it, so no single caller's cancellation may fail it; the
// check bounds itself to 2 s instead.
func (d *Store) Health() db.Health {
	h := d.health
	if h.closed.Load() {
		return db.Health{Cause: db.CauseUnavailable, Err: errors.New("health check: the database is closed")}
	}
	h.checkMu.Lock()
	defer h.checkMu.Unlock()
	now := time.Now()
	if !h.checked.IsZero() && now.Sub(h.checked) < h.interval {
		return h.last
	}
	ctx, cancel := context.WithTimeout(context.Background(), healthProbeTimeout)
	defer cancel()
	h.last = d.checkHealth(ctx, now)
	h.checked = time.Now()
	return h.last
}

func (d *Store) checkHealth(ctx context.Context, now time.Time) db.Health {
	h := d.health
	if f, ok := h.remembered(now); ok {
		return f
	}
	var n int
	if err := d.reader.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		return failed(fmt.Errorf("health check read: %w", err))
	}
	if full, err := diskFull(h.dir); err != nil {
		return db.Health{Cause: db.CauseUnavailable, Err: fmt.Errorf("health check: %w", err)}
	} else if full {
		return db.Health{Cause: db.CauseDiskFull, Err: fmt.Errorf("health check: no free space in %s", h.dir)}
	}
	if time.Since(time.Unix(0, h.lastCommit.Load())) < h.interval {
		return db.Health{}
	}
	err := d.write(ctx, func(q *queries) error {
		_, err := q.q.ExecContext(ctx, "UPDATE health_heartbeat SET beats = beats + 1 WHERE id = 1")
		return err
	})
	if err != nil {
		return failed(fmt.Errorf("health check write: %w", err))
	}
	return db.Health{}
}

// failed is the health of a check whose query failed with err: the cause
// err names, or not answering.
func failed(err error) db.Health {
	c := Classify(err)
	if c == db.Healthy {
		c = db.CauseUnavailable
	}
	return db.Health{Cause: c, Err: err}
}
