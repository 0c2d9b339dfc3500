package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/postgres/pgtest"
	"github.com/anavara/anavara/model"
)

// connect opens a plain connection to the database at url, closed when t
// ends: for what the store itself never does.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// Several servers starting together on an empty database: one migrates,
// the others wait for its session lock and find nothing to do.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	u := pgtest.EmptyURL(t)
	ctx := context.Background()
	stores := make([]*postgres.Store, 4)
	errs := run(len(stores), func(i int) (err error) {
		stores[i], err = postgres.Open(ctx, postgres.Options{URL: u})
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	var applied int
	if err := connect(t, u).QueryRow(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(postgres.Migrations(), "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	// Versions may skip numbers (one taken by a branch not merged yet):
	// count the files and the Go migrations, not the latest version.
	if want := len(files) + len(postgres.GoMigrations()); applied != want {
		t.Errorf("%d migrations recorded, want %d (each once)", applied, want)
	}
	for i, s := range stores {
		if v, err := s.Version(ctx); err != nil || v != postgres.LatestVersion() {
			t.Errorf("store %d: Version = %d, %v", i, v, err)
		}
	}
}

func TestAuditTrailIsAppendOnly(t *testing.T) {
	s, u := openStore(t)
	ctx := context.Background()
	e := model.AuditEvent{ID: uuid.NewString(), At: base, Action: model.ActionRecordList, Entity: model.EntityRecord, IP: "127.0.0.1",
		Detail: []byte(`{"page":1}`), RecordIDs: []string{uuid.NewString()}}
	write(t, s, func(ctx context.Context, tx db.Tx) error { return tx.InsertAudit(ctx, e) })
	c := connect(t, u)
	for _, stmt := range []string{
		`UPDATE audit_events SET ip = 'forged'`,
		`UPDATE audit_events SET record_ids = NULL`,
		`DELETE FROM audit_events`,
		`TRUNCATE audit_events`,
	} {
		_, err := c.Exec(ctx, stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused as append-only", stmt, err)
		}
	}
	events, total, err := s.Read().ListAudit(ctx, db.AuditFilter{Limit: 10})
	if err != nil || total != 1 || len(events) != 1 || events[0].IP != "127.0.0.1" {
		t.Fatalf("trail after the attempts: %+v, total %d, %v", events, total, err)
	}
	if served, _, err := s.Read().ListAudit(ctx, db.AuditFilter{EntityID: e.RecordIDs[0], Limit: 10}); err != nil || len(served) != 1 {
		t.Fatalf("events of the record served after the attempts: %+v, %v", served, err)
	}
}

// Ids are uuid columns, but a client can send any string as one: it must
// find nothing (or change nothing), never reach PostgreSQL as a uuid (an
// error, a 500), and leave the transaction usable.
func TestMalformedIDs(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	u := createUser(t, s, "ids@example.org")
	upper := strings.ToUpper(u.ID) // a uuid, but not the stored spelling: not found on SQLite either
	bad := []string{"nope", "", "1", upper, "{" + u.ID + "}", u.ID + " ", "00000000-0000-0000-0000-00000000000g"}
	r := s.Read()
	for _, id := range bad {
		if id != "" {
			if _, err := r.UserByID(ctx, id); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("UserByID(%q): %v", id, err)
			}
			if _, err := r.RecordByID(ctx, id); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("RecordByID(%q): %v", id, err)
			}
			if _, err := r.RefreshTokenByID(ctx, id); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("RefreshTokenByID(%q): %v", id, err)
			}
			if _, err := r.ActiveOTP(ctx, id, time.Now(), 5); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("ActiveOTP(%q): %v", id, err)
			}
			if keys, err := r.SSHKeysOf(ctx, id); err != nil || keys == nil || len(keys) != 0 {
				t.Errorf("SSHKeysOf(%q) = %v, %v; want []", id, keys, err)
			}
			for _, offset := range []int{0, 20} {
				if users, total, err := r.ListUsers(ctx, db.UserFilter{OnlyID: id, Limit: 10, Offset: offset}); err != nil || total != 0 || users == nil || len(users) != 0 {
					t.Errorf("ListUsers(OnlyID %q) = %v, %d, %v", id, users, total, err)
				}
				if recs, total, err := r.ListRecords(ctx, db.RecordFilter{UserID: id, Limit: 10, Offset: offset}); err != nil || total != 0 || recs == nil || len(recs) != 0 {
					t.Errorf("ListRecords(UserID %q) = %v, %d, %v", id, recs, total, err)
				}
				if events, total, err := r.ListAudit(ctx, db.AuditFilter{ActorID: id, Limit: 10, Offset: offset}); err != nil || total != 0 || events == nil || len(events) != 0 {
					t.Errorf("ListAudit(ActorID %q) = %v, %d, %v", id, events, total, err)
				}
			}
		}
		// Every write by a malformed id, in one transaction that must still
		// commit afterwards.
		marker := uuid.NewString()
		err := s.Write(ctx, func(tx db.Tx) error {
			now := time.Now()
			checks := []struct {
				name string
				err  error
				want error
			}{
				{"UserByID", second(tx.UserByID(ctx, id)), db.ErrNotFound},
				{"UpdateUser", tx.UpdateUser(ctx, model.User{ID: id}), db.ErrNotFound},
				{"SetPassword", tx.SetPassword(ctx, id, "h", now), db.ErrNotFound},
				{"InvalidateAccessTokens", tx.InvalidateAccessTokens(ctx, id), db.ErrNotFound},
				{"UpdateRecord", tx.UpdateRecord(ctx, model.MedicalRecord{ID: id, UserID: u.ID}), db.ErrNotFound},
				{"DeleteRecord", tx.DeleteRecord(ctx, id), db.ErrNotFound},
				{"DeleteSSHKey(id)", tx.DeleteSSHKey(ctx, u.ID, id), db.ErrNotFound},
				{"DeleteSSHKey(user)", tx.DeleteSSHKey(ctx, id, uuid.NewString()), db.ErrNotFound},
				{"TouchSSHKey", tx.TouchSSHKey(ctx, id, now), nil},
				{"CountOTPAttempt", tx.CountOTPAttempt(ctx, id), nil},
				{"UseOTP", tx.UseOTP(ctx, id, now), db.ErrConflict},
				{"MarkRefreshTokenUsed", tx.MarkRefreshTokenUsed(ctx, id, now, nil, uuid.NewString()), db.ErrConflict},
				{"UseRefreshGrace", tx.UseRefreshGrace(ctx, id, now), db.ErrConflict},
				{"RevokeRefreshToken", tx.RevokeRefreshToken(ctx, id, now), nil},
				{"RevokeRefreshFamily", tx.RevokeRefreshFamily(ctx, id, now), nil},
				{"RevokeUserRefreshTokens", tx.RevokeUserRefreshTokens(ctx, id, now), nil},
			}
			for _, c := range checks {
				if !errors.Is(c.err, c.want) || (c.want == nil && c.err != nil) {
					t.Errorf("%s(%q): %v, want %v", c.name, id, c.err, c.want)
				}
			}
			return tx.InsertAudit(ctx, model.AuditEvent{ID: marker, At: now, Action: "test.marker", Entity: "user", IP: "x"})
		})
		if err != nil {
			t.Fatalf("the transaction with malformed ids (%q): %v", id, err)
		}
		if events, _, err := r.ListAudit(ctx, db.AuditFilter{Action: "test.marker", Limit: 100}); err != nil || !hasEvent(events, marker) {
			t.Fatalf("the transaction with malformed ids (%q) did not commit: %v", id, err)
		}
	}
	// Storing a malformed id is a bug of the caller's, reported as such.
	err := s.Write(ctx, func(tx db.Tx) error {
		return tx.CreateUser(ctx, db.UserRow{User: model.User{ID: "user-1", Email: "x@example.org"}})
	})
	if err == nil || errors.Is(err, db.ErrConflict) || !strings.Contains(err.Error(), "not a uuid") {
		t.Errorf("CreateUser with id user-1: %v", err)
	}
	if h := s.Health(); h.Cause != db.Healthy {
		t.Errorf("Health after malformed ids = %v (%v)", h.Cause, h.Err)
	}
}

func second[T any](_ T, err error) error { return err }

func hasEvent(events []model.AuditEvent, id string) bool {
	for _, e := range events {
		if e.ID == id {
			return true
		}
	}
	return false
}

// A unique conflict fails the statement, not the transaction, as on
// SQLite: the caller may carry on and commit.
func TestConflictLeavesTransactionUsable(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	u := createUser(t, s, "taken@example.org")
	var other db.UserRow
	err := s.Write(ctx, func(tx db.Tx) error {
		dup := db.UserRow{User: model.User{ID: uuid.NewString(), Email: u.Email, Created: base, Updated: base}}
		if err := tx.CreateUser(ctx, dup); !errors.Is(err, db.ErrConflict) {
			return fmt.Errorf("CreateUser with a taken email: %v, want ErrConflict", err)
		}
		key := db.SSHKeyRow{SSHKey: model.SSHKey{ID: uuid.NewString(), Name: "k", Type: "ssh-ed25519", Fingerprint: "SHA256:x", Created: base},
			UserID: u.ID, PublicKey: "ssh-ed25519 AAAA"}
		if err := tx.CreateSSHKey(ctx, key); err != nil {
			return err
		}
		key.ID = uuid.NewString()
		if err := tx.CreateSSHKey(ctx, key); !errors.Is(err, db.ErrConflict) {
			return fmt.Errorf("CreateSSHKey with a linked fingerprint: %v, want ErrConflict", err)
		}
		other = db.UserRow{User: model.User{ID: uuid.NewString(), Email: "other@example.org", Created: base, Updated: base}}
		return tx.CreateUser(ctx, other)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read().UserByID(ctx, other.ID); err != nil {
		t.Fatalf("the write after the conflicts: %v", err)
	}
}

// A request that goes away after its transaction's work is done does not
// undo it: the commit runs without the request's context.
func TestCommitOutlivesCancelledContext(t *testing.T) {
	s, _ := openStore(t)
	u := createUser(t, s, "cancel@example.org")
	ctx, cancel := context.WithCancel(context.Background())
	id := uuid.NewString()
	err := s.Write(ctx, func(tx db.Tx) error {
		r := model.MedicalRecord{ID: id, UserID: u.ID, PatientName: "P", DateOfBirth: model.NewDate(1990, 1, 1),
			DateOfTreatment: model.NewDate(2030, 1, 1), Doctor: "D", Created: base, Updated: base}
		if err := tx.CreateRecord(ctx, r); err != nil {
			return err
		}
		cancel()
		return nil
	})
	if err != nil {
		t.Fatalf("Write whose context ended after fn: %v", err)
	}
	if _, err := s.Read().RecordByID(context.Background(), id); err != nil {
		t.Fatalf("the record did not land: %v", err)
	}
	if _, total, _ := s.Read().ListRecords(context.Background(), db.RecordFilter{Limit: 0}); total != 1 {
		t.Fatalf("records counter = %d, want 1", total)
	}
}

// The counters move in the transaction of the change, are seen by that
// transaction's own reads, and drifted counters are corrected at Open.
func TestCounts(t *testing.T) {
	s, u := openStore(t)
	ctx := context.Background()
	owner := createUser(t, s, "counts@example.org")
	record := func() model.MedicalRecord {
		return model.MedicalRecord{ID: uuid.NewString(), UserID: owner.ID, PatientName: "P", DateOfBirth: model.NewDate(1990, 1, 1),
			DateOfTreatment: model.NewDate(2030, 1, 1), Doctor: "D", Created: base, Updated: base}
	}
	event := func(action string) model.AuditEvent {
		return model.AuditEvent{ID: uuid.NewString(), At: base, Action: action, Entity: "record", IP: "x"}
	}
	write(t, s, func(ctx context.Context, tx db.Tx) error {
		for range 3 {
			if err := tx.CreateRecord(ctx, record()); err != nil {
				return err
			}
		}
		for _, a := range []string{"a", "a", "b"} {
			if err := tx.InsertAudit(ctx, event(a)); err != nil {
				return err
			}
		}
		// Limit 0 always counts: the counter, with this transaction's moves.
		if _, total, err := tx.ListRecords(ctx, db.RecordFilter{Limit: 0}); err != nil || total != 3 {
			return fmt.Errorf("records total inside the transaction = %d, %v; want 3", total, err)
		}
		if _, total, err := tx.ListAudit(ctx, db.AuditFilter{Action: "a", Limit: 0}); err != nil || total != 2 {
			return fmt.Errorf("audit total for a inside the transaction = %d, %v; want 2", total, err)
		}
		return tx.CreateRecord(ctx, record())
	})
	// A rolled-back transaction moves nothing.
	_ = s.Write(ctx, func(tx db.Tx) error {
		if err := tx.CreateRecord(ctx, record()); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	check := func(s *postgres.Store, when string) {
		t.Helper()
		if _, total, err := s.Read().ListRecords(ctx, db.RecordFilter{Limit: 0}); err != nil || total != 4 {
			t.Errorf("%s: records total = %d, %v; want 4", when, total, err)
		}
		if _, total, err := s.Read().ListAudit(ctx, db.AuditFilter{Limit: 0}); err != nil || total != 3 {
			t.Errorf("%s: audit total = %d, %v; want 3", when, total, err)
		}
		if _, total, err := s.Read().ListAudit(ctx, db.AuditFilter{Action: "b", Limit: 0}); err != nil || total != 1 {
			t.Errorf("%s: audit total for b = %d, %v; want 1", when, total, err)
		}
	}
	check(s, "after the writes")
	if _, err := connect(t, u).Exec(ctx, `UPDATE counts SET n = n + 40; INSERT INTO counts VALUES ('audit_events', 'ghost', 7)`); err != nil {
		t.Fatal(err)
	}
	again, err := postgres.Open(ctx, postgres.Options{URL: u})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	check(again, "after Open recounted")
}

// A serialization failure or deadlock runs the transaction again; other
// errors do not, and the attempts are bounded.
func TestWriteRetries(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	for _, c := range []struct {
		name      string
		failFirst int
		err       error
		wantCalls int32
		wantErr   bool
	}{
		{"serialization failure twice", 2, &pgconn.PgError{Code: "40001"}, 3, false},
		{"deadlock once", 1, fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "40P01"}), 2, false},
		{"serialization failure always", 1000, &pgconn.PgError{Code: "40001"}, 5, true},
		{"another error", 1000, &pgconn.PgError{Code: "23503"}, 1, true},
		{"not found", 1000, db.ErrNotFound, 1, true},
	} {
		var calls atomic.Int32
		err := s.Write(ctx, func(tx db.Tx) error {
			if calls.Add(1) <= int32(c.failFirst) {
				return c.err
			}
			return nil
		})
		if calls.Load() != c.wantCalls || (err != nil) != c.wantErr {
			t.Errorf("%s: %d calls, %v; want %d calls, error %v", c.name, calls.Load(), err, c.wantCalls, c.wantErr)
		}
	}
}

func TestUsersVersion(t *testing.T) {
	s, _ := openStore(t)
	v0, _ := s.UsersVersion()
	u := createUser(t, s, "version@example.org")
	v1, _ := s.UsersVersion()
	if v1 == v0 {
		t.Error("UsersVersion did not move after CreateUser")
	}
	write(t, s, func(ctx context.Context, tx db.Tx) error { return tx.TouchSSHKey(ctx, uuid.NewString(), time.Now()) })
	if v, _ := s.UsersVersion(); v != v1 {
		t.Error("UsersVersion moved after a transaction that wrote no user")
	}
	_ = s.Write(context.Background(), func(tx db.Tx) error {
		if err := tx.SetPassword(context.Background(), u.ID, "new", time.Now()); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if v, _ := s.UsersVersion(); v == v1 {
		t.Error("UsersVersion did not move after a rolled-back write of a user")
	}
}

// A database that refuses writes, as a hot standby does, is reported
// read-only by Health.
func TestHealthReadOnly(t *testing.T) {
	u := pgtest.URL(t)
	ctx := context.Background()
	name := strings.TrimPrefix(mustParse(t, u).Path, "/")
	if _, err := connect(t, u).Exec(ctx, `ALTER DATABASE `+pgx.Identifier{name}.Sanitize()+` SET default_transaction_read_only = on`); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(ctx, postgres.Options{URL: u, SkipMigrations: true, HealthInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if h := s.Health(); h.Cause != db.CauseReadOnly {
		t.Errorf("Health = %v (%v), want %v", h.Cause, h.Err, db.CauseReadOnly)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping of a read-only database: %v", err)
	}
	s.Close()
	if h := s.Health(); h.Cause != db.CauseUnavailable {
		t.Errorf("Health after Close = %v, want %v", h.Cause, db.CauseUnavailable)
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
