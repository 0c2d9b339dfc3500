package sqlite

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/mattn/go-sqlite3"

	"github.com/anavara/anavara/db"
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

// Observe records an error a caller got from this database's queries, so
// that Health reports the corruption or I/O failure behind it. Write
// records its own errors; callers pass what reads ran into. Errors that
// say nothing about the database (not found, conflicts, cancellations) are
// ignored.
func (d *Store) Observe(err error) { d.health.Observe(err) }

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
func (d *Store) Health() db.Health { return d.health.Health(d.checkHealth) }

// checkHealth is SQLite's part of Health: a read of the schema, the free
// space of the database's file system, and the heartbeat write.
func (d *Store) checkHealth(ctx context.Context) db.Health {
	var n int
	if err := d.reader.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		return d.health.Failed(fmt.Errorf("health check read: %w", err))
	}
	if full, err := diskFull(d.dir); err != nil {
		return db.Health{Cause: db.CauseUnavailable, Err: fmt.Errorf("health check: %w", err)}
	} else if full {
		return db.Health{Cause: db.CauseDiskFull, Err: fmt.Errorf("health check: no free space in %s", d.dir)}
	}
	if d.health.CommittedRecently() {
		return db.Health{}
	}
	err := d.write(ctx, func(q *queries) error {
		_, err := q.q.ExecContext(ctx, "UPDATE health_heartbeat SET beats = beats + 1 WHERE id = 1")
		return err
	})
	if err != nil {
		return d.health.Failed(fmt.Errorf("health check write: %w", err))
	}
	return db.Health{}
}
