package dbtest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// storeTests cover the store itself: health, pools, the users version.
var storeTests = []test{
	{"HealthyWhenFresh", func(t *testing.T, s db.Store) {
		if err := s.Ping(t.Context()); err != nil {
			t.Errorf("Ping: %v", err)
		}
		if h := s.Health(); h.Cause != db.Healthy || h.Err != nil {
			t.Errorf("Health of a fresh store: %v (%v), want healthy", h.Cause, h.Err)
		}
		// Twice: the second answer may be the cached first.
		if h := s.Health(); h.Cause != db.Healthy {
			t.Errorf("Health again: %v (%v), want healthy", h.Cause, h.Err)
		}
	}},
	{"ObserveIgnoresDomainErrors", func(t *testing.T, s db.Store) {
		// Not found, a conflict, a cancelled request: none says anything
		// about the database. (A deadline is left out: an engine may take
		// it for a database that does not answer in time.)
		for _, err := range []error{db.ErrNotFound, db.ErrConflict, context.Canceled,
			fmt.Errorf("select user: %w", db.ErrNotFound), fmt.Errorf("begin: %w", context.Canceled)} {
			s.Observe(err)
		}
		if h := s.Health(); h.Cause != db.Healthy {
			t.Errorf("Health after observing domain errors: %v (%v), want healthy", h.Cause, h.Err)
		}
	}},
	{"EngineAndPools", func(t *testing.T, s db.Store) {
		if s.Engine() == "" {
			t.Error("Engine() is empty")
		}
		pools := s.Pools()
		if len(pools) == 0 {
			t.Fatal("Pools() is empty")
		}
		for i, p := range pools {
			if p.Name == "" {
				t.Errorf("pool %d has no name: %+v", i, p)
			}
			if p.Open < 0 || p.InUse < 0 || p.Idle < 0 || p.InUse+p.Idle > p.Open {
				t.Errorf("pool %q: inconsistent counts %+v", p.Name, p)
			}
		}
	}},
	{"UsersVersionChangesWithUsers", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		// An engine with a listener is listening once Open returns, on a
		// database that lets it connect.
		if _, cacheable := s.UsersVersion(); !cacheable {
			t.Error("UsersVersion: a freshly opened store reports user rows not cacheable")
		}
		u := createUser(t, s, "version@example.org")
		boom := errors.New("boom")
		for _, tc := range []struct {
			name string
			fn   func(tx db.Tx) error
		}{
			{"CreateUser", func(tx db.Tx) error { return tx.CreateUser(ctx, newUser(uuid.NewString()+"@example.org", at(0))) }},
			{"UpdateUser", func(tx db.Tx) error {
				u.FirstName += "x"
				return tx.UpdateUser(ctx, u.User)
			}},
			{"SetPassword", func(tx db.Tx) error { return tx.SetPassword(ctx, u.ID, "new-hash", sec(1)) }},
			{"InvalidateAccessTokens", func(tx db.Tx) error { return tx.InvalidateAccessTokens(ctx, u.ID) }},
			// The version changes when the transaction ends, whatever its
			// outcome.
			{"rolled-back CreateUser", func(tx db.Tx) error {
				if err := tx.CreateUser(ctx, newUser(uuid.NewString()+"@example.org", at(0))); err != nil {
					return err
				}
				return boom
			}},
		} {
			before, _ := s.UsersVersion()
			err := s.Write(ctx, tc.fn)
			if err != nil && !errors.Is(err, boom) {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if after, _ := s.UsersVersion(); after == before {
				t.Errorf("UsersVersion still %d after a Write that ran %s", after, tc.name)
			}
		}
	}},
	{"Close", func(t *testing.T, s db.Store) {
		createUser(t, s, "close@example.org")
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := s.Ping(context.Background()); err == nil {
			t.Error("Ping after Close succeeded")
		}
		if h := s.Health(); h.Cause == db.Healthy {
			t.Error("Health after Close is healthy")
		}
	}},
}

// writeTests cover Write's transaction: atomicity, rollback, isolation.
var writeTests = []test{
	{"RollbackOnError", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		keep := createUser(t, s, "keep@example.org")
		boom := errors.New("boom")
		u := newUser("gone@example.org", at(0))
		r := newRecord(keep.ID, at(0))
		err := s.Write(ctx, func(tx db.Tx) error {
			if err := everyKindOfWrite(ctx, tx, keep, u, r); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Write returned %v, want fn's error", err)
		}
		checkNothingLeft(t, s, keep, u, r)
	}},
	{"RollbackOnPanic", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		keep := createUser(t, s, "keep@example.org")
		u := newUser("gone@example.org", at(0))
		r := newRecord(keep.ID, at(0))
		var err error
		recovered := func() (p any) {
			defer func() { p = recover() }()
			err = s.Write(ctx, func(tx db.Tx) error {
				if err := everyKindOfWrite(ctx, tx, keep, u, r); err != nil {
					return err
				}
				panic("boom")
			})
			return nil
		}()
		// The engine may repanic or turn the panic into an error; it must
		// not commit.
		if recovered == nil && err == nil {
			t.Fatal("Write whose fn panicked returned nil")
		}
		checkNothingLeft(t, s, keep, u, r)
		// And the store still takes writes (no transaction left open).
		createUser(t, s, "after@example.org")
	}},
	{"ErrorOfFnIsReturned", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "dup@example.org")
		err := s.Write(ctx, func(tx db.Tx) error { return tx.CreateUser(ctx, newUser(u.Email, at(0))) })
		wantErr(t, "Write of a duplicate user", err, db.ErrConflict)
		err = s.Write(ctx, func(tx db.Tx) error { return tx.DeleteRecord(ctx, uuid.NewString()) })
		wantErr(t, "Write deleting a missing record", err, db.ErrNotFound)
	}},
	{"CanceledContext", func(t *testing.T, s db.Store) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		u := newUser("cancel@example.org", at(0))
		err := s.Write(ctx, func(tx db.Tx) error { return tx.CreateUser(ctx, u) })
		if err == nil {
			t.Error("Write with a cancelled context returned nil")
		}
		_, err = s.Read().UserByID(t.Context(), u.ID)
		wantErr(t, "user of a cancelled Write", err, db.ErrNotFound)
	}},
	{"TxSeesOwnWrites", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		owner := createUser(t, s, "owner@example.org")
		u := newUser("new@example.org", at(0))
		r1, r2 := newRecord(owner.ID, sec(1)), newRecord(owner.ID, sec(2))
		write(t, s, func(tx db.Tx) error {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if _, err := tx.UserByEmail(ctx, u.Email); err != nil {
				t.Errorf("UserByEmail of a user created in the Tx: %v", err)
			}
			for _, r := range []model.MedicalRecord{r1, r2} {
				if err := tx.CreateRecord(ctx, r); err != nil {
					return err
				}
			}
			// A one-row page of two: the total is the count's.
			page, total, err := tx.ListRecords(ctx, db.RecordFilter{Limit: 1})
			if err != nil || len(page) != 1 || total != 2 {
				t.Errorf("ListRecords in the Tx: %d rows, total %d, %v; want 1 row, total 2", len(page), total, err)
			}
			if err := tx.DeleteRecord(ctx, r1.ID); err != nil {
				return err
			}
			if _, err := tx.RecordByID(ctx, r1.ID); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("RecordByID of a record deleted in the Tx: %v, want ErrNotFound", err)
			}
			return nil
		})
		if _, total, err := s.Read().ListRecords(ctx, db.RecordFilter{Limit: 1, Offset: 5}); err != nil || total != 1 {
			t.Errorf("ListRecords after the Write: total %d, %v; want 1", total, err)
		}
	}},
	{"TxUsableAfterNotFound", func(t *testing.T, s db.Store) {
		// A Tx goes on after a read found nothing (the server does: a
		// rotated token's child may be gone).
		ctx := t.Context()
		u := newUser("after-miss@example.org", at(0))
		write(t, s, func(tx db.Tx) error {
			_, err := tx.UserByID(ctx, uuid.NewString())
			wantErr(t, "UserByID of a missing user", err, db.ErrNotFound)
			_, err = tx.RefreshTokenByID(ctx, uuid.NewString())
			wantErr(t, "RefreshTokenByID of a missing token", err, db.ErrNotFound)
			_, err = tx.ActiveOTP(ctx, uuid.NewString(), t0, 5)
			wantErr(t, "ActiveOTP of a missing user", err, db.ErrNotFound)
			return tx.CreateUser(ctx, u)
		})
		if _, err := s.Read().UserByID(ctx, u.ID); err != nil {
			t.Errorf("user created after a miss in the same Tx: %v", err)
		}
	}},
	{"ReadDoesNotSeeUncommitted", func(t *testing.T, s db.Store) {
		ctx := raceContext(t)
		u := newUser("pending@example.org", at(0))
		inside, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			first := true
			done <- s.Write(ctx, func(tx db.Tx) error {
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				if first { // fn may be retried
					first = false
					close(inside)
					<-release
				}
				return nil
			})
		}()
		select {
		case <-inside:
		case err := <-done:
			t.Fatalf("Write: %v", err)
		}
		_, err := s.Read().UserByID(ctx, u.ID)
		close(release)
		wantErr(t, "Read of a user not yet committed", err, db.ErrNotFound)
		mustErr(t, "Write", <-done, nil)
		_, err = s.Read().UserByID(ctx, u.ID)
		wantErr(t, "Read of the committed user", err, nil)
	}},
}

// everyKindOfWrite writes, in tx, something to every table: a new user u,
// a record r, a changed name of keep, a code, a token, a key and an event.
func everyKindOfWrite(ctx context.Context, tx db.Tx, keep, u db.UserRow, r model.MedicalRecord) error {
	if err := tx.CreateUser(ctx, u); err != nil {
		return err
	}
	if err := tx.CreateRecord(ctx, r); err != nil {
		return err
	}
	keep.FirstName = "Changed"
	if err := tx.UpdateUser(ctx, keep.User); err != nil {
		return err
	}
	if err := tx.SetPassword(ctx, keep.ID, "changed", sec(1)); err != nil {
		return err
	}
	if err := tx.CreateOTP(ctx, db.OTPCode{ID: uuid.NewString(), UserID: keep.ID, Hash: []byte("h"), Created: at(0), ExpiresAt: at(time.Hour)}); err != nil {
		return err
	}
	if err := tx.CreateRefreshToken(ctx, db.RefreshToken{ID: uuid.NewString(), UserID: keep.ID, FamilyID: uuid.NewString(),
		Hash: []byte("rolled-back"), Created: at(0), ExpiresAt: at(time.Hour)}); err != nil {
		return err
	}
	if err := tx.CreateSSHKey(ctx, db.SSHKeyRow{SSHKey: model.SSHKey{ID: uuid.NewString(), Name: "k", Type: "ssh-ed25519",
		Fingerprint: "SHA256:rolled-back", Created: at(0)}, UserID: keep.ID, PublicKey: "ssh-ed25519 AAAA"}); err != nil {
		return err
	}
	return tx.InsertAudit(ctx, model.AuditEvent{ID: uuid.NewString(), At: at(0), ActorID: &keep.ID,
		Action: model.ActionRecordCreate, Entity: model.EntityRecord, EntityID: &r.ID, IP: "192.0.2.1"})
}

// checkNothingLeft fails the test if anything everyKindOfWrite wrote is
// there.
func checkNothingLeft(t *testing.T, s db.Store, keep, u db.UserRow, r model.MedicalRecord) {
	t.Helper()
	ctx := t.Context()
	rd := s.Read()
	if _, err := rd.UserByID(ctx, u.ID); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("user of a rolled-back Write: %v, want ErrNotFound", err)
	}
	if _, err := rd.RecordByID(ctx, r.ID); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("record of a rolled-back Write: %v, want ErrNotFound", err)
	}
	if got, err := rd.UserByID(ctx, keep.ID); err != nil {
		t.Errorf("UserByID: %v", err)
	} else {
		checkUserRow(t, "user changed by a rolled-back Write", got, keep)
	}
	if _, err := rd.ActiveOTP(ctx, keep.ID, t0, 5); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("code of a rolled-back Write: %v, want ErrNotFound", err)
	}
	if _, err := rd.RefreshTokenByHash(ctx, []byte("rolled-back")); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("token of a rolled-back Write: %v, want ErrNotFound", err)
	}
	if _, err := rd.SSHKeyByFingerprint(ctx, "SHA256:rolled-back"); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("key of a rolled-back Write: %v, want ErrNotFound", err)
	}
	// The counters too: a page past the end reports the counted total.
	if rows, total, err := rd.ListRecords(ctx, db.RecordFilter{Limit: 10, Offset: 10}); err != nil || len(rows) != 0 || total != 0 {
		t.Errorf("records after a rolled-back Write: %d rows, total %d, %v; want none", len(rows), total, err)
	}
	for _, f := range []db.AuditFilter{{}, {Action: model.ActionRecordCreate}} {
		f.Limit, f.Offset = 10, 10
		if rows, total, err := rd.ListAudit(ctx, f); err != nil || len(rows) != 0 || total != 0 {
			t.Errorf("audit %+v after a rolled-back Write: %d rows, total %d, %v; want none", f, len(rows), total, err)
		}
	}
}
