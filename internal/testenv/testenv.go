// Package testenv holds what the test harnesses of several packages share:
// a controllable clock and staff accounts made the way `anavara
// createsuperuser` makes them. Only tests import it.
package testenv

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/password"
)

// Clock is a settable clock shared by a server and its test. Each reading
// moves it on by a microsecond, so rows created one after another have
// distinct, ordered timestamps, as they would in real time.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock that starts at start.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now reads the clock, moving it on by a microsecond.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Microsecond)
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// CreateStaff inserts an active staff account named Sam Staff with pw
// (hashed with params) straight into store, as `anavara createsuperuser`
// does, and returns it.
func CreateStaff(tb testing.TB, store db.Store, email, pw string, params password.Params, now time.Time) model.User {
	tb.Helper()
	hash, err := password.Hash(pw, params)
	if err != nil {
		tb.Fatal(err)
	}
	now = now.UTC()
	u := db.UserRow{User: model.User{ID: uuid.NewString(), Email: email, FirstName: "Sam", LastName: "Staff",
		IsStaff: true, IsActive: true, Created: now, Updated: now}, PasswordHash: hash}
	ctx := context.Background()
	if err := store.Write(ctx, func(q db.Tx) error { return q.CreateUser(ctx, u) }); err != nil {
		tb.Fatal(err)
	}
	return u.User
}
