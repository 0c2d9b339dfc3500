// Package postgres is Anavara's PostgreSQL storage engine: one pgx
// connection pool, the schema migrated by goose under a session lock, and
// one file of queries per aggregate. It answers as the SQLite engine
// (db/sqlite) does, query for query; db/dbtest holds both to that.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// Options configure Open.
type Options struct {
	// URL is a pgx connection string: postgres://user:password@host:port/
	// database, with libpq's parameters (sslmode, connect_timeout, …) and
	// pgxpool's (pool_max_conns, pool_min_conns, …) in the query.
	URL string
	// SkipMigrations opens the database as it is, applying no pending
	// migration: for tools that must not change a database that a running
	// server, perhaps of another version, owns.
	SkipMigrations bool
	// HealthInterval is how long Health reuses one check's answer;
	// default 1 s.
	HealthInterval time.Duration
	// ListenerPing is how long the listener's connection may be quiet
	// before it is pinged, to find a connection that died without a word;
	// default 10 s.
	ListenerPing time.Duration
	// ListenerProbeWait is how long the listener waits, on each new
	// connection, for a probe announced from another connection to come
	// back before it trusts the connection (behind a pooler in
	// transaction mode none does, and user rows are then never cached);
	// default 5 s.
	ListenerProbeWait time.Duration
	// Logger receives the listener's warnings (at most one line of each
	// every listenerWarnEvery); nil discards them.
	Logger *slog.Logger
	// UsersAnnounceWait bounds how long a write that changed a user waits
	// for every listener on the database to acknowledge its announcement
	// (announce.go); default DefaultUsersAnnounceWait. Shorter than the
	// user cache's TTL, a write may answer while another server still
	// serves the user as they were.
	UsersAnnounceWait time.Duration
}

// Store is an opened PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	// users counts this process's write transactions that wrote the users
	// table and the changes to users other processes announced, and knows
	// whether the listener hears those (see UsersVersion).
	users usersVersion
	// listener hears the changes to users that other processes announce
	// (listener.go); nil until Open has migrated the database.
	listener *listener
	// health remembers what queries ran into and caches Health.
	health *db.HealthMonitor
	// limits are the rate limits shared by every process on the database
	// (limits.go).
	limits *rateLimits
	// announcer counts the listeners' acknowledgements of this store's
	// announcements of changed users (announce.go).
	announcer *announcer
}

var (
	_ db.Store         = (*Store)(nil)
	_ db.UsersListener = (*Store)(nil)
)

// Open connects to the database at opts.URL and, unless
// opts.SkipMigrations is set, applies pending migrations (several processes
// opening one database at once apply them once) and corrects drifted
// counters and search words (fillSearchWords). No error it returns contains the URL's password.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.URL == "" {
		return nil, errors.New("open postgres: empty database URL")
	}
	cfg, err := pgxpool.ParseConfig(opts.URL)
	if err != nil {
		// pgx's parse errors may quote the connection string, password
		// and all, and these errors end up in logs: say only what is wrong.
		return nil, errors.New("open postgres: the database URL is not a valid connection string " +
			"(want postgres://user:password@host:port/database?sslmode=…)")
	}
	password := cfg.ConnConfig.Password
	s, err := open(ctx, cfg, opts)
	if err != nil {
		return nil, scrub(err, password)
	}
	return s, nil
}

func open(ctx context.Context, cfg *pgxpool.Config, opts Options) (*Store, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	s := &Store{pool: pool, health: db.NewHealthMonitor(opts.HealthInterval, Classify), limits: newRateLimits(pool),
		announcer: newAnnouncer(opts.UsersAnnounceWait)}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if !opts.SkipMigrations {
		if err := migrate(ctx, pool); err != nil {
			pool.Close()
			return nil, err
		}
		if err := s.recountAtOpen(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		if err := s.fillSearchWords(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("open postgres: %w", err)
		}
	}
	// Last, so that no failure above has a listener to stop.
	s.listener = startListener(ctx, cfg.ConnConfig, &s.users, s.announcer, opts.ListenerPing, opts.ListenerProbeWait, opts.Logger)
	return s, nil
}

// Engine names the engine: "postgres".
func (s *Store) Engine() string { return "postgres" }

// Close stops the listener, waiting for it to close its connection, and
// closes every connection of the pool, waiting for those in use to be
// released. User rows are not cacheable from then on.
func (s *Store) Close() error {
	s.listener.stop()
	s.health.Close()
	s.pool.Close()
	return nil
}

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Pools reports the one connection pool, named "pool".
func (s *Store) Pools() []db.PoolStats {
	st := s.pool.Stat()
	return []db.PoolStats{{
		Name:         "pool",
		Open:         int(st.TotalConns()),
		InUse:        int(st.AcquiredConns()),
		Idle:         int(st.IdleConns()),
		MaxOpen:      int(st.MaxConns()),
		WaitCount:    st.EmptyAcquireCount(),
		WaitDuration: st.EmptyAcquireWaitTime(),
	}}
}

// UsersVersion changes whenever a write transaction of this process that
// wrote the users table ends, and whenever the listener hears another
// process's change to a user announced (on PostgreSQL several servers may
// share one database), soon after that change commits. Rows are cacheable
// only while the listener is listening. Changes made without the
// announcement (an operator's SQL) do not move it, so callers that cache
// user rows still bound their age.
func (s *Store) UsersVersion() (uint64, bool) { return s.users.load() }

// UsersListener reports the state of the listener (db.UsersListener).
func (s *Store) UsersListener() db.UsersListenerStats { return s.listener.stats() }

// Read returns queries that run on the pool, each statement on a snapshot
// of its own.
func (s *Store) Read() db.Reader { return &reader{q: s.pool} }

// Write attempts, and the backoff between them: a serialization failure
// or a deadlock aborts a transaction through no fault of its own, and
// running it again usually succeeds.
const (
	writeAttempts = 5
	retryBackoff  = 5 * time.Millisecond
)

// commitTimeout bounds a COMMIT, which runs without the caller's context.
const commitTimeout = time.Minute

// Write runs fn inside one READ COMMITTED transaction, committing when fn
// returns nil and rolling back otherwise: everything fn does lands together
// or not at all. The Tx's single-row reads lock the rows they return
// (SELECT … FOR UPDATE), so a check fn makes on them holds until it
// writes, even against other processes. A transaction that fails with a
// serialization failure or a deadlock is run again, fn and all, up to five
// times in all.
func (s *Store) Write(ctx context.Context, fn func(db.Tx) error) (err error) {
	// What writes run into is what Health reports.
	defer func() {
		if err == nil {
			s.health.Committed()
		} else {
			s.health.Observe(err)
		}
	}()
	return s.retrying(ctx, func() error { return s.writeOnce(ctx, fn) })
}

// AppendAudits appends es as a transaction of one round trip: the chain's
// lock, each event's INSERT and the counters' upsert are pipelined up to a
// single Sync (writeAudits, on a pooled connection outside any BEGIN), and
// PostgreSQL runs the statements before a Sync as one implicit
// transaction, committed at the Sync before it answers, or rolled back
// whole when a statement fails. The lock, taken by the first statement,
// is held to that commit, as in Write.
func (s *Store) AppendAudits(ctx context.Context, es []model.AuditEvent) (err error) {
	if len(es) == 0 {
		return nil
	}
	defer func() {
		if err == nil {
			s.health.Committed()
		} else {
			s.health.Observe(err)
		}
	}()
	return s.retrying(ctx, func() error {
		t := &tx{}
		t.reader = reader{q: s.pool, tx: t}
		if err := t.InsertAudits(ctx, es); err != nil {
			return err
		}
		// The round trip is the commit: as in writeOnce, not ctx.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
		defer cancel()
		return t.writeAudits(cctx)
	})
}

// retrying runs attempt until it succeeds, fails for a reason that running
// it again would not cure, or has run writeAttempts times.
func (s *Store) retrying(ctx context.Context, attempt func() error) error {
	for n := 1; ; n++ {
		err := attempt()
		if err == nil || n == writeAttempts || !retryable(err) {
			return err
		}
		// Jittered, so that the transactions that collided do not collide
		// again.
		d := retryBackoff << (n - 1)
		d = d/2 + rand.N(d)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(d):
		}
	}
}

func (s *Store) writeOnce(ctx context.Context, fn func(db.Tx) error) (err error) {
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	t := &tx{announcer: s.announcer}
	t.reader = reader{q: ptx, forUpdate: " FOR UPDATE", tx: t}
	// The one place an announcement is forgotten: one this attempt did not
	// commit is owed no acknowledgement, and one it committed has been
	// waited for by then.
	defer func() {
		if t.announced != 0 {
			s.announcer.forget(t.announced)
		}
	}()
	// Bumped after the commit or rollback, whatever their outcome, so that
	// a user row read before the change is never taken for current
	// afterwards.
	defer func() {
		if t.wroteUsers {
			s.users.bump()
		}
	}()
	committed := false
	// Rolls back after fn fails, after a failed COMMIT, and when fn
	// panics, so the connection never goes back to the pool inside a
	// transaction. pgx closes a connection whose query was cancelled;
	// rolling back on it fails for that reason alone, which is no news.
	defer func() {
		if committed {
			return
		}
		// Asked before the rollback, which hands the connection back to
		// the pool, after which it is someone else's.
		broken := ptx.Conn().IsClosed()
		rerr := ptx.Rollback(context.WithoutCancel(ctx))
		if rerr != nil && !broken && !errors.Is(rerr, pgx.ErrTxClosed) {
			err = errors.Join(err, fmt.Errorf("rollback: %w", rerr))
		}
	}()
	if err := fn(t); err != nil {
		return err
	}
	if len(t.notified) > 0 {
		var listeners int
		if err := ptx.QueryRow(ctx, listenersNow, ListenerApplicationName).Scan(&listeners); err != nil {
			return fmt.Errorf("count listeners: %w", err)
		}
		s.announcer.expect(t.announced, listeners*len(t.notified))
	}
	// Not ctx from here on: a request that goes away after fn returned
	// must not interrupt its commit, which would leave the client not
	// knowing whether its change landed. Bounded all the same, so that a
	// server that stopped answering does not hold the caller for ever.
	// The queued audit events and the pending counter moves are part of
	// the commit.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	if err := t.writeAudits(cctx); err != nil {
		return err
	}
	if err := t.writeCounts(cctx); err != nil {
		return err
	}
	if err := ptx.Commit(cctx); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	committed = true
	if len(t.notified) > 0 {
		// Not answering before every server has heard (announce.go).
		s.announcer.await(t.announced)
	}
	return nil
}

// retryable reports whether err aborted a transaction that may succeed if
// run again: serialization_failure (40001) or deadlock_detected (40P01).
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}
