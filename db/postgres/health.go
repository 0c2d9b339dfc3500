package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

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

// Observe records an error a caller got from this store's reads, so that
// Health reports the failure behind it. Write records its own errors.
// Errors that say nothing about the database (not found, conflicts,
// cancellations) are ignored.
func (s *Store) Observe(err error) { s.health.Observe(err) }

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
func (s *Store) Health() db.Health { return s.health.Health(s.checkHealth) }

// checkHealth is PostgreSQL's part of Health: a read and the heartbeat
// write.
func (s *Store) checkHealth(ctx context.Context) db.Health {
	var beats int64
	if err := s.pool.QueryRow(ctx, "SELECT beats FROM health_heartbeat WHERE id = 1").Scan(&beats); err != nil {
		return s.health.Failed(fmt.Errorf("health check read: %w", err))
	}
	if s.health.CommittedRecently() {
		return db.Health{}
	}
	err := s.Write(ctx, func(t db.Tx) error {
		_, err := t.(*tx).q.Exec(ctx, "UPDATE health_heartbeat SET beats = beats + 1 WHERE id = 1")
		return err
	})
	if err != nil {
		return s.health.Failed(fmt.Errorf("health check write: %w", err))
	}
	return db.Health{}
}
