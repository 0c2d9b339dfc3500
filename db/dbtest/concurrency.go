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

// Every Write below ends in nil or the domain error the test expects:
// an engine retries its own serialization failures (Store.Write), so
// anything else fails the test.

const maxOTPAttempts = 5

// raceContext bounds a concurrency test, so that writers stuck on each
// other fail it rather than hang the test binary.
func raceContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

var concurrencyTests = []test{
	{"ClaimResetRequests", func(t *testing.T, s db.Store) {
		// Eight workers drain one outbox together, a few requests a
		// claim: each request is claimed once, by one of them.
		ctx := raceContext(t)
		const requests, workers = 40, 8
		var all []db.ResetRequest
		for i := range requests {
			all = append(all, newResetRequest("r"+itoa(i)+"@example.org", sec(i)))
		}
		enqueue(t, s, all...)
		claimed := make([][]string, workers)
		errs := concurrently(workers, func(i int) error {
			for {
				var got []db.ResetRequest
				if err := s.Write(ctx, func(tx db.Tx) error {
					var err error
					got, err = tx.ClaimResetRequests(ctx, sec(requests), time.Minute, 3)
					return err
				}); err != nil || len(got) == 0 {
					return err
				}
				for _, r := range got {
					if r.Attempts != 1 {
						return fmt.Errorf("request %s claimed with %d attempts, want 1", r.Email, r.Attempts)
					}
					claimed[i] = append(claimed[i], r.ID)
				}
			}
		})
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		times := map[string]int{}
		for _, ids := range claimed {
			for _, id := range ids {
				times[id]++
			}
		}
		for _, r := range all {
			if times[r.ID] != 1 {
				t.Errorf("request %s claimed %d times, want once", r.Email, times[r.ID])
			}
		}
	}},
	{"CreateOTPOutOfOrder", func(t *testing.T, s db.Store) {
		// Eight requests of one account issued at once, in no order: the
		// newest request's code is the one code left to use.
		ctx := raceContext(t)
		u := createUser(t, s, "race@example.org")
		const n = 8
		codes := make([]db.OTPCode, n)
		for i := range codes {
			codes[i] = newOTP(u.ID, sec(i))
		}
		errs := concurrently(n, func(i int) error {
			return s.Write(ctx, func(tx db.Tx) error { return tx.CreateOTP(ctx, codes[i]) })
		})
		ok, superseded, other := tally(errs, db.ErrSuperseded)
		if len(other) > 0 || ok+superseded[0] != n || errs[n-1] != nil {
			t.Fatalf("%d issued, %d superseded, other errors %v; the newest: %v", ok, superseded[0], other, errs[n-1])
		}
		got, err := s.Read().ActiveOTP(ctx, u.ID, sec(n), maxOTPAttempts)
		if err != nil || got.ID != codes[n-1].ID {
			t.Fatalf("ActiveOTP: %s, %v; want the newest code %s", got.ID, err, codes[n-1].ID)
		}
		write(t, s, func(tx db.Tx) error { return tx.UseOTP(ctx, got.ID, sec(n)) })
		_, err = s.Read().ActiveOTP(ctx, u.ID, sec(n), maxOTPAttempts)
		wantErr(t, "ActiveOTP once the newest code is used: an older one still valid", err, db.ErrNotFound)
	}},
	{"WrongOTPGuesses", func(t *testing.T, s db.Store) {
		ctx := raceContext(t)
		u := createUser(t, s, "guess@example.org")
		// Three rounds, each on a new code: a race that locks nothing
		// may well let through only one guess too many.
		for round := range 3 {
			c := newOTP(u.ID, at(time.Duration(round)*time.Second))
			createOTP(t, s, c)
			wrongGuesses(t, s, ctx, u.ID)
		}
	}},
	{"RefreshOneToken", func(t *testing.T, s db.Store) {
		ctx := raceContext(t)
		u := createUser(t, s, "refresh@example.org")
		parent := newRefreshToken(u.ID, uuid.NewString(), at(0))
		createTokens(t, s, parent)
		const n = 16
		children := make([]db.RefreshToken, n)
		for i := range children {
			children[i] = newRefreshToken(u.ID, parent.FamilyID, at(time.Second))
		}
		errs := concurrently(n, func(i int) error {
			return s.Write(ctx, func(tx db.Tx) error {
				rt, err := tx.RefreshTokenByHash(ctx, parent.Hash)
				if err != nil {
					return err
				}
				if rt.UsedAt != nil || rt.RevokedAt != nil {
					return db.ErrConflict
				}
				if err := tx.CreateRefreshToken(ctx, children[i]); err != nil {
					return err
				}
				return tx.MarkRefreshTokenUsed(ctx, rt.ID, at(time.Second), []byte{byte(i)}, children[i].ID)
			})
		})
		ok, by, other := tally(errs, db.ErrConflict)
		if ok != 1 || by[0] != n-1 || len(other) > 0 {
			t.Errorf("%d concurrent refreshes: %d succeeded, %d conflicts, other errors %v; want 1 and %d", n, ok, by[0], other, n-1)
		}
		var stored []int
		for i, c := range children {
			if _, err := s.Read().RefreshTokenByHash(ctx, c.Hash); err == nil {
				stored = append(stored, i)
			} else if !errors.Is(err, db.ErrNotFound) {
				t.Errorf("child %d: %v", i, err)
			}
		}
		if len(stored) != 1 {
			t.Fatalf("children stored: %v, want exactly one", stored)
		}
		winner := stored[0]
		if errs[winner] != nil {
			t.Errorf("the child stored is #%d's, whose Write failed: %v", winner, errs[winner])
		}
		got, err := s.Read().RefreshTokenByID(ctx, parent.ID)
		mustErr(t, "RefreshTokenByID", err, nil)
		if got.ChildID != children[winner].ID || len(got.RotatedBy) != 1 || got.RotatedBy[0] != byte(winner) {
			t.Errorf("parent rotated into %s by %x, want %s by %x", got.ChildID, got.RotatedBy, children[winner].ID, []byte{byte(winner)})
		}
	}},
	{"ReadModifyWriteOfOneRecord", func(t *testing.T, s db.Store) {
		ctx := raceContext(t)
		u := createUser(t, s, "rmw@example.org")
		r := newRecord(u.ID, at(0))
		createRecords(t, s, r)
		for round := range 20 {
			diagnosis, treatment := fmt.Sprintf("diagnosis %d", round), fmt.Sprintf("treatment %d", round)
			errs := concurrently(2, func(i int) error {
				return s.Write(ctx, func(tx db.Tx) error {
					r, err := tx.RecordByID(ctx, r.ID)
					if err != nil {
						return err
					}
					if i == 0 {
						r.Diagnosis = diagnosis
					} else {
						r.Treatment = treatment
					}
					r.Updated = at(time.Duration(round) * time.Second)
					return tx.UpdateRecord(ctx, r)
				})
			})
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d, writer %d: %v", round, i, err)
				}
			}
			got, err := s.Read().RecordByID(ctx, r.ID)
			mustErr(t, "RecordByID", err, nil)
			if got.Diagnosis != diagnosis || got.Treatment != treatment {
				t.Fatalf("round %d: diagnosis %q, treatment %q; want %q, %q: an update was lost", round, got.Diagnosis, got.Treatment, diagnosis, treatment)
			}
		}
	}},
	{"ReadModifyWriteOfOneUser", func(t *testing.T, s db.Store) {
		ctx := raceContext(t)
		u := createUser(t, s, "rmw-user@example.org")
		for round := range 20 {
			first, last := fmt.Sprintf("First %d", round), fmt.Sprintf("Last %d", round)
			errs := concurrently(2, func(i int) error {
				return s.Write(ctx, func(tx db.Tx) error {
					row, err := tx.UserByID(ctx, u.ID)
					if err != nil {
						return err
					}
					if i == 0 {
						row.FirstName = first
					} else {
						row.LastName = last
					}
					row.Updated = at(time.Duration(round) * time.Second)
					return tx.UpdateUser(ctx, row.User)
				})
			})
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d, writer %d: %v", round, i, err)
				}
			}
			got, err := s.Read().UserByID(ctx, u.ID)
			mustErr(t, "UserByID", err, nil)
			if got.FirstName != first || got.LastName != last {
				t.Fatalf("round %d: names %q %q; want %q %q: an update was lost", round, got.FirstName, got.LastName, first, last)
			}
		}
	}},
	{"OneWinner", testOneWinner},
	{"MixedWrites", testMixedWrites},
}

// race is a case of testOneWinner.
type race struct {
	name string
	// n writers race.
	n int
	// setup prepares the store and returns what writer i runs in its Tx.
	setup func(t *testing.T) func(i int, tx db.Tx) error
	// loser is the error every writer but the winner gets.
	loser error
	// check checks the state after writer winner won.
	check func(t *testing.T, winner int)
}

// wrongGuesses makes 20 concurrent wrong guesses of the user's active
// code. Each checks that the code still has attempts left, then counts
// one: no more than the maximum may get through.
func wrongGuesses(t *testing.T, s db.Store, ctx context.Context, userID string) {
	t.Helper()
	errs := concurrently(20, func(int) error {
		return s.Write(ctx, func(tx db.Tx) error {
			c, err := tx.ActiveOTP(ctx, userID, t0.Add(time.Minute), maxOTPAttempts)
			if err != nil {
				return err
			}
			return tx.CountOTPAttempt(ctx, c.ID)
		})
	})
	ok, by, other := tally(errs, db.ErrNotFound)
	if ok != maxOTPAttempts || by[0] != len(errs)-maxOTPAttempts || len(other) > 0 {
		t.Errorf("20 concurrent wrong guesses: %d counted, %d refused, other errors %v; want %d counted, the rest ErrNotFound",
			ok, by[0], other, maxOTPAttempts)
	}
	_, err := s.Read().ActiveOTP(ctx, userID, t0.Add(time.Minute), maxOTPAttempts)
	wantErr(t, "ActiveOTP after the guesses", err, db.ErrNotFound)
	got, err := s.Read().ActiveOTP(ctx, userID, t0.Add(time.Minute), 1000)
	if err != nil || got.Attempts != maxOTPAttempts {
		t.Errorf("the code's attempts: %d, %v; want %d", got.Attempts, err, maxOTPAttempts)
	}
}

// testOneWinner races many writers for one unique thing: exactly one wins,
// every other gets the domain error, and the state shows one change.
func testOneWinner(t *testing.T, s db.Store) {
	ctx := raceContext(t)
	for _, tc := range []race{
		func() (tc race) {
			var us []db.UserRow
			tc.name, tc.n, tc.loser = "CreateUser with one email", 20, db.ErrConflict
			tc.setup = func(t *testing.T) func(int, db.Tx) error {
				for range tc.n {
					us = append(us, newUser("same@example.org", at(0)))
				}
				return func(i int, tx db.Tx) error { return tx.CreateUser(ctx, us[i]) }
			}
			tc.check = func(t *testing.T, winner int) {
				got, err := s.Read().UserByEmail(ctx, "same@example.org")
				if err != nil || got.ID != us[winner].ID {
					t.Errorf("UserByEmail: %s, %v; want the winner %s", got.ID, err, us[winner].ID)
				}
				if _, total, err := s.Read().ListUsers(ctx, db.UserFilter{Search: "same@example.org", Limit: 100}); err != nil || total != 1 {
					t.Errorf("users with the email: %d, %v; want 1", total, err)
				}
			}
			return tc
		}(),
		func() (tc race) {
			var ks []db.SSHKeyRow
			tc.name, tc.n, tc.loser = "CreateSSHKey with one fingerprint", 16, db.ErrConflict
			tc.setup = func(t *testing.T) func(int, db.Tx) error {
				u := createUser(t, s, "keys@example.org")
				for range tc.n {
					k := newSSHKey(u.ID, at(0))
					k.Fingerprint = "SHA256:raced"
					ks = append(ks, k)
				}
				return func(i int, tx db.Tx) error { return tx.CreateSSHKey(ctx, ks[i]) }
			}
			tc.check = func(t *testing.T, winner int) {
				checkKeyRow(t, s, "the winner's key", ks[winner])
				if keys, err := s.Read().SSHKeysOf(ctx, ks[0].UserID); err != nil || len(keys) != 1 {
					t.Errorf("SSHKeysOf: %d keys, %v; want 1", len(keys), err)
				}
			}
			return tc
		}(),
		func() (tc race) {
			var c db.OTPCode
			tc.name, tc.n, tc.loser = "UseOTP of one code", 16, db.ErrConflict
			tc.setup = func(t *testing.T) func(int, db.Tx) error {
				c = newOTP(createUser(t, s, "use@example.org").ID, at(0))
				createOTP(t, s, c)
				return func(i int, tx db.Tx) error {
					if err := tx.UseOTP(ctx, c.ID, at(time.Duration(i+1)*time.Second)); err != nil {
						return err
					}
					// What the server does next, in the same transaction.
					return tx.SetPassword(ctx, c.UserID, fmt.Sprint("hash ", i), at(time.Duration(i+1)*time.Second))
				}
			}
			tc.check = func(t *testing.T, winner int) {
				got, err := s.Read().UserByID(ctx, c.UserID)
				if err != nil || got.PasswordHash != fmt.Sprint("hash ", winner) || got.TokenVersion != 1 {
					t.Errorf("user after the race: hash %q, token version %d, %v; want %q, 1", got.PasswordHash, got.TokenVersion, err, fmt.Sprint("hash ", winner))
				}
			}
			return tc
		}(),
		func() (tc race) {
			var rt db.RefreshToken
			tc.name, tc.n, tc.loser = "UseRefreshGrace of one token", 16, db.ErrConflict
			tc.setup = func(t *testing.T) func(int, db.Tx) error {
				rt = newRefreshToken(createUser(t, s, "grace@example.org").ID, uuid.NewString(), at(0))
				createTokens(t, s, rt)
				write(t, s, func(tx db.Tx) error {
					return tx.MarkRefreshTokenUsed(ctx, rt.ID, at(0), []byte("fp"), uuid.NewString())
				})
				return func(i int, tx db.Tx) error { return tx.UseRefreshGrace(ctx, rt.ID, at(time.Duration(i+1)*time.Second)) }
			}
			tc.check = func(t *testing.T, winner int) {
				got, err := s.Read().RefreshTokenByID(ctx, rt.ID)
				if err != nil || got.GraceUsedAt == nil || !sameTime(*got.GraceUsedAt, at(time.Duration(winner+1)*time.Second)) {
					t.Errorf("grace used at %v, %v; want the winner's time", got.GraceUsedAt, err)
				}
			}
			return tc
		}(),
		func() (tc race) {
			var r model.MedicalRecord
			tc.name, tc.n, tc.loser = "DeleteRecord of one record", 16, db.ErrNotFound
			tc.setup = func(t *testing.T) func(int, db.Tx) error {
				u := createUser(t, s, "delete@example.org")
				r = newRecord(u.ID, at(0))
				createRecords(t, s, r, newRecord(u.ID, sec(1)), newRecord(u.ID, sec(2)))
				return func(i int, tx db.Tx) error {
					if err := tx.DeleteRecord(ctx, r.ID); err != nil {
						return err
					}
					return tx.InsertAudit(ctx, model.AuditEvent{ID: uuid.NewString(), At: at(time.Second), ActorID: &u.ID,
						Action: model.ActionRecordDelete, Entity: model.EntityRecord, EntityID: &r.ID, IP: "::1"})
				}
			}
			tc.check = func(t *testing.T, winner int) {
				checkRecordTotals(t, s, db.RecordFilter{}, 2)
				checkAuditTotals(t, s, db.AuditFilter{Action: model.ActionRecordDelete}, 1)
				checkAuditTotals(t, s, db.AuditFilter{EntityID: r.ID}, 1)
			}
			return tc
		}(),
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn := tc.setup(t)
			errs := concurrently(tc.n, func(i int) error {
				return s.Write(ctx, func(tx db.Tx) error { return fn(i, tx) })
			})
			ok, by, other := tally(errs, tc.loser)
			if ok != 1 || by[0] != tc.n-1 || len(other) > 0 {
				t.Fatalf("%d at once: %d succeeded, %d got %v, other errors %v; want 1 and %d", tc.n, ok, by[0], tc.loser, other, tc.n-1)
			}
			for i, err := range errs {
				if err == nil {
					tc.check(t, i)
				}
			}
		})
	}
}

// testMixedWrites runs creates, deletes and audit events from many
// goroutines at once; afterwards every total (the counted ones included)
// equals the rows there are.
func testMixedWrites(t *testing.T, s db.Store) {
	ctx := raceContext(t)
	const workers = 20
	users := []db.UserRow{createUser(t, s, "m1@example.org"), createUser(t, s, "m2@example.org"), createUser(t, s, "m3@example.org")}
	audit := func(tx db.Tx, u db.UserRow, action, recordID string) error {
		return tx.InsertAudit(ctx, model.AuditEvent{ID: uuid.NewString(), At: at(time.Duration(len(action)) * time.Millisecond), ActorID: &u.ID,
			Action: action, Entity: model.EntityRecord, EntityID: &recordID, IP: "198.51.100.1"})
	}
	// Half of the workers' records exist beforehand; each is deleted by
	// two workers, of which one finds it gone.
	var pre []model.MedicalRecord
	for i := range workers / 2 {
		pre = append(pre, newRecord(users[i%len(users)].ID, at(time.Duration(i)*time.Millisecond)))
	}
	write(t, s, func(tx db.Tx) error {
		for _, r := range pre {
			if err := tx.CreateRecord(ctx, r); err != nil {
				return err
			}
			if err := audit(tx, users[0], model.ActionRecordCreate, r.ID); err != nil {
				return err
			}
		}
		return nil
	})
	const creates, reads = 3, 2
	type result struct{ created, deleted, read, notFound int }
	results := make([]result, workers)
	errs := concurrently(workers, func(w int) error {
		u := users[w%len(users)]
		var res result
		defer func() { results[w] = res }()
		for i := range creates {
			r := newRecord(u.ID, at(time.Duration(w*100+i)*time.Millisecond))
			if err := s.Write(ctx, func(tx db.Tx) error {
				if err := tx.CreateRecord(ctx, r); err != nil {
					return err
				}
				return audit(tx, u, model.ActionRecordCreate, r.ID)
			}); err != nil {
				return fmt.Errorf("create: %w", err)
			}
			res.created++
			if i == 1 {
				victim := pre[w%len(pre)]
				err := s.Write(ctx, func(tx db.Tx) error {
					if err := tx.DeleteRecord(ctx, victim.ID); err != nil {
						return err
					}
					return audit(tx, u, model.ActionRecordDelete, victim.ID)
				})
				switch {
				case errors.Is(err, db.ErrNotFound):
					res.notFound++
				case err != nil:
					return fmt.Errorf("delete: %w", err)
				default:
					res.deleted++
				}
			}
		}
		for range reads {
			if err := s.Write(ctx, func(tx db.Tx) error { return audit(tx, u, model.ActionRecordRead, uuid.NewString()) }); err != nil {
				return fmt.Errorf("read: %w", err)
			}
			res.read++
			// Reads go on meanwhile.
			if _, _, err := s.Read().ListRecords(ctx, db.RecordFilter{UserID: u.ID, Limit: 5}); err != nil {
				return fmt.Errorf("list records: %w", err)
			}
			if _, _, err := s.Read().ListAudit(ctx, db.AuditFilter{Action: model.ActionRecordRead, Limit: 5}); err != nil {
				return fmt.Errorf("list audit: %w", err)
			}
		}
		return nil
	})
	for w, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v", w, err)
		}
	}
	var sum result
	for _, r := range results {
		sum.created += r.created
		sum.deleted += r.deleted
		sum.read += r.read
		sum.notFound += r.notFound
	}
	if sum.deleted != len(pre) || sum.notFound != len(pre) {
		t.Errorf("deletes: %d succeeded, %d found nothing; want %d each", sum.deleted, sum.notFound, len(pre))
	}
	wantRecords := len(pre) + sum.created - sum.deleted

	// The rows there are, listed whole, and per user.
	rows, _, err := s.Read().ListRecords(ctx, db.RecordFilter{Limit: 10000})
	mustErr(t, "ListRecords", err, nil)
	if len(rows) != wantRecords {
		t.Errorf("records listed: %d, want %d", len(rows), wantRecords)
	}
	perUser := 0
	for _, u := range users {
		rows, _, err := s.Read().ListRecords(ctx, db.RecordFilter{UserID: u.ID, Limit: 10000})
		mustErr(t, "ListRecords", err, nil)
		perUser += len(rows)
	}
	if perUser != wantRecords {
		t.Errorf("records listed per user: %d in all, want %d", perUser, wantRecords)
	}
	checkRecordTotals(t, s, db.RecordFilter{}, wantRecords)

	wantAudit := map[string]int{
		model.ActionRecordCreate: len(pre) + sum.created,
		model.ActionRecordDelete: sum.deleted,
		model.ActionRecordRead:   sum.read,
	}
	all := 0
	for action, n := range wantAudit {
		events, _, err := s.Read().ListAudit(ctx, db.AuditFilter{Action: action, Limit: 10000})
		mustErr(t, "ListAudit", err, nil)
		if len(events) != n {
			t.Errorf("%s events listed: %d, want %d", action, len(events), n)
		}
		checkAuditTotals(t, s, db.AuditFilter{Action: action}, n)
		all += n
	}
	checkAuditTotals(t, s, db.AuditFilter{}, all)
	events, _, err := s.Read().ListAudit(ctx, db.AuditFilter{Limit: 10000})
	mustErr(t, "ListAudit", err, nil)
	checkIDs(t, "the trail, newest first", ids(events, eventID), ids(newestFirst(events), eventID))
}
