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

// fallbackCheckpointPages is the WAL size (in 4 KiB pages) at which the
// writer checkpoints by itself, should the background checkpointer fall
// behind: about 40 MiB.
const fallbackCheckpointPages = 10000

// checkpointer copies the WAL into the database file on its own connection,
// off the request path. Left to SQLite, the commit that crosses 1,000 WAL
// pages does the checkpoint while its client waits: about 0.3 ms of every
// create, amortised.
type checkpointer struct {
	conn *sql.DB
	// commits counts the writer's commits; a tick with none since the last
	// checkpoint has nothing to copy and does nothing.
	commits  *atomic.Uint64
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

func startCheckpointer(dsn string, commits *atomic.Uint64) (*checkpointer, error) {
	conn, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open checkpointer: %w", err)
	}
	conn.SetMaxOpenConns(1)
	c := &checkpointer{conn: conn, commits: commits, stop: make(chan struct{}), done: make(chan struct{})}
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
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			// PASSIVE never waits for readers or writers; what it cannot
			// copy now, the next tick copies.
			_, _ = c.conn.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
			cancel()
		}
	}
}

// close stops the checkpointer and closes its connection; closing twice is
// harmless, like closing a *sql.DB twice.
func (c *checkpointer) close() error {
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.done
	return c.conn.Close()
}
