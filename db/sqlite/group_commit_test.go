package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// groupStore opens a database with one patient, whose id it returns.
// Unless opts say otherwise a batch has no time bound, so that the tests'
// batches hold exactly what they queue however slowly the machine runs.
func groupStore(t *testing.T, opts Options) (*Store, string) {
	t.Helper()
	opts.Path = filepath.Join(t.TempDir(), "group.db")
	// These tests count which writes share a batch; the background merger's
	// and the audit indexer's steps would join them.
	if opts.FTSMergeInterval == 0 {
		opts.FTSMergeInterval = -1
	}
	if opts.AuditIndexInterval == 0 {
		opts.AuditIndexInterval = -1
	}
	if opts.MaxBatchTime == 0 {
		opts.MaxBatchTime = time.Hour
	}
	d, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	now := time.Now().UTC()
	u := db.UserRow{User: model.User{ID: uuid.NewString(), Email: "group@example.org", FirstName: "A", LastName: "B",
		IsActive: true, Created: now, Updated: now}, PasswordHash: "x"}
	if err := d.Write(context.Background(), func(q db.Tx) error { return q.CreateUser(context.Background(), u) }); err != nil {
		t.Fatal(err)
	}
	return d, u.ID
}

func groupRecord(userID string) model.MedicalRecord {
	now := time.Now().UTC()
	return model.MedicalRecord{ID: uuid.NewString(), UserID: userID, PatientName: "p", DateOfBirth: model.NewDate(1990, 1, 1),
		DateOfTreatment: model.NewDate(2030, 1, 1), Doctor: "d", Created: now, Updated: now}
}

// waitQueued waits until n requests are queued behind the writer. It waits
// for a state, not for a time: a test that never reaches it hangs until
// go test's own timeout, rather than passing.
func waitQueued(d *Store, n int) {
	for d.group.queued() < n {
		time.Sleep(time.Millisecond)
	}
}

// blockedLeader starts a write that holds the writer until release is
// closed, so that the writes started meanwhile queue into one batch. Its
// fn creates a record, whose id it returns with the write's outcome.
func blockedLeader(t *testing.T, d *Store, userID string) (release chan struct{}, id string, result chan error) {
	t.Helper()
	release, result = make(chan struct{}), make(chan error, 1)
	started := make(chan struct{})
	var once sync.Once
	r := groupRecord(userID)
	go func() {
		// A batch that fails as a whole runs its leader's fn again.
		result <- d.write(context.Background(), func(q *queries) error {
			once.Do(func() { close(started) })
			<-release
			return q.CreateRecord(context.Background(), r)
		})
	}()
	<-started
	return release, r.ID, result
}

// queue starts fn as a write behind those already queued and waits until it
// is queued, so that requests queue, and run, in the order of the calls.
func queue(d *Store, ctx context.Context, fn func(q *queries) error) chan error {
	result, _ := queuePanicking(d, ctx, fn)
	return result
}

// queuePanicking is queue, also returning what the write panicked with;
// the panic reaches the goroutine that called Write, which recovers it.
func queuePanicking(d *Store, ctx context.Context, fn func(q *queries) error) (chan error, chan any) {
	n := d.group.queued()
	result, panicked := make(chan error, 1), make(chan any, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				panicked <- v
			}
		}()
		result <- d.write(ctx, fn)
	}()
	waitQueued(d, n+1)
	return result, panicked
}

func recordCount(t *testing.T, d *Store) (rows, counted int) {
	t.Helper()
	ctx := context.Background()
	if err := d.reader.QueryRowContext(ctx, "SELECT count(*) FROM medical_records").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if err := d.reader.QueryRowContext(ctx, "SELECT n FROM counts WHERE name = 'medical_records'").Scan(&counted); err != nil {
		t.Fatal(err)
	}
	return rows, counted
}

func exists(t *testing.T, d *Store, id string) bool {
	t.Helper()
	_, err := d.Read().RecordByID(context.Background(), id)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// Requests queued behind a busy writer share one commit, and one that fails
// or panics in the middle of the batch loses its own work alone: the
// others, before and after it, land, and it gets its own error or panic.
func TestGroupCommitIsolatesAFailingRequest(t *testing.T) {
	d, userID := groupStore(t, Options{})
	ctx := context.Background()
	commits := d.commits.Load()
	release, leaderID, leader := blockedLeader(t, d, userID)

	a := groupRecord(userID)
	resA := queue(d, ctx, func(q *queries) error { return q.CreateRecord(ctx, a) })
	failure := errors.New("b refuses")
	b := groupRecord(userID)
	resB := queue(d, ctx, func(q *queries) error {
		if err := q.CreateRecord(ctx, b); err != nil {
			return err
		}
		return failure
	})
	p := groupRecord(userID)
	_, panicked := queuePanicking(d, ctx, func(q *queries) error {
		if err := q.CreateRecord(ctx, p); err != nil {
			return err
		}
		panic("p gives up")
	})
	c := groupRecord(userID)
	var sawA, sawB, sawP bool
	resC := queue(d, ctx, func(q *queries) error {
		for _, seen := range []struct {
			id  string
			saw *bool
		}{{a.ID, &sawA}, {b.ID, &sawB}, {p.ID, &sawP}} {
			_, err := q.RecordByID(ctx, seen.id)
			if err != nil && !errors.Is(err, db.ErrNotFound) {
				return err
			}
			*seen.saw = err == nil
		}
		return q.CreateRecord(ctx, c)
	})
	close(release)

	if err := <-leader; err != nil {
		t.Fatalf("leader: %v", err)
	}
	if err := <-resA; err != nil {
		t.Fatalf("a: %v", err)
	}
	if err := <-resB; !errors.Is(err, failure) {
		t.Fatalf("b returned %v, want its own error", err)
	}
	if v := <-panicked; v != "p gives up" {
		t.Fatalf("p panicked with %v", v)
	}
	if err := <-resC; err != nil {
		t.Fatalf("c: %v", err)
	}
	if !sawA || sawB || sawP {
		t.Fatalf("c saw a %v, b %v, p %v; want a only", sawA, sawB, sawP)
	}
	if n := d.commits.Load() - commits; n != 1 {
		t.Fatalf("%d commits for one batch, want 1", n)
	}
	for _, id := range []string{leaderID, a.ID, c.ID} {
		if !exists(t, d, id) {
			t.Fatalf("record %s of a successful request is missing", id)
		}
	}
	for _, id := range []string{b.ID, p.ID} {
		if exists(t, d, id) {
			t.Fatalf("record %s of a failed request was stored", id)
		}
	}
	if rows, counted := recordCount(t, d); rows != 3 || counted != 3 {
		t.Fatalf("%d records, counted %d; want 3 and 3 (a failed request's count must not land)", rows, counted)
	}
	// The writer is idle again and works.
	if err := d.write(ctx, func(q *queries) error { return q.CreateRecord(ctx, groupRecord(userID)) }); err != nil {
		t.Fatal(err)
	}
}

// sequenced creates the sequence table that the ordering tests append to.
func sequenced(t *testing.T, d *Store) {
	t.Helper()
	if _, err := d.writer.Exec("CREATE TABLE seq (n INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
}

// appendNext appends max(n)+1 to the sequence and returns it.
func appendNext(ctx context.Context, q *queries) (int, error) {
	var n int
	if err := q.q.QueryRowContext(ctx, "SELECT coalesce(max(n), 0) + 1 FROM seq").Scan(&n); err != nil {
		return 0, err
	}
	if _, err := q.q.ExecContext(ctx, "INSERT INTO seq (n) VALUES (?)", n); err != nil {
		return 0, err
	}
	return n, nil
}

// A batch runs its requests in arrival order, each seeing every earlier
// one's writes: the outcome of running them one after another.
func TestGroupCommitRunsABatchInArrivalOrder(t *testing.T) {
	d, userID := groupStore(t, Options{})
	sequenced(t, d)
	ctx := context.Background()
	commits := d.commits.Load()
	release, _, leader := blockedLeader(t, d, userID)
	const followers = 31
	got := make([]int, followers)
	results := make([]chan error, followers)
	for i := range followers {
		results[i] = queue(d, ctx, func(q *queries) error {
			var err error
			got[i], err = appendNext(ctx, q)
			return err
		})
	}
	close(release)
	if err := <-leader; err != nil {
		t.Fatal(err)
	}
	for i, res := range results {
		if err := <-res; err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if got[i] != i+1 {
			t.Fatalf("request %d, queued after %d others, read %d as the next number", i, i, got[i]-1)
		}
	}
	if n := d.commits.Load() - commits; n != 1 {
		t.Fatalf("%d commits for one batch of %d, want 1", n, followers+1)
	}
}

// However requests batch, concurrent read-then-write transactions never
// lose an update: the sequence gets every number once.
func TestGroupCommitLosesNoUpdate(t *testing.T) {
	d, _ := groupStore(t, Options{})
	sequenced(t, d)
	ctx := context.Background()
	const writers, each = 32, 20
	seen := make([][]int, writers)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for range each {
				var n int
				if err := d.write(ctx, func(q *queries) error {
					var err error
					n, err = appendNext(ctx, q)
					return err
				}); err != nil {
					errs <- err
					return
				}
				seen[w] = append(seen[w], n)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	have := make(map[int]bool)
	for _, ns := range seen {
		for _, n := range ns {
			if have[n] {
				t.Fatalf("number %d handed out twice", n)
			}
			have[n] = true
		}
	}
	for n := 1; n <= writers*each; n++ {
		if !have[n] {
			t.Fatalf("number %d never handed out", n)
		}
	}
}

// A request whose context ends while it is queued gets the context's error
// and its fn never runs; the batch it would have joined goes on.
func TestGroupCommitDropsACancelledQueuedRequest(t *testing.T) {
	d, userID := groupStore(t, Options{})
	ctx := context.Background()
	release, leaderID, leader := blockedLeader(t, d, userID)
	cctx, cancel := context.WithCancel(ctx)
	ran := false
	res := queue(d, cctx, func(q *queries) error { ran = true; return nil })
	a := groupRecord(userID)
	resA := queue(d, ctx, func(q *queries) error { return q.CreateRecord(ctx, a) })
	cancel()
	// Answered while the leader still holds the writer.
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled request returned %v", err)
	}
	close(release)
	if err := <-leader; err != nil {
		t.Fatal(err)
	}
	if err := <-resA; err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Fatal("the fn of a request cancelled while queued ran")
	}
	if !exists(t, d, leaderID) || !exists(t, d, a.ID) {
		t.Fatal("a write of the batch is missing")
	}
}

// A request whose context ends while its fn runs in a batch either
// completes (fn returned nil: its commit is not interrupted) or rolls back
// its own work (its statement was cancelled). SQLite may roll the whole
// transaction back when it interrupts a write (see
// TestGroupCommitRerunsABatchSQLiteRolledBack), so the requests before it
// in the batch must still land.
func TestGroupCommitSurvivesACancelledRunningRequest(t *testing.T) {
	for round := range 5 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			d, userID := groupStore(t, Options{})
			ctx := context.Background()
			commits := d.commits.Load()
			release, leaderID, leader := blockedLeader(t, d, userID)
			before := groupRecord(userID)
			resBefore := queue(d, ctx, func(q *queries) error { return q.CreateRecord(ctx, before) })
			// Cancels itself after its first write, and writes again.
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			cut := groupRecord(userID)
			resCut := queue(d, cctx, func(q *queries) error {
				if err := q.CreateRecord(cctx, cut); err != nil {
					return err
				}
				cancel()
				// The cancelled statement may have finished before SQLite
				// was interrupted; a request that sees it then gives up.
				if err := q.CreateRecord(cctx, groupRecord(userID)); err != nil {
					return err
				}
				return cctx.Err()
			})
			// Cancels itself after its work: it must still be committed.
			gctx, gone := context.WithCancel(ctx)
			defer gone()
			left := groupRecord(userID)
			resLeft := queue(d, gctx, func(q *queries) error {
				err := q.CreateRecord(gctx, left)
				gone()
				return err
			})
			after := groupRecord(userID)
			resAfter := queue(d, ctx, func(q *queries) error { return q.CreateRecord(ctx, after) })
			close(release)
			for name, res := range map[string]chan error{"leader": leader, "before": resBefore, "left": resLeft, "after": resAfter} {
				if err := <-res; err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
			errCut := <-resCut
			if errCut == nil {
				t.Fatal("the request whose second write was cancelled succeeded")
			}
			for _, id := range []string{leaderID, before.ID, left.ID, after.ID} {
				if !exists(t, d, id) {
					t.Fatalf("record %s of a successful request is missing (cancelled request: %v)", id, errCut)
				}
			}
			if exists(t, d, cut.ID) {
				t.Fatal("the cancelled request's first write landed")
			}
			if rows, counted := recordCount(t, d); rows != 4 || counted != 4 {
				t.Fatalf("%d records, counted %d; want 4 and 4", rows, counted)
			}
			t.Logf("cancelled request: %v; %d commits", errCut, d.commits.Load()-commits)
		})
	}
}

// When SQLite rolls the whole transaction back under a request (as after an
// interrupted write, a full disk or an I/O error; here the request's own
// ROLLBACK stands in for those), that request gets its error, the requests
// before it in the batch, whose work was lost, run again alone, and those
// after it form the next batch: all of them land.
func TestGroupCommitRerunsABatchSQLiteRolledBack(t *testing.T) {
	d, userID := groupStore(t, Options{})
	ctx := context.Background()
	commits := d.commits.Load()
	release, leaderID, leader := blockedLeader(t, d, userID)
	a := groupRecord(userID)
	resA := queue(d, ctx, func(q *queries) error { return q.CreateRecord(ctx, a) })
	x := groupRecord(userID)
	failure := errors.New("x lost the transaction")
	resX := queue(d, ctx, func(q *queries) error {
		if err := q.CreateRecord(ctx, x); err != nil {
			return err
		}
		if _, err := q.q.ExecContext(ctx, "ROLLBACK"); err != nil {
			return err
		}
		return failure
	})
	c := groupRecord(userID)
	resC := queue(d, ctx, func(q *queries) error { return q.CreateRecord(ctx, c) })
	close(release)
	for name, res := range map[string]chan error{"leader": leader, "a": resA, "c": resC} {
		if err := <-res; err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if err := <-resX; !errors.Is(err, failure) {
		t.Fatalf("x returned %v, want its own error", err)
	}
	for _, id := range []string{leaderID, a.ID, c.ID} {
		if !exists(t, d, id) {
			t.Fatalf("record %s is missing", id)
		}
	}
	if exists(t, d, x.ID) {
		t.Fatal("x's record landed")
	}
	if rows, counted := recordCount(t, d); rows != 3 || counted != 3 {
		t.Fatalf("%d records, counted %d; want 3 and 3", rows, counted)
	}
	// The leader and a again, alone; then c's batch.
	if n := d.commits.Load() - commits; n != 3 {
		t.Fatalf("%d commits, want 3", n)
	}
}

// When the batch's COMMIT fails, the requests it held are run again each
// alone, so that one request's deferred constraint fails that request only.
func TestGroupCommitRetriesAFailedCommitAlone(t *testing.T) {
	d, userID := groupStore(t, Options{})
	ctx := context.Background()
	release, leaderID, leader := blockedLeader(t, d, userID)
	a := groupRecord(userID)
	resA := queue(d, ctx, func(q *queries) error { return q.CreateRecord(ctx, a) })
	// A deferred foreign-key violation: the savepoint releases, the COMMIT
	// fails.
	orphan := groupRecord(uuid.NewString())
	resOrphan := queue(d, ctx, func(q *queries) error {
		if _, err := q.q.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
			return err
		}
		return q.CreateRecord(ctx, orphan)
	})
	c := groupRecord(userID)
	resC := queue(d, ctx, func(q *queries) error { return q.CreateRecord(ctx, c) })
	close(release)
	for name, res := range map[string]chan error{"leader": leader, "a": resA, "c": resC} {
		if err := <-res; err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if err := <-resOrphan; err == nil {
		t.Fatal("a record of no user was stored")
	}
	for _, id := range []string{leaderID, a.ID, c.ID} {
		if !exists(t, d, id) {
			t.Fatalf("record %s is missing", id)
		}
	}
	if rows, counted := recordCount(t, d); rows != 3 || counted != 3 {
		t.Fatalf("%d records, counted %d; want 3 and 3", rows, counted)
	}
}

// A request alone finds the writer idle and commits at once, and MaxBatch 1
// turns batching off: each request commits on its own.
func TestGroupCommitOffCommitsEachRequest(t *testing.T) {
	d, userID := groupStore(t, Options{MaxBatch: 1})
	ctx := context.Background()
	commits := d.commits.Load()
	const writers = 8
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			if err := d.write(ctx, func(q *queries) error { return q.CreateRecord(ctx, groupRecord(userID)) }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := d.commits.Load() - commits; n != writers {
		t.Fatalf("%d commits for %d writes with MaxBatch 1", n, writers)
	}
}

// A batch holds at most MaxBatch requests, and takes none once it has been
// open MaxBatchTime: a leader and nine requests queued behind it commit as
// 4, 4 and 2 with MaxBatch 4, and one by one once any batch is too old.
func TestGroupCommitBoundsABatch(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    Options
		commits uint64
	}{
		{"count", Options{MaxBatch: 4}, 3},
		{"time", Options{MaxBatchTime: time.Nanosecond}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) { testBatchBound(t, tc.opts, tc.commits) })
	}
}

func testBatchBound(t *testing.T, opts Options, want uint64) {
	d, userID := groupStore(t, opts)
	ctx := context.Background()
	commits := d.commits.Load()
	release, _, leader := blockedLeader(t, d, userID)
	var results []chan error
	for range 9 {
		results = append(results, queue(d, ctx, func(q *queries) error { return q.CreateRecord(ctx, groupRecord(userID)) }))
	}
	close(release)
	if err := <-leader; err != nil {
		t.Fatal(err)
	}
	for _, res := range results {
		if err := <-res; err != nil {
			t.Fatal(err)
		}
	}
	if n := d.commits.Load() - commits; n != want {
		t.Fatalf("%d commits for 10 requests, want %d", n, want)
	}
}
