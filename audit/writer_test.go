package audit_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/audit"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/model"
)

// openStore opens the store the run is on: SQLite in a temp dir, or a
// fresh PostgreSQL database when ANAVARA_TEST_DATABASE names a server.
func openStore(t *testing.T) db.Store {
	s, _ := testenv.OpenStore(t, sqlite.Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
	return s
}

var start = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

func event(i int) model.AuditEvent {
	rec := uuid.NewString()
	return model.AuditEvent{ID: uuid.NewString(), At: start.Add(time.Duration(i) * time.Millisecond), Action: model.ActionRecordList,
		Entity: model.EntityRecord, IP: "192.0.2.1", Detail: []byte(`{"page":1}`), RecordIDs: []string{rec}}
}

// stored reports whether the trail holds e, found by the record it served.
func stored(t *testing.T, s db.Store, e model.AuditEvent) bool {
	t.Helper()
	got, _, err := s.Read().ListAudit(t.Context(), db.AuditFilter{EntityID: e.RecordIDs[0], Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	return len(got) == 1 && got[0].ID == e.ID
}

// holdWriter runs a write transaction that waits until release is called,
// so that every write of the trail behind it queues. On SQLite holding the
// one writer is enough; on PostgreSQL, where transactions run side by
// side, it must hold the audit chain's lock, which it takes by appending
// an event of its own before it waits (a read of the chain's head writes
// the transaction's queued events, under the lock, which is then held to
// the commit).
func holdWriter(t *testing.T, s db.Store) (release func()) {
	t.Helper()
	began, done := make(chan struct{}), make(chan struct{})
	finished := make(chan error, 1)
	var beganOnce sync.Once // an engine may run fn more than once
	hold := model.AuditEvent{ID: uuid.NewString(), At: start.Add(-time.Second), Action: model.ActionRecordRead,
		Entity: model.EntityRecord, IP: "192.0.2.9"}
	go func() {
		finished <- s.Write(context.Background(), func(tx db.Tx) error {
			if err := tx.InsertAudit(context.Background(), hold); err != nil {
				return err
			}
			if _, err := tx.AuditHead(context.Background()); err != nil {
				return err
			}
			beganOnce.Do(func() { close(began) })
			<-done
			return nil
		})
	}()
	<-began
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(done)
			if err := <-finished; err != nil {
				t.Errorf("held write: %v", err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

func TestLogCommitsBeforeReturning(t *testing.T) {
	s := openStore(t)
	w := audit.NewWriter(s, audit.Options{})
	e := event(0)
	if err := w.Log(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	// Read on another connection than the writer's: committed, not merely
	// written.
	if !stored(t, s, e) {
		t.Fatal("the event is not in the trail when Log returns")
	}
	if st := w.Stats(); st != (audit.Stats{Events: 1, Transactions: 1}) {
		t.Fatalf("stats %+v", st)
	}
}

// Events that arrive while a batch is being written share the next
// transaction, and each caller returns only once its own is committed.
func TestConcurrentEventsShareTransactions(t *testing.T) {
	s := openStore(t)
	w := audit.NewWriter(s, audit.Options{MaxBatch: 16})
	release := holdWriter(t, s)
	const n = 64
	events := make([]model.AuditEvent, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		events[i] = event(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := w.Log(context.Background(), events[i])
			if err == nil && !stored(t, s, events[i]) {
				err = fmt.Errorf("event %d: Log returned before it was committed", i)
			}
			errs <- err
		}()
	}
	// Let every event queue behind the held transaction.
	time.Sleep(50 * time.Millisecond)
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	st := w.Stats()
	// The first event's batch went alone, into the queue behind the held
	// transaction; the other 63 wait for it and then go 16 at a time.
	if st.Events != n || st.Transactions > 1+(n-1+15)/16 {
		t.Fatalf("stats %+v: want %d events in at most %d transactions", st, n, 1+(n-1+15)/16)
	}
}

// An event the store refuses fails its own caller only: the batch it was
// in is retried an event at a time.
func TestRefusedEventFailsAlone(t *testing.T) {
	s := openStore(t)
	w := audit.NewWriter(s, audit.Options{})
	dup := event(0)
	if err := w.Log(t.Context(), dup); err != nil {
		t.Fatal(err)
	}
	release := holdWriter(t, s)
	others := []model.AuditEvent{event(1), event(2), event(3)}
	results := make(chan error, 1+len(others))
	go func() { results <- w.Log(context.Background(), dup) }() // the same key again
	for _, e := range others {
		go func() { results <- w.Log(context.Background(), e) }()
	}
	time.Sleep(50 * time.Millisecond)
	release()
	failed := 0
	for range 1 + len(others) {
		if err := <-results; err != nil {
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("%d callers failed, want only the duplicate's", failed)
	}
	for i, e := range others {
		if !stored(t, s, e) {
			t.Errorf("event %d is not in the trail", i)
		}
	}
}

// A caller whose context ends while its event waits is answered at once;
// the events of the others are written all the same.
func TestCancelledCallerReturnsAtOnce(t *testing.T) {
	s := openStore(t)
	w := audit.NewWriter(s, audit.Options{})
	release := holdWriter(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	gone, stays := event(1), event(2)
	cancelled := make(chan error, 1)
	go func() { cancelled <- w.Log(ctx, gone) }()
	kept := make(chan error, 1)
	go func() { kept <- w.Log(context.Background(), stays) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-cancelled:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Log: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled Log waited for the held transaction")
	}
	release()
	if err := <-kept; err != nil || !stored(t, s, stays) {
		t.Fatalf("the other caller's event: %v, stored %v", err, stored(t, s, stays))
	}
}

// logAll logs es at once, each from a goroutine of its own, and returns
// once every Log has, with the errors they returned.
func logAll(w *audit.Writer, es ...model.AuditEvent) error {
	results := make(chan error, len(es))
	for _, e := range es {
		go func() { results <- w.Log(context.Background(), e) }()
	}
	var errs []error
	for range es {
		errs = append(errs, <-results)
	}
	return errors.Join(errs...)
}

// batchOfTwo writes three events behind a held transaction: the first
// goes alone, taken by the Writer before the other two come, and those
// two share the next transaction.
func batchOfTwo(t *testing.T, s db.Store, w *audit.Writer) {
	t.Helper()
	release := holdWriter(t, s)
	done := make(chan error, 2)
	go func() { done <- logAll(w, event(100)) }()
	time.Sleep(50 * time.Millisecond)
	go func() { done <- logAll(w, event(101), event(102)) }()
	time.Sleep(50 * time.Millisecond)
	release()
	if err := errors.Join(<-done, <-done); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st != (audit.Stats{Events: 3, Transactions: 2}) {
		t.Fatalf("stats %+v, want 3 events in 2 transactions", st)
	}
}

// Reads that come one at a time never wait for company, however long the
// Writer would wait after a batch of several.
func TestLoneEventsAreNotDelayed(t *testing.T) {
	s := openStore(t)
	w := audit.NewWriter(s, audit.Options{Linger: time.Hour})
	for i := range 5 {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		err := w.Log(ctx, event(i))
		cancel()
		if err != nil {
			t.Fatalf("event %d, alone: %v", i, err)
		}
	}
	if st := w.Stats(); st != (audit.Stats{Events: 5, Transactions: 5}) {
		t.Fatalf("stats %+v", st)
	}
}

// After a batch of several events the next batch waits, up to Linger, for
// as many: the two events below share one transaction although the second
// came well after the first, and the first is not answered (nor in the
// trail) before that transaction commits.
func TestBatchAfterSeveralWaitsForAsMany(t *testing.T) {
	s := openStore(t)
	w := audit.NewWriter(s, audit.Options{Linger: time.Hour})
	batchOfTwo(t, s, w)
	first, second := event(1), event(2)
	returned := make(chan error, 1)
	go func() { returned <- w.Log(context.Background(), first) }()
	select {
	case err := <-returned:
		t.Fatalf("the first event's Log returned (%v) before a second event came", err)
	case <-time.After(100 * time.Millisecond):
	}
	if stored(t, s, first) {
		t.Fatal("the first event was committed alone")
	}
	if err := w.Log(t.Context(), second); err != nil {
		t.Fatal(err)
	}
	if err := <-returned; err != nil {
		t.Fatal(err)
	}
	if !stored(t, s, first) || !stored(t, s, second) {
		t.Fatal("the two events are not both in the trail")
	}
	if st := w.Stats(); st != (audit.Stats{Events: 5, Transactions: 3}) {
		t.Fatalf("stats %+v, want the two events in one more transaction", st)
	}
}

// The wait for company ends at Linger: an event that no other joins is
// written alone then.
func TestBatchWaitsAtMostLinger(t *testing.T) {
	s := openStore(t)
	w := audit.NewWriter(s, audit.Options{Linger: 50 * time.Millisecond})
	batchOfTwo(t, s, w)
	e := event(1)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := w.Log(ctx, e); err != nil {
		t.Fatal(err)
	}
	if !stored(t, s, e) {
		t.Fatal("the event is not in the trail")
	}
	if st := w.Stats(); st != (audit.Stats{Events: 4, Transactions: 3}) {
		t.Fatalf("stats %+v", st)
	}
}
