// Package sqlite is Anavara's embedded storage engine, the default: one
// SQLite database opened as a single writer connection plus a pool of
// readers, schema migrations embedded in the binary, and one file of
// queries per aggregate. It implements db.Store.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite/walbuffer"
	"github.com/anavara/anavara/model"
)

// Options configure Open.
type Options struct {
	// Path is the database file.
	Path string
	// Synchronous is SQLite's synchronous pragma: FULL (default; an
	// acknowledged write survives a power loss) or NORMAL.
	Synchronous string
	// Readers is the size of the read pool; default max(4, 2×CPUs).
	Readers int
	// BusyTimeout bounds how long a connection waits for a lock; default 5 s.
	BusyTimeout time.Duration
	// SkipMigrations opens the database as it is, applying no pending
	// migration: for backups, which must not change a database that a
	// running server, perhaps of another version, owns.
	SkipMigrations bool
	// HealthInterval is how long db.Health reuses one check's answer;
	// default 1 s.
	HealthInterval time.Duration
	// MaxBatch bounds how many write transactions share one commit (group
	// commit, group_commit.go); default 64. 1 turns group commit off: every
	// transaction then commits on its own, as before group commit.
	MaxBatch int
	// MaxBatchTime bounds how long a batch keeps taking in queued write
	// transactions after it began, so that the first of a busy batch is not
	// answered arbitrarily late; default 10 ms. It is never a wait: a batch
	// commits as soon as nothing is queued.
	MaxBatchTime time.Duration
	// FTSMergeInterval is how often the background merger of the
	// full-text indexes looks for work (fts_merge.go); default 100 ms.
	// Negative turns it off, for tests that count which writes share a
	// batch. It never runs with SkipMigrations: a backup changes nothing.
	FTSMergeInterval time.Duration
	// AuditIndexInterval is how often the background indexer of the audit
	// trail's served records and accounts looks for events to index
	// (audit_indexer.go); default 50 ms. Negative turns it off, for tests
	// that count which writes share a batch or that read the trail's
	// unindexed events. It never runs with SkipMigrations.
	AuditIndexInterval time.Duration
}

// Store is the opened database.
type Store struct {
	writer *sql.DB
	reader *sql.DB
	// plainDSN opens a connection that may read and write, for backups.
	plainDSN string
	ckpt     *checkpointer
	// commits counts committed write transactions, for the checkpointer.
	commits atomic.Uint64
	// usersVersion counts this process's write transactions that wrote the
	// users table (see UsersVersion).
	usersVersion atomic.Uint64
	// health remembers what queries ran into and caches db.Health.
	health *db.HealthMonitor
	// dir is the database's directory, whose free space Health checks.
	dir string
	// merger merges the full-text indexes in the background (fts_merge.go);
	// nil when Options turned it off.
	merger *backgroundJob
	// indexer indexes the audit trail's newest events in the background
	// (audit_indexer.go); nil when Options turned it off.
	indexer *backgroundJob
	// dbFile is a read-only descriptor of the database file, held open
	// until Close, through which the checkpointer syncs the pages its
	// checkpoints wrote (checkpointer.pass).
	dbFile *os.File
	// group queues write transactions that arrive while another holds the
	// writer, to share one commit (group_commit.go).
	group groupCommit
}

// Open opens (creating if needed) the database at opts.Path and applies
// pending migrations unless opts.SkipMigrations is set.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Path == "" {
		return nil, errors.New("open database: empty path")
	}
	sync := strings.ToUpper(opts.Synchronous)
	switch sync {
	case "":
		sync = "FULL"
	case "FULL", "NORMAL", "EXTRA":
	default:
		return nil, fmt.Errorf("open database: synchronous must be FULL, NORMAL or EXTRA, not %q", opts.Synchronous)
	}
	readers := opts.Readers
	if readers <= 0 {
		readers = max(4, 2*runtime.NumCPU())
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = 5 * time.Second
	}
	dsn := func(extra string) string {
		q := url.Values{}
		q.Set("_journal_mode", "WAL")
		q.Set("_foreign_keys", "on")
		q.Set("_busy_timeout", fmt.Sprint(busy.Milliseconds()))
		q.Set("_synchronous", sync)
		q.Set("_cache_size", "-16000")
		// database/sql already serialises each connection's use, so
		// SQLite's own per-connection mutex is redundant work.
		q.Set("_mutex", "no")
		q.Set("_stmt_cache_size", "32")
		return "file:" + opts.Path + "?" + q.Encode() + extra
	}
	// A single connection serialises writes in Go rather than in SQLite's
	// busy loop; transactions begun through database/sql (migrations) take
	// the write lock at BEGIN, as Write does.
	writerDSN := dsn("&_txlock=immediate")
	// The writer hands each commit's WAL frames to the kernel in one write
	// (package walbuffer). That is only safe when every commit syncs the
	// WAL before publishing it, that is with FULL or EXTRA; the readers,
	// which never write the WAL, keep SQLite's own VFS.
	if sync != "NORMAL" {
		if err := walbuffer.Register(); err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
		writerDSN += "&vfs=" + walbuffer.Name
	}
	if err := checkWritable(opts.Path, filepath.Dir(opts.Path)); err != nil {
		return nil, err
	}
	if err := createPrivate(opts.Path); err != nil {
		return nil, err
	}
	writer := openWriter(writerDSN)
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, diagnoseOpen(ctx, nil, opts.Path, fmt.Errorf("open database %s: %w", opts.Path, err))
	}
	// Checkpoints run in the background (checkpoint.go), which also keeps
	// the WAL starting over under continuous writes; the writer only
	// checkpoints itself if the WAL grows far beyond that.
	if _, err := writer.ExecContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint=%d", fallbackCheckpointPages)); err != nil {
		err = diagnoseOpen(ctx, writer, opts.Path, fmt.Errorf("open database %s: %w", opts.Path, err))
		writer.Close()
		return nil, err
	}
	if !opts.SkipMigrations {
		if err := migrate(ctx, writer); err != nil {
			err = diagnoseOpen(ctx, writer, opts.Path, err)
			writer.Close()
			return nil, err
		}
		if err := recountAtOpen(ctx, writer); err != nil {
			err = diagnoseOpen(ctx, writer, opts.Path, fmt.Errorf("open database %s: %w", opts.Path, err))
			writer.Close()
			return nil, err
		}
	}
	reader := openReaders(dsn("&_query_only=true"))
	var err error
	reader.SetMaxOpenConns(readers)
	reader.SetMaxIdleConns(readers)
	reader.SetConnMaxIdleTime(0)
	reader.SetConnMaxLifetime(0)
	d := &Store{writer: writer, reader: reader, plainDSN: dsn(""),
		health: db.NewHealthMonitor(opts.HealthInterval, Classify), dir: filepath.Dir(opts.Path),
		group: newGroupCommit(opts.MaxBatch, opts.MaxBatchTime)}
	if d.dbFile, err = os.Open(opts.Path); err != nil {
		reader.Close()
		writer.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	if d.ckpt, err = startCheckpointer(dsn(""), &d.commits, d.betweenBatches, d.dbFile.Sync); err != nil {
		reader.Close()
		writer.Close()
		d.dbFile.Close()
		return nil, err
	}
	if interval := opts.FTSMergeInterval; interval >= 0 && !opts.SkipMigrations {
		if interval == 0 {
			interval = ftsMergeInterval
		}
		d.merger = startBackground(&d.commits, interval, d.mergeFTS)
	}
	if interval := opts.AuditIndexInterval; interval >= 0 && !opts.SkipMigrations {
		if interval == 0 {
			interval = auditIndexInterval
		}
		d.indexer = startBackground(&d.commits, interval, d.indexAuditSteps)
	}
	return d, nil
}

// diagnoseOpen names corruption behind err, a failure to open the database
// at path. A damaged page often surfaces as an unrelated error — goose
// reads a damaged version table as missing, then fails to create it:
// "table goose_db_version already exists" — so on failure, and only then,
// SQLite checks the file (conn may be nil when it could not even connect).
func diagnoseOpen(ctx context.Context, conn *sql.DB, path string, err error) error {
	corrupt := Classify(err) == db.CauseCorrupt
	if !corrupt && conn != nil {
		var res string
		qerr := conn.QueryRowContext(ctx, "PRAGMA quick_check(1)").Scan(&res)
		corrupt = (qerr == nil && res != "ok") || Classify(qerr) == db.CauseCorrupt
	}
	if corrupt {
		return fmt.Errorf("database %s is corrupt: restore it from a backup (anavara restore): %w", path, err)
	}
	return err
}

// createPrivate creates the database file at path, empty and readable by
// its owner only, unless it exists. SQLite would create it 0644 (less the
// umask), and it gives the -wal and -shm files it creates the main file's
// permissions, so this one mode keeps all three private: they hold medical
// records.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	return nil
}

// Close closes every connection, checkpointing the WAL into the main file.
func (d *Store) Close() error {
	d.health.Close()
	if d.merger != nil {
		d.merger.close()
	}
	if d.indexer != nil {
		d.indexer.close()
	}
	rerr := d.ckpt.close()
	if err := d.reader.Close(); err != nil && rerr == nil {
		rerr = err
	}
	if _, err := d.writer.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil && rerr == nil {
		rerr = fmt.Errorf("checkpoint: %w", err)
	}
	if err := d.writer.Close(); err != nil {
		rerr = fmt.Errorf("close database: %w", err)
	}
	// Last: closing any descriptor of the file drops every POSIX lock this
	// process holds on it, SQLite's included.
	if err := d.dbFile.Close(); err != nil && rerr == nil {
		rerr = fmt.Errorf("close database: %w", err)
	}
	return rerr
}

// Ping checks that the database answers a query.
func (d *Store) Ping(ctx context.Context) error {
	var one int
	if err := d.reader.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

var _ db.Store = (*Store)(nil)

// Engine is "sqlite".
func (d *Store) Engine() string { return "sqlite" }

// Pools reports the writer's and the readers' connection pools.
func (d *Store) Pools() []db.PoolStats {
	pool := func(name string, s sql.DBStats) db.PoolStats {
		return db.PoolStats{Name: name, Open: s.OpenConnections, InUse: s.InUse, Idle: s.Idle,
			MaxOpen: s.MaxOpenConnections, WaitCount: s.WaitCount, WaitDuration: s.WaitDuration}
	}
	return []db.PoolStats{pool("writer", d.writer.Stats()), pool("reader", d.reader.Stats())}
}

// Read returns queries that run on the reader pool.
func (d *Store) Read() db.Reader { return &queries{q: d.reader} }

// Write runs fn inside one write transaction, committing when fn returns
// nil and rolling back otherwise. SQLite has one writer at a time, so a
// Tx's reads need no row locks: nothing else writes until it ends.
func (d *Store) Write(ctx context.Context, fn func(db.Tx) error) error {
	return d.write(ctx, func(q *queries) error { return fn(q) })
}

// AppendAudits appends es in a write transaction of their own, which
// group commit gathers with the writes around it: in-process, a Write is
// already as cheap as SQLite allows.
func (d *Store) AppendAudits(ctx context.Context, es []model.AuditEvent) error {
	return d.write(ctx, func(q *queries) error { return q.InsertAudits(ctx, es) })
}

// write runs fn inside one write transaction, committing when fn returns
// nil and rolling back otherwise. Everything fn does lands together or not
// at all. Transactions that arrive while another holds the writer share
// its successor's commit (group_commit.go).
func (d *Store) write(ctx context.Context, fn func(q *queries) error) (err error) {
	// What writes run into is what Health reports.
	defer func() {
		if err == nil {
			d.health.Committed()
		} else {
			d.health.Observe(err)
		}
	}()
	if d.group.maxBatch > 1 {
		return d.groupWrite(ctx, fn)
	}
	conn, err := d.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer conn.Close()
	return d.writeAlone(ctx, conn, fn)
}

// writeAlone runs fn in a transaction of its own on conn, the writer's
// connection, committing when fn returns nil and rolling back otherwise.
//
// The transaction is BEGIN IMMEDIATE and COMMIT run on the writer's
// connection rather than a sql.Tx: database/sql starts a goroutine for
// every sql.Tx to watch its context, which cost a create about a tenth of
// its CPU time in scheduler wake-ups.
func (d *Store) writeAlone(ctx context.Context, conn *sql.Conn, fn func(q *queries) error) (err error) {
	// Taking the write lock at BEGIN means a writer never has to upgrade
	// a read lock, so two processes' writers cannot deadlock.
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	var wroteUsers bool
	// Bumped after the commit or rollback, whatever their outcome, so that a
	// user row read before the change is never taken for current afterwards.
	defer func() {
		if wroteUsers {
			d.usersVersion.Add(1)
		}
	}()
	committed := false
	// Rolls back after fn fails, after a failed COMMIT that left the
	// transaction open, and when fn panics, so the connection never goes
	// back to the pool inside a transaction.
	defer func() {
		if committed {
			return
		}
		if rerr := rollback(conn); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}()
	if err := fn(&queries{q: conn, wroteUsers: &wroteUsers}); err != nil {
		return err
	}
	// Not ctx: a request that goes away must not interrupt its commit.
	if _, err := conn.ExecContext(context.Background(), "COMMIT"); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	committed = true
	d.commits.Add(1)
	return nil
}

// rollback ends conn's open transaction, if SQLite has not already ended it
// (as it does after some failed COMMITs).
func rollback(conn *sql.Conn) error {
	open, err := inTransaction(conn)
	if err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	if !open {
		return nil
	}
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

// inTransaction reports whether conn has a transaction open. SQLite ends
// one by itself after some errors (an interrupted write, a full disk, some
// failed COMMITs), so the answer can change without a ROLLBACK.
func inTransaction(conn *sql.Conn) (bool, error) {
	open := true
	err := conn.Raw(func(c any) error {
		if sc, ok := c.(*sqlite3.SQLiteConn); ok {
			open = !sc.AutoCommit()
		}
		return nil
	})
	return open, err
}

// UsersVersion changes whenever a write transaction of this process that
// wrote the users table ends. A user row read while it held one value is
// current for as long as it still holds that value — unless another
// process changed the row, which Anavara's own commands never do to an
// existing user, so callers that cache rows still bound their age. Rows are
// always cacheable: SQLite has no way to announce another process's
// changes, so there is no listener whose absence would make them less so.
func (d *Store) UsersVersion() (uint64, bool) { return d.usersVersion.Load(), true }

// Commits reports how many write transactions this Store has committed
// since it opened. With group commit one COMMIT, and so one fsync of the WAL
// with synchronous=FULL, covers a batch of Writes: Writes per commit is
// the batch size (BENCHMARKS.md).
func (d *Store) Commits() uint64 { return d.commits.Load() }

// Backup writes a consistent copy of the live database to path, which must
// not exist. It reads one snapshot, so writers carry on while it runs.
func (d *Store) Backup(ctx context.Context, path string) error {
	conn, err := sql.Open("sqlite3", d.plainDSN)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queries runs Anavara's queries on the reader pool (a db.Reader) or in
// the writer's transaction (a db.Tx).
type queries struct {
	q querier
	// wroteUsers, inside a write transaction, is set when a query writes
	// the users table; nil on the reader pool.
	wroteUsers *bool
}

// markUsersWritten records that this transaction writes the users table.
func (q *queries) markUsersWritten() {
	if q.wroteUsers != nil {
		*q.wroteUsers = true
	}
}

// micros converts t to the stored representation: Unix microseconds.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros converts a stored time back to UTC.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// isUniqueViolation reports whether err is a UNIQUE constraint failure.
func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique
}

// notFound turns sql.ErrNoRows into db.ErrNotFound, and wraps anything else.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return db.ErrNotFound
	}
	return fmt.Errorf("%s: %w", what, err)
}
