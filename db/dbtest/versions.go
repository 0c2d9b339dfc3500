package dbtest

import (
	"errors"
	"testing"
	"time"

	"github.com/anavara/anavara/db"
)

// The row versions behind the API's ETag and If-Match (server/etag.go):
// 1 at creation, one more with every write of what the row's JSON shows.

// errStale is what a conditional write below returns when the version it
// read is not the one it expected, as the server's If-Match check does.
var errStale = errors.New("stale version")

var versionTests = []test{
	{"Record", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "v@example.org")
		r := newRecord(u.ID, sec(1))
		r.Version = 7 // ignored: a new record starts at 1
		createRecords(t, s, r)
		checkRecordVersion(t, s, r.ID, 1)
		for want := int64(2); want <= 3; want++ {
			write(t, s, func(tx db.Tx) error {
				got, err := tx.RecordByID(ctx, r.ID)
				if err != nil {
					return err
				}
				got.Diagnosis += "!"
				got.Updated = got.Updated.Add(time.Second)
				return tx.UpdateRecord(ctx, got)
			})
			checkRecordVersion(t, s, r.ID, want)
		}
		// A rolled-back update bumps nothing.
		err := s.Write(ctx, func(tx db.Tx) error {
			got, err := tx.RecordByID(ctx, r.ID)
			if err != nil {
				return err
			}
			if err := tx.UpdateRecord(ctx, got); err != nil {
				return err
			}
			return errStale
		})
		wantErr(t, "rolled-back update", err, errStale)
		checkRecordVersion(t, s, r.ID, 3)
		list, _, err := s.Read().ListRecords(ctx, db.RecordFilter{UserID: u.ID, Limit: 10})
		mustErr(t, "ListRecords", err, nil)
		if len(list) != 1 || list[0].Version != 3 {
			t.Errorf("ListRecords: %+v, want one record at version 3", list)
		}
	}},
	{"User", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := newUser("vu@example.org", at(0))
		u.Version = 9 // ignored
		write(t, s, func(tx db.Tx) error { return tx.CreateUser(ctx, u) })
		checkUserVersion(t, s, u.ID, 1)
		u.FirstName, u.Updated = "Bea", sec(1)
		write(t, s, func(tx db.Tx) error { return tx.UpdateUser(ctx, u.User) })
		checkUserVersion(t, s, u.ID, 2)
		// A password change sets the updated time the JSON shows.
		write(t, s, func(tx db.Tx) error { return tx.SetPassword(ctx, u.ID, "$argon2id$other", sec(2)) })
		checkUserVersion(t, s, u.ID, 3)
		// Invalidating access tokens changes nothing the API shows.
		write(t, s, func(tx db.Tx) error { return tx.InvalidateAccessTokens(ctx, u.ID) })
		checkUserVersion(t, s, u.ID, 3)
		byEmail, err := s.Read().UserByEmail(ctx, u.Email)
		mustErr(t, "UserByEmail", err, nil)
		if byEmail.Version != 3 {
			t.Errorf("UserByEmail: version %d, want 3", byEmail.Version)
		}
		list, _, err := s.Read().ListUsers(ctx, db.UserFilter{OnlyID: u.ID, Limit: 10})
		mustErr(t, "ListUsers", err, nil)
		if len(list) != 1 || list[0].Version != 3 {
			t.Errorf("ListUsers: %+v, want one user at version 3", list)
		}
	}},
}

var versionRaceTests = []test{
	{"ConditionalRecordUpdates", func(t *testing.T, s db.Store) {
		// What If-Match does: read the row in the transaction (which locks
		// it), compare its version, write. Of n writers that all expect
		// version 1, exactly one may write; every other must see the
		// version that writer left.
		ctx := raceContext(t)
		u := createUser(t, s, "race@example.org")
		r := newRecord(u.ID, sec(1))
		createRecords(t, s, r)
		const n = 8
		errs := concurrently(n, func(i int) error {
			return s.Write(ctx, func(tx db.Tx) error {
				got, err := tx.RecordByID(ctx, r.ID)
				if err != nil {
					return err
				}
				if got.Version != 1 {
					return errStale
				}
				got.Doctor = "Dr. Winner"
				return tx.UpdateRecord(ctx, got)
			})
		})
		ok, by, other := tally(errs, errStale)
		if ok != 1 || by[0] != n-1 || len(other) > 0 {
			t.Errorf("%d conditional updates: %d succeeded, %d stale, other errors %v; want 1 and %d", n, ok, by[0], other, n-1)
		}
		checkRecordVersion(t, s, r.ID, 2)
	}},
	{"ConditionalUserUpdates", func(t *testing.T, s db.Store) {
		ctx := raceContext(t)
		u := createUser(t, s, "urace@example.org")
		const n = 8
		errs := concurrently(n, func(i int) error {
			return s.Write(ctx, func(tx db.Tx) error {
				got, err := tx.UserByID(ctx, u.ID)
				if err != nil {
					return err
				}
				if got.Version != 1 {
					return errStale
				}
				got.LastName = "Winner"
				return tx.UpdateUser(ctx, got.User)
			})
		})
		ok, by, other := tally(errs, errStale)
		if ok != 1 || by[0] != n-1 || len(other) > 0 {
			t.Errorf("%d conditional updates: %d succeeded, %d stale, other errors %v; want 1 and %d", n, ok, by[0], other, n-1)
		}
		checkUserVersion(t, s, u.ID, 2)
	}},
}

// checkRecordVersion fails the test unless the record id is at version want.
func checkRecordVersion(t *testing.T, s db.Store, id string, want int64) {
	t.Helper()
	got, err := s.Read().RecordByID(t.Context(), id)
	mustErr(t, "RecordByID", err, nil)
	if got.Version != want {
		t.Errorf("record version %d, want %d", got.Version, want)
	}
}

// checkUserVersion fails the test unless the user id is at version want.
func checkUserVersion(t *testing.T, s db.Store, id string, want int64) {
	t.Helper()
	got, err := s.Read().UserByID(t.Context(), id)
	mustErr(t, "UserByID", err, nil)
	if got.Version != want {
		t.Errorf("user version %d, want %d", got.Version, want)
	}
}
