package dbtest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
)

// newResetRequest is a request for email made at requested, not yet
// stored.
func newResetRequest(email string, requested time.Time) db.ResetRequest {
	return db.ResetRequest{ID: uuid.NewString(), Email: email, IP: "192.0.2.7", RequestID: uuid.NewString(), RequestedAt: requested}
}

// enqueue stores rs in one transaction.
func enqueue(t *testing.T, s db.Store, rs ...db.ResetRequest) {
	t.Helper()
	write(t, s, func(tx db.Tx) error {
		for _, r := range rs {
			if err := tx.EnqueueResetRequest(t.Context(), r); err != nil {
				return err
			}
		}
		return nil
	})
}

// claim claims up to limit requests at now with lease and returns them.
func claim(t *testing.T, s db.Store, now time.Time, lease time.Duration, limit int) []db.ResetRequest {
	t.Helper()
	var got []db.ResetRequest
	write(t, s, func(tx db.Tx) error {
		var err error
		got, err = tx.ClaimResetRequests(t.Context(), now, lease, limit)
		return err
	})
	return got
}

// checkResetRequest fails the test unless got is want, claimed attempts
// times with the lease until until.
func checkResetRequest(t *testing.T, what string, got, want db.ResetRequest, attempts int, until time.Time) {
	t.Helper()
	if got.ID != want.ID || got.Email != want.Email || got.IP != want.IP || got.RequestID != want.RequestID || got.Attempts != attempts {
		t.Errorf("%s: %+v\nwant %+v with %d attempts", what, got, want, attempts)
	}
	checkTime(t, what+" requested", got.RequestedAt, want.RequestedAt)
	checkOptTime(t, what+" claimed until", got.ClaimedUntil, &until)
}

func resetRequestID(r db.ResetRequest) string { return r.ID }

var resetRequestTests = []test{
	{"ClaimOldestFirstWithALease", func(t *testing.T, s db.Store) {
		a, b, c := newResetRequest("a@example.org", sec(2)), newResetRequest("b@example.org", sec(0)), newResetRequest("c@example.org", sec(1))
		// What a caller sets in Attempts and ClaimedUntil is not stored.
		a.Attempts, a.ClaimedUntil = 7, ptr(sec(3600))
		enqueue(t, s, a, b, c)
		a.Attempts, a.ClaimedUntil = 0, nil
		now, lease := sec(10), time.Minute
		due := func(at time.Time, want bool) {
			t.Helper()
			got, err := s.Read().ResetRequestsDue(t.Context(), at)
			if err != nil || got != want {
				t.Errorf("ResetRequestsDue at %v: %v, %v; want %v", at, got, err, want)
			}
		}
		due(now, true)
		got := claim(t, s, now, lease, 2)
		checkIDs(t, "first claim", ids(got, resetRequestID), []string{b.ID, c.ID})
		if len(got) == 2 {
			checkResetRequest(t, "first claimed", got[0], b, 1, now.Add(lease))
			checkResetRequest(t, "second claimed", got[1], c, 1, now.Add(lease))
		}
		// The leased ones are skipped until their lease has run out.
		got = claim(t, s, now, lease, 10)
		checkIDs(t, "second claim", ids(got, resetRequestID), []string{a.ID})
		if len(got) == 1 {
			checkResetRequest(t, "a", got[0], a, 1, now.Add(lease))
		}
		due(now.Add(lease), false)
		checkIDs(t, "claim with everything leased", ids(claim(t, s, now.Add(lease), lease, 10), resetRequestID), nil)
		later := now.Add(lease + time.Microsecond)
		due(later, true)
		got = claim(t, s, later, lease, 10)
		checkIDs(t, "claim once the leases ran out", ids(got, resetRequestID), []string{b.ID, c.ID, a.ID})
		if len(got) == 3 {
			checkResetRequest(t, "b reclaimed", got[0], b, 2, later.Add(lease))
		}
	}},
	{"DeleteResetRequest", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		a, b := newResetRequest("a@example.org", sec(0)), newResetRequest("b@example.org", sec(1))
		enqueue(t, s, a, b)
		write(t, s, func(tx db.Tx) error { return tx.DeleteResetRequest(ctx, a.ID) })
		// Gone already, or never there: no error.
		for _, id := range []string{a.ID, uuid.NewString(), "not-a-uuid"} {
			write(t, s, func(tx db.Tx) error { return tx.DeleteResetRequest(ctx, id) })
		}
		checkIDs(t, "claim after the delete", ids(claim(t, s, sec(5), time.Minute, 10), resetRequestID), []string{b.ID})
		write(t, s, func(tx db.Tx) error { return tx.DeleteResetRequest(ctx, b.ID) })
		if due, err := s.Read().ResetRequestsDue(ctx, sec(3600)); err != nil || due {
			t.Errorf("ResetRequestsDue of an empty outbox: %v, %v; want false", due, err)
		}
	}},
	{"RolledBackClaimLeavesTheRequests", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		a := newResetRequest("a@example.org", sec(0))
		enqueue(t, s, a)
		failed := errors.New("worker failed")
		err := s.Write(ctx, func(tx db.Tx) error {
			got, err := tx.ClaimResetRequests(ctx, sec(5), time.Minute, 10)
			if err != nil || len(got) != 1 {
				t.Errorf("claim in the rolled-back transaction: %d requests, %v", len(got), err)
			}
			return failed
		})
		wantErr(t, "Write", err, failed)
		got := claim(t, s, sec(5), time.Minute, 10)
		checkIDs(t, "claim after the rollback", ids(got, resetRequestID), []string{a.ID})
		if len(got) == 1 {
			checkResetRequest(t, "a", got[0], a, 1, sec(5).Add(time.Minute))
		}
	}},
}
