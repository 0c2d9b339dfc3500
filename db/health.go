package db

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Cause is why the database cannot serve reads and writes.
type Cause int

// The causes Health reports. Each has a fixed description (String) that
// reveals nothing of the system: it is safe to answer to anyone.
const (
	// Healthy: reads and writes work.
	Healthy Cause = iota
	// CauseReadOnly: the database or its file system refuses writes.
	CauseReadOnly
	// CauseDiskFull: there is no room left for writes.
	CauseDiskFull
	// CauseCorrupt: SQLite found the database file damaged.
	CauseCorrupt
	// CauseIOError: writes fail at the operating system for another reason.
	CauseIOError
	// CauseUnavailable: the database does not answer in time.
	CauseUnavailable
)

// String is the cause's fixed description.
func (c Cause) String() string {
	switch c {
	case Healthy:
		return "ok"
	case CauseReadOnly:
		return "database is read-only"
	case CauseDiskFull:
		return "disk is full"
	case CauseCorrupt:
		return "database is corrupt"
	case CauseIOError:
		return "database cannot be written"
	}
	return "database is not answering"
}

// Classify names the cause behind err when err means the database itself
// is broken (read-only, full, corrupt, failing I/O), and answers Healthy
// for every other error: a conflict, a busy lock, a cancelled request say
// nothing about the database.
func Classify(err error) Cause {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		switch {
		case errors.Is(err, syscall.EROFS):
			return CauseReadOnly
		case errors.Is(err, syscall.ENOSPC):
			return CauseDiskFull
		}
		return Healthy
	}
	switch se.Code {
	case sqlite3.ErrCorrupt, sqlite3.ErrNotADB:
		return CauseCorrupt
	case sqlite3.ErrFull:
		return CauseDiskFull
	case sqlite3.ErrReadonly:
		return CauseReadOnly
	case sqlite3.ErrIoErr, sqlite3.ErrCantOpen:
		switch se.SystemErrno {
		case syscall.ENOSPC:
			return CauseDiskFull
		case syscall.EROFS:
			return CauseReadOnly
		}
		return CauseIOError
	}
	return Healthy
}

// Health is what a health check found.
type Health struct {
	// Cause is Healthy when reads and writes work.
	Cause Cause
	// Err is the error behind Cause, for the log (never for clients).
	Err error
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
	failure  Health
	failedAt time.Time
	corrupt  error

	checkMu sync.Mutex
	checked time.Time
	last    Health
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

// remembered is the failure that still stands: corruption ever seen, or
// a failure within failureHold that no commit has followed.
func (h *healthMonitor) remembered(now time.Time) (Health, bool) {
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

// Observe records an error a caller got from this database's queries, so
// that Health reports the corruption or I/O failure behind it. Write
// records its own errors; callers pass what reads ran into. Errors that
// say nothing about the database (not found, conflicts, cancellations) are
// ignored.
func (d *DB) Observe(err error) { d.health.observe(err) }

// Health reports whether the database can be read and written. Its answer
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
func (d *DB) Health() Health {
	h := d.health
	if h.closed.Load() {
		return Health{Cause: CauseUnavailable, Err: errors.New("health check: the database is closed")}
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

func (d *DB) checkHealth(ctx context.Context, now time.Time) Health {
	h := d.health
	if f, ok := h.remembered(now); ok {
		return f
	}
	var n int
	if err := d.reader.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		return failed(fmt.Errorf("health check read: %w", err))
	}
	if full, err := diskFull(h.dir); err != nil {
		return Health{Cause: CauseUnavailable, Err: fmt.Errorf("health check: %w", err)}
	} else if full {
		return Health{Cause: CauseDiskFull, Err: fmt.Errorf("health check: no free space in %s", h.dir)}
	}
	if time.Since(time.Unix(0, h.lastCommit.Load())) < h.interval {
		return Health{}
	}
	err := d.Write(ctx, func(q *Queries) error {
		_, err := q.q.ExecContext(ctx, "UPDATE health_heartbeat SET beats = beats + 1 WHERE id = 1")
		return err
	})
	if err != nil {
		return failed(fmt.Errorf("health check write: %w", err))
	}
	return Health{}
}

// failed is the health of a check whose query failed with err: the cause
// err names, or not answering.
func failed(err error) Health {
	c := Classify(err)
	if c == Healthy {
		c = CauseUnavailable
	}
	return Health{Cause: c, Err: err}
}
