package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/model"
)

// open opens a store with opts, in a temp dir unless opts names a path,
// closed when the test or benchmark ends.
func open(tb testing.TB, opts sqlite.Options) *sqlite.Store {
	tb.Helper()
	if opts.Path == "" {
		opts.Path = filepath.Join(tb.TempDir(), "anavara.db")
	}
	d, err := sqlite.Open(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

// newUserRow is an active patient account with email, not yet stored.
func newUserRow(email string) db.UserRow {
	now := time.Now().UTC()
	return db.UserRow{User: model.User{ID: uuid.NewString(), Email: email, FirstName: "A", LastName: "B", IsActive: true, Created: now, Updated: now}, PasswordHash: "x"}
}

func newUser(t *testing.T, d *sqlite.Store, email string) db.UserRow {
	t.Helper()
	u := newUserRow(email)
	if err := d.Write(context.Background(), func(q db.Tx) error { return q.CreateUser(context.Background(), u) }); err != nil {
		t.Fatal(err)
	}
	return u
}

func pragma(t *testing.T, path, name string) string {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var v string
	if err := conn.QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenConfiguresSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "anavara.db")
	d := open(t, sqlite.Options{Path: path})
	if got := pragma(t, path, "journal_mode"); got != "wal" {
		t.Fatalf("journal_mode %q, want wal", got)
	}
	if v, err := d.Version(context.Background()); err != nil || v < 1 {
		t.Fatalf("schema version %d, %v", v, err)
	}
	// Foreign keys are enforced: a record for a missing user is refused.
	err := d.Write(context.Background(), func(q db.Tx) error {
		return q.CreateRecord(context.Background(), model.MedicalRecord{ID: uuid.NewString(), UserID: uuid.NewString(),
			PatientName: "x", DateOfBirth: model.NewDate(1990, 1, 1), DateOfTreatment: model.NewDate(2030, 1, 1), Doctor: "d"})
	})
	if err == nil {
		t.Fatal("record for a missing user was stored: foreign keys are off")
	}
	if _, err := sqlite.Open(context.Background(), sqlite.Options{Path: path, Synchronous: "OFF"}); err == nil {
		t.Fatal("synchronous=OFF accepted")
	}
}

func TestEmailIsUniqueIgnoringCase(t *testing.T) {
	d := open(t, sqlite.Options{})
	newUser(t, d, "case@example.org")
	now := time.Now()
	err := d.Write(context.Background(), func(q db.Tx) error {
		return q.CreateUser(context.Background(), db.UserRow{User: model.User{ID: uuid.NewString(), Email: "CASE@example.org", Created: now, Updated: now}})
	})
	if !errors.Is(err, db.ErrConflict) {
		t.Fatalf("duplicate email: %v, want ErrConflict", err)
	}
	u, err := d.Read().UserByEmail(context.Background(), "Case@Example.org")
	if err != nil || u.Email != "case@example.org" {
		t.Fatalf("lookup ignoring case: %+v, %v", u, err)
	}
}

func TestWriteRollsBackOnError(t *testing.T) {
	d := open(t, sqlite.Options{})
	u := newUser(t, d, "tx@example.org")
	boom := errors.New("boom")
	err := d.Write(context.Background(), func(q db.Tx) error {
		u.FirstName = "Changed"
		if err := q.UpdateUser(context.Background(), u.User); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write returned %v", err)
	}
	got, _ := d.Read().UserByID(context.Background(), u.ID)
	if got.FirstName != "A" {
		t.Fatal("a failed transaction was committed")
	}
}

// Many concurrent writers and readers never see SQLITE_BUSY: writes queue on
// the single writer connection, reads use the WAL snapshot.
func TestConcurrentWritesAndReads(t *testing.T) {
	d := open(t, sqlite.Options{Synchronous: "NORMAL"})
	u := newUser(t, d, "load@example.org")
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for w := 0; w < 8; w++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				err := d.Write(ctx, func(q db.Tx) error {
					return q.CreateRecord(ctx, model.MedicalRecord{ID: uuid.NewString(), UserID: u.ID, PatientName: "p",
						DateOfBirth: model.NewDate(1990, 1, 1), DateOfTreatment: model.NewDate(2030, 1, 1), Doctor: "d",
						Created: time.Now(), Updated: time.Now()})
				})
				if err != nil {
					errs <- err
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if _, _, err := d.Read().ListRecords(ctx, db.RecordFilter{UserID: u.ID, Limit: 20}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	_, count, err := d.Read().ListRecords(ctx, db.RecordFilter{Limit: 1})
	if err != nil || count != 200 {
		t.Fatalf("count %d, %v; want 200", count, err)
	}
}

func TestAuditTrailIsAppendOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "anavara.db")
	d := open(t, sqlite.Options{Path: path})
	ctx := context.Background()
	id := uuid.NewString()
	if err := d.Write(ctx, func(q db.Tx) error {
		return q.InsertAudit(ctx, model.AuditEvent{ID: id, At: time.Now(), Action: "x", Entity: "y", IP: "127.0.0.1"})
	}); err != nil {
		t.Fatal(err)
	}
	conn, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, stmt := range []string{
		"UPDATE audit_events SET action = 'tampered' WHERE id = ?",
		"DELETE FROM audit_events WHERE id = ?",
	} {
		if _, err := conn.Exec(stmt, id); err == nil {
			t.Errorf("%s succeeded", stmt)
		}
	}
}

func TestBackupIsConsistentCopy(t *testing.T) {
	d := open(t, sqlite.Options{})
	newUser(t, d, "backup@example.org")
	out := filepath.Join(t.TempDir(), "copy.db")
	if err := d.Backup(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	c := open(t, sqlite.Options{Path: out})
	if _, err := c.Read().UserByEmail(context.Background(), "backup@example.org"); err != nil {
		t.Fatalf("backup lacks the user: %v", err)
	}
}

func TestCloseTwice(t *testing.T) {
	d, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "twice.db")})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	d.Close() // must not panic
}
