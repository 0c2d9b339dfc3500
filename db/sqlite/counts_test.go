package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/model"
)

// Writes that bypass CreateRecord and DeleteRecord (an operator's sqlite3
// session) leave the counter wrong only until the database is next opened.
func TestRecordCounterRecountedAtOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "recount.db")
	d := open(t, sqlite.Options{Path: path})
	u := newUser(t, d, "recount@example.org")
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		execOn(t, path, fmt.Sprintf(`INSERT INTO medical_records (id, user_id, patient_name, date_of_birth, date_of_treatment, doctor, created, updated)
			VALUES ('outside-%d', '%s', 'P', '1990-01-01', '2030-01-01', 'D', 0, 0)`, i, u.ID))
	}
	d = open(t, sqlite.Options{Path: path})
	// A one-record page, so the total is the counter's.
	if _, count, err := d.Read().ListRecords(context.Background(), db.RecordFilter{Limit: 1}); err != nil || count != 3 {
		t.Fatalf("count %d, %v after reopening; want 3", count, err)
	}
}

// The unfiltered list reads its total from a counter CreateRecord and
// DeleteRecord keep; it must always equal count(*).
func TestRecordCounterMatchesCount(t *testing.T) {
	d := open(t, sqlite.Options{})
	u := newUser(t, d, "count@example.org")
	ctx := context.Background()
	var ids []string
	for i := 0; i < 5; i++ {
		id := uuid.NewString()
		ids = append(ids, id)
		if err := d.Write(ctx, func(q db.Tx) error {
			return q.CreateRecord(ctx, model.MedicalRecord{ID: id, UserID: u.ID, PatientName: "p", DateOfBirth: model.NewDate(1990, 1, 1),
				DateOfTreatment: model.NewDate(2030, 1, 1), Doctor: "d", Created: time.Now(), Updated: time.Now()})
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Write(ctx, func(q db.Tx) error { return q.DeleteRecord(ctx, ids[0]) }); err != nil {
		t.Fatal(err)
	}
	// A failed transaction must not move the counter either.
	_ = d.Write(ctx, func(q db.Tx) error {
		if err := q.DeleteRecord(ctx, ids[1]); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	records, count, err := d.Read().ListRecords(ctx, db.RecordFilter{Limit: 100})
	if err != nil || count != 4 || len(records) != 4 {
		t.Fatalf("count %d, %d rows, %v; want 4", count, len(records), err)
	}
	// A page short of the end reads the counter rather than counting what
	// it fetched.
	if _, count, err := d.Read().ListRecords(ctx, db.RecordFilter{Limit: 1}); err != nil || count != 4 {
		t.Fatalf("count %d, %v on a one-record page; want 4", count, err)
	}
	_, filtered, _ := d.Read().ListRecords(ctx, db.RecordFilter{UserID: u.ID, Limit: 100})
	if filtered != 4 {
		t.Fatalf("filtered count %d", filtered)
	}
}

// insertAudit writes one event with action in its own transaction; fail
// makes the transaction roll back after the insert.
func insertAudit(t *testing.T, d *sqlite.Store, action string, fail bool) {
	t.Helper()
	ctx := context.Background()
	err := d.Write(ctx, func(q db.Tx) error {
		if err := q.InsertAudit(ctx, model.AuditEvent{ID: uuid.NewString(), At: time.Now(), Action: action,
			Entity: model.EntityRecord, IP: "192.0.2.1"}); err != nil {
			return err
		}
		if fail {
			return errors.New("roll back")
		}
		return nil
	})
	if fail != (err != nil) {
		t.Fatalf("insert %s (fail %v): %v", action, fail, err)
	}
}

// auditCount returns the total a one-event page of f reports, which, short
// of the last page, is the counter's.
func auditCount(t *testing.T, d *sqlite.Store, f db.AuditFilter) int {
	t.Helper()
	f.Limit = 1
	_, count, err := d.Read().ListAudit(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return count
}

// The unfiltered audit list and the list of one action read their totals
// from counters InsertAudit keeps, one per action; they must always equal
// count(*), including for an action seen for the first time and after a
// rolled-back transaction.
func TestAuditCountersMatchCount(t *testing.T) {
	d := open(t, sqlite.Options{})
	for range 3 {
		insertAudit(t, d, model.ActionRecordRead, false)
	}
	insertAudit(t, d, model.ActionRecordCreate, false)
	insertAudit(t, d, model.ActionRecordDelete, true)
	insertAudit(t, d, model.ActionRecordRead, true)
	for _, tc := range []struct {
		f    db.AuditFilter
		want int
	}{
		{db.AuditFilter{}, 4},
		{db.AuditFilter{Action: model.ActionRecordRead}, 3},
		{db.AuditFilter{Action: model.ActionRecordCreate}, 1},
		{db.AuditFilter{Action: model.ActionRecordDelete}, 0},
	} {
		if got := auditCount(t, d, tc.f); got != tc.want {
			t.Errorf("%+v: count %d, want %d", tc.f, got, tc.want)
		}
	}
	// A page past the last event still knows the total.
	if _, count, err := d.Read().ListAudit(context.Background(), db.AuditFilter{Limit: 10, Offset: 10}); err != nil || count != 4 {
		t.Fatalf("page past the end: count %d, %v; want 4", count, err)
	}
}

// Events written past InsertAudit are counted from the next open on.
func TestAuditCountersRecountedAtOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "recount.db")
	d := open(t, sqlite.Options{Path: path})
	insertAudit(t, d, model.ActionRecordRead, false)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	for i, action := range []string{model.ActionRecordRead, model.ActionLogin, model.ActionLogin} {
		execOn(t, path, fmt.Sprintf(`INSERT INTO audit_events (id, at, action, entity, ip)
			VALUES ('outside-%d', %d, '%s', 'user', 'cli')`, i, i, action))
	}
	d = open(t, sqlite.Options{Path: path})
	if got := auditCount(t, d, db.AuditFilter{}); got != 4 {
		t.Errorf("count %d after reopening, want 4", got)
	}
	if got := auditCount(t, d, db.AuditFilter{Action: model.ActionLogin}); got != 2 {
		t.Errorf("%s: count %d after reopening, want 2", model.ActionLogin, got)
	}
}

// Opening a database whose counters are right must not take the write
// lock: createsuperuser or migrate may open the database a server is
// writing to, and a recount under the lock would stall that server's
// writes for as long as counting the audit trail takes.
func TestOpenWithRightCountsLeavesWritersAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	d := open(t, sqlite.Options{Path: path})
	newUser(t, d, "busy@example.org")
	insertAudit(t, d, model.ActionRecordRead, false)
	// d keeps serving; another connection holds the write lock, as a
	// write in progress would.
	testenv.HoldWriteLock(t, path)
	second, err := sqlite.Open(context.Background(), sqlite.Options{Path: path, BusyTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("open beside a writer: %v", err)
	}
	second.Close()
}
