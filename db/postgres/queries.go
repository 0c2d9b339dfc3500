package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// querier is what both *pgxpool.Pool and pgx.Tx offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// reader runs the queries that read, on the pool or in a transaction.
type reader struct {
	q querier
	// forUpdate ends every single-row read: " FOR UPDATE" in a
	// transaction, so that the row stays as read until the transaction
	// ends (db.Tx), "" on the pool.
	forUpdate string
	// tx is the transaction the reader runs in, nil on the pool.
	tx *tx
}

// tx is one write transaction (db.Tx).
type tx struct {
	reader
	// wroteUsers is set when a query writes the users table.
	wroteUsers bool
	// announcer numbers the transaction's announcement of changed users
	// (announce.go); nil outside Write.
	announcer *announcer
	// announced is that announcement's number, 0 while there is none, and
	// announcePayload what asks listeners to acknowledge it; notified holds
	// the users a statement announced (one that found no row announces
	// nothing): PostgreSQL sends one notification per user, and each
	// listener acknowledges each.
	announced       uint64
	announcePayload string
	notified        map[string]bool
	// pending are counter moves not yet written (counts.go), and
	// pendingWords moves of the search words' counts (search_word_counts.go).
	pending      map[countKey]int64
	pendingWords map[string]int64
	// pendingAudits are audit events not yet appended (audit.go).
	pendingAudits []model.AuditEvent
}

var (
	_ db.Reader = (*reader)(nil)
	_ db.Tx     = (*tx)(nil)
)

// markUsersWritten records that this transaction writes the users table.
func (t *tx) markUsersWritten() { t.wroteUsers = true }

// announcement returns the transaction's request for acknowledgements of
// its announcement (announceUser), opening one the first time.
func (t *tx) announcement() string {
	if t.announcer == nil {
		return ""
	}
	if t.announced == 0 {
		t.announced, t.announcePayload = t.announcer.begin()
	}
	return t.announcePayload
}

// announcedBy notes whether the statement that ended in announceUser,
// for user id, and returned tag announced the user, and requires it to
// have changed one row.
func (t *tx) announcedBy(tag pgconn.CommandTag, id string) error {
	if tag.RowsAffected() > 0 {
		if t.notified == nil {
			t.notified = make(map[string]bool)
		}
		t.notified[id] = true
	}
	return requireOneRow(tag)
}

// at converts t to what a timestamptz column stores: microseconds, cut
// the way SQLite's Unix microseconds (time.UnixMicro) cut them, so that
// both engines give back the same instant.
func at(t time.Time) time.Time { return time.UnixMicro(t.UnixMicro()).UTC() }

// utc returns a stored time in UTC, as the SQLite engine returns times
// (pgx hands them back in the local zone).
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}

// dateArg converts d to a date parameter.
func dateArg(d model.Date) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
}

// fromDate converts a scanned date column (midnight UTC) to a model.Date.
func fromDate(t time.Time) model.Date { return model.NewDate(t.Year(), t.Month(), t.Day()) }
