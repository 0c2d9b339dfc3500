package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anavara/anavara/db"
)

// A function run between batches waits for the open batch to commit, ends
// the batch that would have taken in the writes queued behind it, and holds
// the writer until it returns: those writes commit after it, and none
// during it.
func TestBetweenBatchesRunsBetweenTwoBatches(t *testing.T) {
	d, userID := groupStore(t, Options{})
	ctx := context.Background()
	release, leaderID, leader := blockedLeader(t, d, userID)
	before := groupRecord(userID)
	first := queue(d, ctx, func(q *queries) error { return q.CreateRecord(ctx, before) })
	n := d.group.queued()
	type seen struct {
		commits          uint64
		leader, first, b bool
	}
	during := make(chan seen, 1)
	between := make(chan error, 1)
	after := groupRecord(userID)
	go func() {
		between <- d.betweenBatches(ctx, func() error {
			s := seen{commits: d.Commits(), leader: exists(t, d, leaderID), first: exists(t, d, before.ID), b: exists(t, d, after.ID)}
			// Nothing commits while it holds the writer.
			if d.Commits() != s.commits || exists(t, d, after.ID) {
				return errors.New("a write committed between batches")
			}
			during <- s
			return nil
		})
	}()
	waitQueued(d, n+1)
	second := queue(d, ctx, func(q *queries) error { return q.CreateRecord(ctx, after) })
	start := d.Commits()
	close(release)
	for _, c := range []chan error{leader, first, between, second} {
		if err := <-c; err != nil {
			t.Fatal(err)
		}
	}
	s := <-during
	if !s.leader || !s.first || s.b {
		t.Fatalf("between batches saw leader %v, first %v, second %v; want the first batch's two writes and not the second", s.leader, s.first, s.b)
	}
	if s.commits != start+1 {
		t.Fatalf("between batches after %d commits, want 1: the batch before it", s.commits-start)
	}
	if !exists(t, d, after.ID) {
		t.Fatal("the write queued behind it did not commit")
	}
	if got := d.Commits(); got != start+2 {
		t.Fatalf("%d commits, want 2: the batch before and the one after", got-start)
	}
}

// With group commit off the function holds the writer's connection, so
// writes wait for it all the same.
func TestBetweenBatchesWithGroupCommitOff(t *testing.T) {
	d, userID := groupStore(t, Options{MaxBatch: 1})
	ctx := context.Background()
	r := groupRecord(userID)
	err := d.betweenBatches(ctx, func() error {
		wctx, cancel := context.WithCancel(ctx)
		cancel()
		// The writer is held: a write cannot even begin.
		if err := d.Write(wctx, func(q db.Tx) error { return nil }); !errors.Is(err, context.Canceled) {
			return errors.New("a write began while the writer was held")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.write(ctx, func(q *queries) error { return q.CreateRecord(ctx, r) }); err != nil {
		t.Fatal(err)
	}
}

// walFrames reads how many frames the WAL holds, from a connection of its
// own; the PASSIVE checkpoint that reports them changes nothing a test
// looks at.
func walFrames(t *testing.T, conn *sql.DB) int {
	t.Helper()
	var busy, frames, copied int
	if err := conn.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		t.Fatal(err)
	}
	return frames
}

// writeContinuously creates records in d from four goroutines until the
// test ends, and returns a channel that takes their first error.
func writeContinuously(t *testing.T, d *Store, userID string) <-chan error {
	t.Helper()
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				r := groupRecord(userID)
				if err := d.write(ctx, func(q *queries) error { return q.CreateRecord(ctx, r) }); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
	})
	return errs
}

// fillWAL starts writeContinuously and waits until the WAL holds
// restartCheckpointPages frames; it returns a connection of its own, to
// read the WAL's size with, and the writers' errors.
func fillWAL(t *testing.T, d *Store, userID string) (probe *sql.DB, errs <-chan error) {
	t.Helper()
	probe, err := sql.Open("sqlite3", d.plainDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { probe.Close() })
	errs = writeContinuously(t, d, userID)
	for walFrames(t, probe) < restartCheckpointPages {
		if len(errs) > 0 {
			t.Fatal(<-errs)
		}
	}
	return probe, errs
}

// Under continuous writes the checkpointer's pass starts the WAL over:
// the commits after it write from the WAL's beginning, not past its end,
// so the writer's own checkpoint never fires inside a commit.
func TestCheckpointerStartsTheWALOverUnderWrites(t *testing.T) {
	d, userID := groupStore(t, Options{})
	probe, errs := fillWAL(t, d, userID)
	d.ckpt.pass()
	// A few more batches, all after the pass.
	for c := d.Commits(); d.Commits() < c+5; {
		if len(errs) > 0 {
			t.Fatal(<-errs)
		}
	}
	if frames := walFrames(t, probe); frames >= restartCheckpointPages/2 {
		t.Fatalf("the WAL holds %d frames after the pass: it did not start over", frames)
	}
}

// Under continuous writes a pass syncs the database file after copying
// frames into it, and does so while writes go on, not while it holds the
// writer: a write made from inside the sync commits.
func TestCheckpointerSyncsTheDatabaseWhileWritesGoOn(t *testing.T) {
	d, userID := groupStore(t, Options{})
	if err := d.ckpt.close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var syncs int
	var writeErr error
	sync := func() error {
		syncs++
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		r := groupRecord(userID)
		if err := d.write(wctx, func(q *queries) error { return q.CreateRecord(wctx, r) }); err != nil && writeErr == nil {
			writeErr = err
		}
		return d.dbFile.Sync()
	}
	// The test calls pass itself: this checkpointer's commit counter stays
	// at zero, so its own ticks never find anything to copy.
	ckpt, err := startCheckpointer(d.plainDSN, new(atomic.Uint64), d.betweenBatches, sync)
	if err != nil {
		t.Fatal(err)
	}
	d.ckpt = ckpt
	fillWAL(t, d, userID)
	d.ckpt.pass()
	if syncs == 0 {
		t.Fatal("the pass copied frames and did not sync the database file")
	}
	if writeErr != nil {
		t.Fatalf("a write during the sync: %v (the pass held the writer)", writeErr)
	}
}

// Close closes the database file's descriptor the store held for its
// checkpointer, after every connection.
func TestCloseClosesTheDatabaseFile(t *testing.T) {
	d, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "close.db")})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.dbFile.Sync(); err != nil {
		t.Fatalf("sync while open: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.dbFile.Sync(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("sync after Close: %v, want %v", err, os.ErrClosed)
	}
}
