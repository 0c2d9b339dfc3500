package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// checkpointInterval is how often the background checkpointer copies the
// write-ahead log into the database file.
const checkpointInterval = 250 * time.Millisecond

// restartCheckpointPages is the WAL size (in 4 KiB pages, about 16 MiB) at
// which the checkpointer, its pass done, takes the writer between two
// batches for a second pass, so that the WAL starts over from its beginning.
//
// SQLite starts the WAL over only when a write transaction begins after a
// checkpoint has copied every frame; a pass that runs while writes go on
// never has, because commits land during it. Under continuous writes the
// WAL therefore grew until the writer's own checkpoint (below) fired inside
// a commit, holding up the whole batch and every request queued behind it
// (BENCHMARKS.md, issue 14 point 4). The second pass only copies what
// committed during the first, once per 16 MiB of WAL; the batch before it
// is answered first, and only the requests that queue meanwhile wait for it.
const restartCheckpointPages = 4096

// fallbackCheckpointPages is the WAL size (in 4 KiB pages) at which the
// writer checkpoints by itself, inside a commit, should the background
// checkpointer not keep the WAL under restartCheckpointPages: about 64 MiB,
// beyond what one checkpointer tick lets the WAL grow past
// restartCheckpointPages at the fastest rate measured.
const fallbackCheckpointPages = 16384

// checkpointer copies the WAL into the database file on its own connection,
// off the request path. Left to SQLite, the commit that crosses 1,000 WAL
// pages does the checkpoint while its client waits: about 0.3 ms of every
// create, amortised.
type checkpointer struct {
	conn *sql.DB
	// commits counts the writer's commits; a tick with none since the last
	// checkpoint has nothing to copy and does nothing.
	commits *atomic.Uint64
	// between runs a function while the writer is held between batches
	// (Store.betweenBatches).
	between func(ctx context.Context, fn func() error) error
	// syncDatabase flushes the database file's written pages to disk
	// (Store.dbFile).
	syncDatabase func() error
	stop         chan struct{}
	done         chan struct{}
	stopOnce     sync.Once
}

func startCheckpointer(dsn string, commits *atomic.Uint64, between func(context.Context, func() error) error, syncDatabase func() error) (*checkpointer, error) {
	conn, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open checkpointer: %w", err)
	}
	conn.SetMaxOpenConns(1)
	c := &checkpointer{conn: conn, commits: commits, between: between, syncDatabase: syncDatabase, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer close(c.done)
	tick := time.NewTicker(checkpointInterval)
	defer tick.Stop()
	var copied uint64
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
			n := c.commits.Load()
			if n == copied {
				continue
			}
			copied = n
			c.pass()
		}
	}
}

// pass runs one PASSIVE checkpoint and syncs the database file, and when
// the WAL has grown past restartCheckpointPages a second checkpoint
// between batches. Errors are left to the next tick: a checkpoint that
// fails copies nothing, and the writer's fallback bounds the WAL
// meanwhile.
//
// SQLite syncs the database file after a checkpoint only when it has
// copied the whole WAL, which under continuous writes only the pass
// between batches does; that one sync then flushed every page the passes
// before it had copied, up to 16 MiB, while every write waited: 7–11 ms a
// time (BENCHMARKS.md, "Issue 14, session 10"). The sync after each
// PASSIVE pass flushes them while writes go on, and leaves the pass
// between batches a few pages. Durability does not rest on it: SQLite
// still syncs the file before the WAL can start over.
func (c *checkpointer) pass() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// PASSIVE never waits for readers or writers; what it cannot copy now,
	// the next tick copies.
	frames, copied, err := c.checkpoint(ctx)
	if err != nil {
		return
	}
	if copied > 0 {
		if err := c.syncDatabase(); err != nil {
			return
		}
	}
	if frames < restartCheckpointPages {
		return
	}
	// Between batches no commit can land during the pass, so when it has
	// copied everything the next batch starts the WAL over (unless a
	// reader still reads an old snapshot from it: then a later pass does).
	_ = c.between(ctx, func() error {
		_, _, err := c.checkpoint(ctx)
		return err
	})
}

// checkpoint runs a PASSIVE checkpoint and returns the WAL's size in
// frames and how many of them are now in the database file.
func (c *checkpointer) checkpoint(ctx context.Context) (frames, copied int, err error) {
	var busy int
	if err := c.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		return 0, 0, fmt.Errorf("checkpoint: %w", err)
	}
	return frames, copied, nil
}

// close stops the checkpointer and closes its connection; closing twice is
// harmless, like closing a *sql.DB twice.
func (c *checkpointer) close() error {
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.done
	return c.conn.Close()
}
