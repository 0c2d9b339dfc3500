package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit. With synchronous=FULL every COMMIT costs an fsync of the
// WAL, the largest part of a create (BENCHMARKS.md). Write transactions that
// arrive while the writer is busy therefore queue, and the next batch runs
// them all in one SQLite transaction under one COMMIT:
//
//   - The request that finds the writer idle leads a batch at once (no
//     timer, no wait): BEGIN IMMEDIATE, then its own fn, then each queued
//     request in arrival order, each in a SAVEPOINT, then COMMIT.
//   - Every fn runs on its caller's goroutine: the leader hands its turn
//     over and waits for it to end, so a panic or runtime.Goexit in fn
//     unwinds the goroutine it belongs to, after rolling back that request's
//     savepoint, and never the leader.
//   - A request whose fn fails has its savepoint rolled back and gets its
//     own error at once; the others go on. One whose fn succeeds is answered
//     only after the COMMIT that holds its work.
//   - Requests run one after another on one connection, so each sees every
//     earlier request's writes, as when they ran serially in that order.
//   - When the batch's transaction fails as a whole (COMMIT fails, or SQLite
//     rolls the whole transaction back after an interrupted or failed
//     statement), the requests it held run again, each in a transaction of
//     its own, as db.Store.Write allows: one request's deferred constraint
//     or cancelled statement must not fail the others.
//   - A batch takes at most maxBatch requests, and takes no more once it has
//     been open maxBatchTime, so its first request is answered in bounded
//     time; what is left queued leads the next batch.
//   - A request whose context ends while it is queued is taken out: its fn
//     never runs and it gets the context's error.

// Defaults of Options.MaxBatch and Options.MaxBatchTime.
const (
	defaultMaxBatch     = 64
	defaultMaxBatchTime = 10 * time.Millisecond
)

// groupCommit is the queue of write transactions waiting for the writer.
type groupCommit struct {
	maxBatch     int
	maxBatchTime time.Duration

	mu sync.Mutex
	// busy is set while a leader holds the writer; a request that finds it
	// set queues rather than leading.
	busy  bool
	queue []*writeRequest
}

func newGroupCommit(maxBatch int, maxBatchTime time.Duration) groupCommit {
	if maxBatch <= 0 {
		maxBatch = defaultMaxBatch
	}
	if maxBatchTime <= 0 {
		maxBatchTime = defaultMaxBatchTime
	}
	return groupCommit{maxBatch: maxBatch, maxBatchTime: maxBatchTime}
}

// States of a writeRequest. A queued request moves to running when a
// leader takes it, or to cancelled when its context ends first; whichever
// compare-and-swap wins decides, so a cancelled fn never runs and a taken
// request always answers its leader.
const (
	requestQueued int32 = iota
	requestRunning
	requestCancelled
)

// writeRequest is one call of Write waiting in, or running in, a batch.
type writeRequest struct {
	ctx context.Context
	fn  func(q *queries) error
	// between, when set instead of fn, is run with the writer held between
	// two batches, outside any transaction (Store.betweenBatches): such a
	// request never joins a batch, it waits to lead.
	between func() error
	state   atomic.Int32
	// wake carries the leader's instructions to the request's goroutine;
	// one at a time, so a buffer of one never blocks the leader.
	wake chan instruction
}

// instructionKind is what a leader asks of a queued request.
type instructionKind int

const (
	// lead: the writer is yours; lead the next batch.
	lead instructionKind = iota
	// join: run fn in a savepoint of the open transaction.
	join
	// alone: run fn in a transaction of its own (the batch failed).
	alone
	// committed: the batch holding your work has committed.
	committed
)

type instruction struct {
	kind instructionKind
	// conn is the writer's connection: for lead (nil when the previous
	// leader could not get it), join and alone.
	conn *sql.Conn
	// done takes the outcome of a join or alone turn.
	done chan<- turnOutcome
}

// turnOutcome is what a request's turn left in the batch's transaction.
type turnOutcome struct {
	// released: fn succeeded and its savepoint is part of the transaction.
	released bool
	// wroteUsers: the released work wrote the users table.
	wroteUsers bool
	// broken: the transaction is gone (SQLite rolled it back) or in an
	// unknown state, so nothing released before may be committed.
	broken bool
}

// groupWrite runs fn as one request of a batch.
func (d *Store) groupWrite(ctx context.Context, fn func(q *queries) error) error {
	return d.enqueue(&writeRequest{ctx: ctx, fn: fn, wake: make(chan instruction, 1)})
}

// betweenBatches runs fn while it holds the writer, between two write
// transactions: no batch is open while fn runs and none begins until it
// returns. It waits its turn in the queue like a write, so a writer that is
// never idle still gives it one. The checkpointer runs its catch-up
// checkpoint here (checkpoint.go).
func (d *Store) betweenBatches(ctx context.Context, fn func() error) error {
	if d.group.maxBatch <= 1 {
		conn, err := d.writer.Conn(ctx)
		if err != nil {
			return fmt.Errorf("take the writer: %w", err)
		}
		defer conn.Close()
		return fn()
	}
	return d.enqueue(&writeRequest{ctx: ctx, between: fn, wake: make(chan instruction, 1)})
}

// enqueue runs r at once when the writer is idle, else queues it until a
// leader hands it its turn.
func (d *Store) enqueue(r *writeRequest) error {
	ctx := r.ctx
	g := &d.group
	g.mu.Lock()
	if !g.busy {
		g.busy = true
		g.mu.Unlock()
		r.state.Store(requestRunning)
		return d.lead(nil, r)
	}
	g.queue = append(g.queue, r)
	g.mu.Unlock()
	select {
	case in := <-r.wake:
		return d.follow(r, in)
	case <-ctx.Done():
		if r.state.CompareAndSwap(requestQueued, requestCancelled) {
			return fmt.Errorf("begin transaction: %w", ctx.Err())
		}
		// A leader took it first and is handing it its turn.
		return d.follow(r, <-r.wake)
	}
}

// follow carries out a queued request's instructions until it is answered.
func (d *Store) follow(r *writeRequest, in instruction) error {
	for {
		switch in.kind {
		case lead:
			return d.lead(in.conn, r)
		case join:
			if err := d.join(r, in); err != nil {
				return err
			}
		case alone:
			defer func() { in.done <- turnOutcome{} }()
			return d.writeAlone(r.ctx, in.conn, r.fn)
		case committed:
			return nil
		}
		in = <-r.wake
	}
}

// lead runs a batch: own's fn first, in the transaction it begins, then
// each queued request's in a savepoint, then the COMMIT. conn is the
// writer's connection, or nil to take it from the pool. Whatever happens,
// even a panic in own's fn, the writer passes on to the next queued
// request or goes back to the pool.
func (d *Store) lead(conn *sql.Conn, own *writeRequest) (err error) {
	ctx := own.ctx
	if conn == nil {
		if conn, err = d.writer.Conn(ctx); err != nil {
			d.handOff(nil)
			return fmt.Errorf("begin transaction: %w", err)
		}
	}
	defer func() { d.handOff(conn) }()
	if own.between != nil {
		return own.between()
	}
	start := time.Now()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	// own's fn runs first, so when it fails or panics the transaction
	// holds nothing of anyone else's: roll it all back, as writeAlone does.
	var ownUsers, ownOK bool
	func() {
		defer func() {
			if ownOK {
				return
			}
			if rerr := rollback(conn); rerr != nil {
				err = errors.Join(err, rerr)
			}
			if ownUsers {
				d.usersVersion.Add(1)
			}
		}()
		err = own.fn(&queries{q: conn, wroteUsers: &ownUsers})
		ownOK = err == nil
	}()
	if err != nil {
		return err
	}
	followers, wroteUsers, broken := d.gather(conn, start)
	wroteUsers = wroteUsers || ownUsers
	if !broken {
		// Not ctx: a request that goes away must not interrupt the commit
		// of its own work, nor of anyone else's.
		_, cerr := conn.ExecContext(context.Background(), "COMMIT")
		if cerr == nil {
			d.commits.Add(1)
			if wroteUsers {
				d.usersVersion.Add(1)
			}
			for _, f := range followers {
				f.wake <- instruction{kind: committed}
			}
			return nil
		}
		if len(followers) == 0 {
			err = fmt.Errorf("commit transaction: %w", cerr)
			if rerr := rollback(conn); rerr != nil {
				err = errors.Join(err, rerr)
			}
			if wroteUsers {
				d.usersVersion.Add(1)
			}
			return err
		}
	}
	// The batch failed as a whole: nothing of it landed. Each request
	// whose work it held runs again alone, the followers first, so that a
	// panic of own's second run leaves no follower waiting.
	rerr := rollback(conn)
	if wroteUsers {
		d.usersVersion.Add(1)
	}
	done := make(chan turnOutcome, 1)
	for _, f := range followers {
		f.wake <- instruction{kind: alone, conn: conn, done: done}
		<-done
	}
	if rerr != nil {
		// The connection is stuck in a transaction it cannot end; no
		// second run could begin one.
		return fmt.Errorf("write transaction: %w", rerr)
	}
	return d.writeAlone(ctx, conn, own.fn)
}

// gather runs queued requests in savepoints of conn's open transaction,
// in arrival order, until none is queued or the batch reaches its bounds.
// It returns the requests whose work the transaction now holds, whether
// any of that wrote the users table, and whether the transaction broke.
func (d *Store) gather(conn *sql.Conn, start time.Time) (followers []*writeRequest, wroteUsers, broken bool) {
	done := make(chan turnOutcome, 1)
	for n := 1; n < d.group.maxBatch && time.Since(start) < d.group.maxBatchTime; n++ {
		r := d.group.nextJoining()
		if r == nil {
			break
		}
		r.wake <- instruction{kind: join, conn: conn, done: done}
		o := <-done
		if o.broken {
			return followers, wroteUsers, true
		}
		if o.released {
			followers = append(followers, r)
			wroteUsers = wroteUsers || o.wroteUsers
		}
	}
	return followers, wroteUsers, false
}

// join runs r's fn in a savepoint of the batch's transaction on in.conn
// and tells the leader what it left there. It returns fn's error, which
// answers r at once: its savepoint is rolled back, so no commit holds any
// of its work. It returns nil when the savepoint is released, and r then
// waits for the commit.
func (d *Store) join(r *writeRequest, in instruction) (err error) {
	conn := in.conn
	var o turnOutcome
	// Deferred first so that it runs last, after the rollback below, even
	// when fn panics: the leader waits for it.
	defer func() { in.done <- o }()
	if _, err := conn.ExecContext(context.Background(), "SAVEPOINT request"); err != nil {
		o.broken = true
		return fmt.Errorf("begin transaction: %w", err)
	}
	var wroteUsers, ok bool
	defer func() {
		if ok {
			return
		}
		if rerr := rollbackSavepoint(conn); rerr != nil {
			o.broken = true
		}
		if wroteUsers {
			d.usersVersion.Add(1)
		}
	}()
	if err := r.fn(&queries{q: conn, wroteUsers: &wroteUsers}); err != nil {
		return err
	}
	if _, err := conn.ExecContext(context.Background(), "RELEASE request"); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	ok = true
	o = turnOutcome{released: true, wroteUsers: wroteUsers}
	return nil
}

// rollbackSavepoint undoes the work of the savepoint "request" and ends
// it, leaving the rest of the transaction as it was. It fails when it
// cannot: SQLite has rolled the whole transaction back, or the rollback
// itself failed.
func rollbackSavepoint(conn *sql.Conn) error {
	open, err := inTransaction(conn)
	if err != nil {
		return fmt.Errorf("rollback savepoint: %w", err)
	}
	if !open {
		return errors.New("rollback savepoint: SQLite rolled the transaction back")
	}
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK TO request"); err != nil {
		return fmt.Errorf("rollback savepoint: %w", err)
	}
	if _, err := conn.ExecContext(context.Background(), "RELEASE request"); err != nil {
		return fmt.Errorf("rollback savepoint: %w", err)
	}
	return nil
}

// nextJoining takes the first queued request that is still waiting, to
// join a batch, or returns nil when none is or when that request waits to
// run between batches (writeRequest.between): it stays first in the queue,
// and the batch ends so that it leads next.
func (g *groupCommit) nextJoining() *writeRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	for len(g.queue) > 0 {
		r := g.queue[0]
		if r.between != nil && r.state.Load() == requestQueued {
			return nil
		}
		g.queue[0] = nil
		g.queue = g.queue[1:]
		if r.state.CompareAndSwap(requestQueued, requestRunning) {
			return r
		}
	}
	return nil
}

func (g *groupCommit) nextLocked() *writeRequest {
	for len(g.queue) > 0 {
		r := g.queue[0]
		g.queue[0] = nil
		g.queue = g.queue[1:]
		if r.state.CompareAndSwap(requestQueued, requestRunning) {
			return r
		}
	}
	return nil
}

// handOff passes the writer's connection (nil if the leader could not get
// it) to the first queued request, which leads the next batch, or, when
// none is queued, returns it to the pool and marks the writer idle.
func (d *Store) handOff(conn *sql.Conn) {
	g := &d.group
	g.mu.Lock()
	next := g.nextLocked()
	if next == nil {
		g.busy = false
	}
	g.mu.Unlock()
	if next != nil {
		next.wake <- instruction{kind: lead, conn: conn}
		return
	}
	if conn != nil {
		conn.Close()
	}
}

// queued reports how many requests wait in the queue, cancelled ones
// included until a leader drops them; for tests.
func (g *groupCommit) queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue)
}
