package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// run calls fn from n goroutines at once and returns their errors.
func run(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = fn(i)
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

// Twenty wrong guesses at one reset code at once: the row lock ActiveOTP
// takes in a transaction makes each guess see the attempts counted before
// it, so exactly five are counted and the code is spent.
func TestConcurrentOTPGuessesCountFive(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	u := createUser(t, s, "guess@example.org")
	now := time.Now()
	code := db.OTPCode{ID: uuid.NewString(), UserID: u.ID, Hash: []byte("hash"), Created: now, ExpiresAt: now.Add(time.Hour)}
	write(t, s, func(ctx context.Context, tx db.Tx) error { return tx.CreateOTP(ctx, code) })
	const max = 5
	errs := run(20, func(int) error {
		return s.Write(ctx, func(tx db.Tx) error {
			c, err := tx.ActiveOTP(ctx, u.ID, now, max)
			if err != nil {
				return err
			}
			return tx.CountOTPAttempt(ctx, c.ID)
		})
	})
	counted := 0
	for _, err := range errs {
		switch {
		case err == nil:
			counted++
		case !errors.Is(err, db.ErrNotFound):
			t.Errorf("guess: %v", err)
		}
	}
	if counted != max {
		t.Errorf("%d guesses counted, want %d", counted, max)
	}
	c, err := s.Read().ActiveOTP(ctx, u.ID, now, 1000)
	if err != nil {
		t.Fatal(err)
	}
	attempts := c.Attempts
	if attempts != max {
		t.Errorf("attempts = %d, want %d", attempts, max)
	}
	if _, err := s.Read().ActiveOTP(ctx, u.ID, now, max); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("ActiveOTP after %d wrong guesses: %v, want ErrNotFound", max, err)
	}
}

// Sixteen refreshes of one token at once: exactly one rotates it.
func TestConcurrentRefreshOneWins(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	u := createUser(t, s, "refresh@example.org")
	now := time.Now()
	tok := db.RefreshToken{ID: uuid.NewString(), UserID: u.ID, FamilyID: uuid.NewString(), Hash: []byte("token-hash"),
		Created: now, ExpiresAt: now.Add(time.Hour)}
	write(t, s, func(ctx context.Context, tx db.Tx) error { return tx.CreateRefreshToken(ctx, tok) })
	errs := run(16, func(int) error {
		return s.Write(ctx, func(tx db.Tx) error {
			got, err := tx.RefreshTokenByHash(ctx, tok.Hash)
			if err != nil {
				return err
			}
			if got.UsedAt != nil {
				return db.ErrConflict
			}
			return tx.MarkRefreshTokenUsed(ctx, got.ID, time.Now(), []byte("fp"), uuid.NewString())
		})
	})
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, db.ErrConflict):
			t.Errorf("refresh: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d refreshes won, want 1", won)
	}
	got, err := s.Read().RefreshTokenByID(ctx, tok.ID)
	if err != nil || got.UsedAt == nil || got.ChildID == "" || string(got.RotatedBy) != "fp" {
		t.Errorf("token after the race: %+v, %v", got, err)
	}
}

// Sign-ups with one email at once: one account, every other ErrConflict.
func TestConcurrentCreateUserOneEmail(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	errs := run(16, func(i int) error {
		u := db.UserRow{User: model.User{ID: uuid.NewString(), Email: "same@example.org", FirstName: "N", IsActive: true,
			Created: base, Updated: base}, PasswordHash: "h"}
		return s.Write(ctx, func(tx db.Tx) error { return tx.CreateUser(ctx, u) })
	})
	created := 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, db.ErrConflict):
			t.Errorf("CreateUser: %v", err)
		}
	}
	if created != 1 {
		t.Errorf("%d users created, want 1", created)
	}
	if _, total, err := s.Read().ListUsers(ctx, db.UserFilter{Limit: 100}); err != nil || total != 1 {
		t.Errorf("ListUsers: total %d, %v; want 1", total, err)
	}
}

// Two workers claim reset requests while each holds its claim open: the
// second skips the rows the first has locked (FOR UPDATE SKIP LOCKED)
// instead of waiting for them, and takes the next ones. A claim that
// waited would block here until the test's deadline, since the first
// transaction commits only after the second has claimed.
func TestConcurrentResetClaimsSkipLockedRows(t *testing.T) {
	s, _ := openStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var want []string
	write(t, s, func(ctx context.Context, tx db.Tx) error {
		for i := range 4 {
			r := db.ResetRequest{ID: uuid.NewString(), Email: "r@example.org", IP: "192.0.2.1", RequestID: "req",
				RequestedAt: base.Add(time.Duration(i) * time.Second)}
			want = append(want, r.ID)
			if err := tx.EnqueueResetRequest(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	now := base.Add(time.Minute)
	claimed := make(chan []db.ResetRequest, 1)
	secondDone := make(chan struct{})
	firstErr := make(chan error, 1)
	go func() {
		firstErr <- s.Write(ctx, func(tx db.Tx) error {
			got, err := tx.ClaimResetRequests(ctx, now, time.Minute, 2)
			if err != nil {
				return err
			}
			claimed <- got
			// Hold the rows until the second claim is done.
			select {
			case <-secondDone:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var first []db.ResetRequest
	select {
	case first = <-claimed:
	case err := <-firstErr:
		t.Fatalf("first claim: %v", err)
	}
	var second []db.ResetRequest
	err := s.Write(ctx, func(tx db.Tx) error {
		var err error
		second, err = tx.ClaimResetRequests(ctx, now, time.Minute, 10)
		return err
	})
	close(secondDone)
	if err != nil {
		t.Fatalf("second claim: %v", err)
	}
	if err := <-firstErr; err != nil {
		t.Fatalf("first claim: %v", err)
	}
	var got []string
	for _, r := range append(first, second...) {
		got = append(got, r.ID)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("claimed %v, then %v; want the two oldest, then the other two:\n got  %v\n want %v", len(first), len(second), got, want)
	}
}
