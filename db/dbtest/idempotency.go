package dbtest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
)

// newIdempotencyKey is a pending claim of key by accountID on POST
// /api/medical-records made at created, with a day to live and a minute's
// lease, not yet stored.
func newIdempotencyKey(accountID, key string, created time.Time) db.IdempotencyKey {
	hash := sha256.Sum256([]byte("request " + key))
	return db.IdempotencyKey{
		AccountID: accountID, Method: "POST", Path: "/api/medical-records", Key: key,
		ClaimID: uuid.NewString(), RequestHash: hash[:],
		Created: created, Expires: created.Add(24 * time.Hour), LeaseUntil: created.Add(time.Minute),
	}
}

// claimKey claims k at now and returns the row stored and whether k
// claimed it.
func claimKey(t *testing.T, s db.Store, k db.IdempotencyKey, now time.Time) (db.IdempotencyKey, bool) {
	t.Helper()
	var got db.IdempotencyKey
	var claimed bool
	write(t, s, func(tx db.Tx) error {
		var err error
		got, claimed, err = tx.ClaimIdempotencyKey(t.Context(), k, now)
		return err
	})
	return got, claimed
}

// checkIdemKey fails the test unless got is the claim want, with response.
func checkIdemKey(t *testing.T, what string, got, want db.IdempotencyKey, response *db.IdempotentResponse) {
	t.Helper()
	if got.AccountID != want.AccountID || got.Method != want.Method || got.Path != want.Path || got.Key != want.Key ||
		got.ClaimID != want.ClaimID || !bytes.Equal(got.RequestHash, want.RequestHash) {
		t.Errorf("%s: %+v\nwant %+v", what, got, want)
	}
	checkTime(t, what+" created", got.Created, want.Created)
	checkTime(t, what+" expires", got.Expires, want.Expires)
	checkTime(t, what+" lease", got.LeaseUntil, want.LeaseUntil)
	switch {
	case response == nil && got.Response != nil:
		t.Errorf("%s: response %+v, want none (pending)", what, *got.Response)
	case response != nil && got.Response == nil:
		t.Errorf("%s: no response, want %+v", what, *response)
	case response != nil:
		g, w := *got.Response, *response
		if g.Status != w.Status || g.ContentType != w.ContentType || g.Location != w.Location || g.ETag != w.ETag ||
			!bytes.Equal(g.Body, w.Body) || g.Withheld != w.Withheld || (w.Withheld && g.Body != nil) {
			t.Errorf("%s: response %+v, want %+v", what, g, w)
		}
	}
}

// completeKey stores r as the response of claimID.
func completeKey(t *testing.T, s db.Store, claimID string, r db.IdempotentResponse) error {
	t.Helper()
	return s.Write(t.Context(), func(tx db.Tx) error { return tx.CompleteIdempotencyKey(t.Context(), claimID, r) })
}

// readKey reads k's row outside any transaction.
func readKey(t *testing.T, s db.Store, k db.IdempotencyKey) (db.IdempotencyKey, error) {
	t.Helper()
	return s.Read().IdempotencyKeyOf(t.Context(), k.AccountID, k.Method, k.Path, k.Key)
}

var created201 = db.IdempotentResponse{Status: 201, ContentType: "application/json", Location: "/api/medical-records/x", ETag: `"1"`, Body: []byte(`{"id":"x"}`)}

var idempotencyTests = []test{
	{"ClaimCompleteReplay", func(t *testing.T, s db.Store) {
		u := createUser(t, s, "idem@example.org")
		k := newIdempotencyKey(u.ID, "key-1", sec(0))
		if _, err := readKey(t, s, k); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("IdempotencyKeyOf before any claim: %v, want ErrNotFound", err)
		}
		got, claimed := claimKey(t, s, k, sec(0))
		if !claimed {
			t.Fatal("the first claim did not claim the key")
		}
		checkIdemKey(t, "claimed", got, k, nil)
		stored, err := readKey(t, s, k)
		if err != nil {
			t.Fatal(err)
		}
		checkIdemKey(t, "stored pending", stored, k, nil)

		// A second claim while the first runs gets the pending row.
		other := newIdempotencyKey(u.ID, "key-1", sec(1))
		got, claimed = claimKey(t, s, other, sec(1))
		if claimed {
			t.Fatal("a second claim took a key whose claim runs")
		}
		checkIdemKey(t, "pending, claimed again", got, k, nil)

		if err := completeKey(t, s, k.ClaimID, created201); err != nil {
			t.Fatal(err)
		}
		got, claimed = claimKey(t, s, other, sec(100))
		if claimed {
			t.Fatal("a claim took a completed key")
		}
		checkIdemKey(t, "completed, claimed again past the lease", got, k, &created201)
		// Completing twice is refused: the response stays the first.
		wantErr(t, "CompleteIdempotencyKey twice", completeKey(t, s, k.ClaimID, db.IdempotentResponse{Status: 500}), db.ErrNotFound)
		wantErr(t, "CompleteIdempotencyKey of another claim", completeKey(t, s, other.ClaimID, created201), db.ErrNotFound)
		stored, _ = readKey(t, s, k)
		checkIdemKey(t, "after refused completions", stored, k, &created201)
	}},
	{"Scopes", func(t *testing.T, s db.Store) {
		// One key of two accounts, and of one account on two routes, is
		// three keys.
		a, b := createUser(t, s, "a@example.org"), createUser(t, s, "b@example.org")
		ka, kb, kp := newIdempotencyKey(a.ID, "same", sec(0)), newIdempotencyKey(b.ID, "same", sec(0)), newIdempotencyKey(a.ID, "same", sec(0))
		kp.Path = "/api/users"
		for _, k := range []db.IdempotencyKey{ka, kb, kp} {
			if _, claimed := claimKey(t, s, k, sec(0)); !claimed {
				t.Errorf("claim of %s %s by %s: not claimed", k.Path, k.Key, k.AccountID)
			}
		}
	}},
	{"ReleaseLetsTheKeyRunAgain", func(t *testing.T, s db.Store) {
		u := createUser(t, s, "release@example.org")
		k := newIdempotencyKey(u.ID, "k", sec(0))
		claimKey(t, s, k, sec(0))
		write(t, s, func(tx db.Tx) error { return tx.ReleaseIdempotencyKey(t.Context(), k.ClaimID) })
		if _, err := readKey(t, s, k); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("after release: %v, want ErrNotFound", err)
		}
		// Releasing again, or a claim that never was, is no error.
		write(t, s, func(tx db.Tx) error { return tx.ReleaseIdempotencyKey(t.Context(), k.ClaimID) })
		write(t, s, func(tx db.Tx) error { return tx.ReleaseIdempotencyKey(t.Context(), "not-a-uuid") })
		again := newIdempotencyKey(u.ID, "k", sec(1))
		if _, claimed := claimKey(t, s, again, sec(1)); !claimed {
			t.Fatal("a released key could not be claimed again")
		}
		// A completed row is not released: its response stays.
		if err := completeKey(t, s, again.ClaimID, created201); err != nil {
			t.Fatal(err)
		}
		write(t, s, func(tx db.Tx) error { return tx.ReleaseIdempotencyKey(t.Context(), again.ClaimID) })
		stored, err := readKey(t, s, again)
		if err != nil {
			t.Fatal(err)
		}
		checkIdemKey(t, "completed, then released", stored, again, &created201)
	}},
	{"WithheldAndEmptyBodies", func(t *testing.T, s db.Store) {
		u := createUser(t, s, "withheld@example.org")
		withheld := db.IdempotentResponse{Status: 201, ContentType: "application/json", Body: []byte("secret"), Withheld: true}
		empty := db.IdempotentResponse{Status: 204}
		for i, r := range []db.IdempotentResponse{withheld, empty} {
			k := newIdempotencyKey(u.ID, "k"+itoa(i), sec(0))
			claimKey(t, s, k, sec(0))
			if err := completeKey(t, s, k.ClaimID, r); err != nil {
				t.Fatal(err)
			}
			stored, err := readKey(t, s, k)
			if err != nil {
				t.Fatal(err)
			}
			want := r
			if r.Withheld {
				want.Body = nil // never stored
			}
			checkIdemKey(t, "stored", stored, k, &want)
		}
	}},
	{"ExpiredAndAbandonedRowsAreReplaced", func(t *testing.T, s db.Store) {
		u := createUser(t, s, "expired@example.org")
		// A completed row binds its key until it expires, however old.
		done := newIdempotencyKey(u.ID, "done", sec(0))
		claimKey(t, s, done, sec(0))
		if err := completeKey(t, s, done.ClaimID, created201); err != nil {
			t.Fatal(err)
		}
		late := newIdempotencyKey(u.ID, "done", done.Expires.Add(-time.Microsecond))
		if _, claimed := claimKey(t, s, late, late.Created); claimed {
			t.Fatal("a claim took a completed key before it expired")
		}
		late = newIdempotencyKey(u.ID, "done", done.Expires)
		got, claimed := claimKey(t, s, late, late.Created)
		if !claimed {
			t.Fatal("a claim did not take an expired key")
		}
		checkIdemKey(t, "expired, claimed again", got, late, nil)
		stored, _ := readKey(t, s, late)
		checkIdemKey(t, "stored after the new claim", stored, late, nil)
		// The old claim can no longer complete it.
		wantErr(t, "CompleteIdempotencyKey of the expired claim", completeKey(t, s, done.ClaimID, created201), db.ErrNotFound)

		// A pending row whose lease ran out is abandoned: taken over.
		pending := newIdempotencyKey(u.ID, "pending", sec(0))
		claimKey(t, s, pending, sec(0))
		if _, claimed := claimKey(t, s, newIdempotencyKey(u.ID, "pending", sec(1)), pending.LeaseUntil.Add(-time.Microsecond)); claimed {
			t.Fatal("a claim took a pending key within its lease")
		}
		takeover := newIdempotencyKey(u.ID, "pending", pending.LeaseUntil)
		if _, claimed := claimKey(t, s, takeover, pending.LeaseUntil); !claimed {
			t.Fatal("a claim did not take a pending key whose lease ran out")
		}
		wantErr(t, "CompleteIdempotencyKey of the abandoned claim", completeKey(t, s, pending.ClaimID, created201), db.ErrNotFound)
		write(t, s, func(tx db.Tx) error { return tx.ReleaseIdempotencyKey(t.Context(), pending.ClaimID) })
		if stored, err := readKey(t, s, takeover); err != nil || stored.ClaimID != takeover.ClaimID {
			t.Fatalf("the abandoned claim's release touched the new claim: %+v, %v", stored, err)
		}
	}},
	{"DeleteExpired", func(t *testing.T, s db.Store) {
		u := createUser(t, s, "prune@example.org")
		var keys []db.IdempotencyKey
		for i := range 5 {
			k := newIdempotencyKey(u.ID, "k"+itoa(i), sec(i))
			claimKey(t, s, k, k.Created)
			keys = append(keys, k)
		}
		// At the third's expiry, the first three have expired: two at a
		// time, oldest first.
		now := keys[2].Expires
		var n int64
		write(t, s, func(tx db.Tx) (err error) { n, err = tx.DeleteExpiredIdempotencyKeys(t.Context(), now, 2); return err })
		if n != 2 {
			t.Fatalf("DeleteExpiredIdempotencyKeys deleted %d, want 2", n)
		}
		for i, k := range keys {
			_, err := readKey(t, s, k)
			if gone := errors.Is(err, db.ErrNotFound); gone != (i < 2) {
				t.Errorf("key %d: %v after the first pruning", i, err)
			}
		}
		write(t, s, func(tx db.Tx) (err error) {
			n, err = tx.DeleteExpiredIdempotencyKeys(t.Context(), now, 100)
			return err
		})
		if n != 1 {
			t.Fatalf("DeleteExpiredIdempotencyKeys deleted %d, want 1", n)
		}
		write(t, s, func(tx db.Tx) (err error) {
			n, err = tx.DeleteExpiredIdempotencyKeys(t.Context(), now, 100)
			return err
		})
		if n != 0 {
			t.Fatalf("DeleteExpiredIdempotencyKeys deleted %d again, want 0", n)
		}
		for i, k := range keys {
			_, err := readKey(t, s, k)
			if gone := errors.Is(err, db.ErrNotFound); gone != (i < 3) {
				t.Errorf("key %d: %v after the second pruning", i, err)
			}
		}
	}},
	{"MalformedAccount", func(t *testing.T, s db.Store) {
		k := newIdempotencyKey("not-a-uuid", "k", sec(0))
		if _, err := readKey(t, s, k); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("IdempotencyKeyOf a malformed account: %v, want ErrNotFound", err)
		}
	}},
}

// idempotencyRaceTests claim one key from many transactions at once.
var idempotencyRaceTests = []test{
	{"OneClaimWins", func(t *testing.T, s db.Store) {
		ctx := raceContext(t)
		u := createUser(t, s, "race@example.org")
		const claimers = 8
		var wg sync.WaitGroup
		claims := make([]bool, claimers)
		held := make([]string, claimers)
		errs := make([]error, claimers)
		start := make(chan struct{})
		for i := range claimers {
			wg.Go(func() {
				<-start
				k := newIdempotencyKey(u.ID, "contended", sec(0))
				errs[i] = s.Write(ctx, func(tx db.Tx) error {
					got, claimed, err := tx.ClaimIdempotencyKey(ctx, k, sec(0))
					claims[i], held[i] = claimed, got.ClaimID
					return err
				})
			})
		}
		close(start)
		wg.Wait()
		winners := 0
		for i := range claimers {
			if errs[i] != nil {
				t.Fatalf("claimer %d: %v", i, errs[i])
			}
			if claims[i] {
				winners++
			}
			if held[i] != held[0] {
				t.Errorf("claimer %d saw claim %s, claimer 0 %s", i, held[i], held[0])
			}
		}
		if winners != 1 {
			t.Fatalf("%d claims won, want exactly 1", winners)
		}
	}},
}
