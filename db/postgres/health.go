package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"

	"github.com/anavara/anavara/db"
)

// Classify names the cause behind err when err means the database itself
// cannot serve (full, read-only, corrupt, failing I/O, not answering), and
// answers db.Healthy for every other error: a missing row, a conflict, a
// serialization failure, a cancelled request say nothing about the
// database.
func Classify(err error) db.Cause {
	if err == nil || errors.Is(err, db.ErrNotFound) || errors.Is(err, db.ErrConflict) || errors.Is(err, context.Canceled) {
		return db.Healthy
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return classifyCode(pe.Code)
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), pgconn.Timeout(err),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, puddle.ErrClosedPool),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		// The server cannot be reached, dropped the connection, or did not
		// answer in time.
		return db.CauseUnavailable
	}
	return db.Healthy
}

// classifyCode maps a PostgreSQL error code (SQLSTATE) to a cause.
func classifyCode(code string) db.Cause {
	switch code {
	case "53100": // disk_full
		return db.CauseDiskFull
	case "25006": // read_only_sql_transaction: a hot standby, or default_transaction_read_only
		return db.CauseReadOnly
	case "XX001", "XX002": // data_corrupted, index_corrupted
		return db.CauseCorrupt
	case "58030": // io_error
		return db.CauseIOError
	case "57014": // query_canceled without a cancelled context: statement_timeout
		return db.CauseUnavailable
	}
	switch code[:2] {
	case "53", // insufficient resources: out of memory, too many connections
		"08", // connection exception
		"57": // operator intervention: shutting down, cannot connect now
		return db.CauseUnavailable
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
	// lastCommit is when a write last committed (Unix nanoseconds).
	lastCommit atomic.Int64
	// closed is set by Close: no cached answer outlives the store.
	closed atomic.Bool

	mu sync.Mutex
	// failure is the last failure a write or read ran into that names a
	// cause, and failedAt when. Corruption is kept for good: PostgreSQL
	// does not repair a damaged page or index by itself, an operator must
	// (REINDEX, a restore), and until then the instance should not serve.
	failure  db.Health
	failedAt time.Time
	corrupt  error

	checkMu sync.Mutex
	checked time.Time
	last    db.Health
}

func newHealthMonitor(interval time.Duration) *healthMonitor {
	if interval <= 0 {
		interval = defaultHealthInterval
	}
	return &healthMonitor{interval: interval}
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

// remembered is the failure that still stands: corruption ever seen, or a
// failure within failureHold that no commit has followed.
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

// Observe records an error a caller got from this store's reads, so that
// Health reports the failure behind it. Write records its own errors.
// Errors that say nothing about the database (not found, conflicts,
// cancellations) are ignored.
func (s *Store) Observe(err error) { s.health.observe(err) }

// Health reports whether the database can be read and written. Its answer
// is reused for a second (Options.HealthInterval), so polling it often
// costs one check per interval; concurrent callers wait for the one check
// in progress. A check answers, in order: corruption once any query has
// met it; a failure a write met within the last 10 s that no commit has
// followed; a failing read; and, unless a write committed within the
// interval (which proves writes work), the outcome of a one-row heartbeat
// write, which a hot standby or a full disk refuses.
//
// It takes no context on purpose: its one check serves every caller
// waiting for it, so no single caller's cancellation may fail it; the
// check bounds itself to 2 s instead.
func (s *Store) Health() db.Health {
	h := s.health
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
	h.last = s.checkHealth(ctx, now)
	h.checked = time.Now()
	return h.last
}

func (s *Store) checkHealth(ctx context.Context, now time.Time) db.Health {
	h := s.health
	if f, ok := h.remembered(now); ok {
		return f
	}
	var beats int64
	if err := s.pool.QueryRow(ctx, "SELECT beats FROM health_heartbeat WHERE id = 1").Scan(&beats); err != nil {
		return failed(fmt.Errorf("health check read: %w", err))
	}
	if time.Since(time.Unix(0, h.lastCommit.Load())) < h.interval {
		return db.Health{}
	}
	err := s.Write(ctx, func(t db.Tx) error {
		_, err := t.(*tx).q.Exec(ctx, "UPDATE health_heartbeat SET beats = beats + 1 WHERE id = 1")
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
