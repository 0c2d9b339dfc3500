package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/ratelimit/ratelimittest"
)

// TestSharedMemory holds the shared in-memory store to the cases every
// store answers.
func TestSharedMemory(t *testing.T) {
	ratelimittest.Run(t, func(*testing.T) ratelimit.Store { return ratelimit.NewSharedMemory() })
}

// TestSharedMemorySharesByName: two limits made under one name and rule
// count in one bucket, as two processes on one database do.
func TestSharedMemorySharesByName(t *testing.T) {
	clock := ratelimittest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	rule := ratelimit.Rule{Limit: 2, Window: time.Hour}
	ctx := context.Background()
	allowed := func(l ratelimit.Counter) bool {
		t.Helper()
		ok, _, err := l.Allow(ctx, "192.0.2.7")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	s := ratelimit.NewSharedMemory()
	a, b := s.Limiter("ssh-connect", rule, clock.Now), s.Limiter("ssh-connect", rule, clock.Now)
	if !allowed(a) || !allowed(b) {
		t.Fatal("the first two events over both were refused")
	}
	if allowed(a) || allowed(b) {
		t.Fatal("a third event over two limits of one name was allowed")
	}
	if !allowed(s.Limiter("other", rule, clock.Now)) {
		t.Fatal("a limit of another name shares the bucket")
	}

	f1 := s.Backoff("login-account", ratelimit.BackoffRule{Threshold: 1, Window: time.Hour, Base: time.Minute, Max: time.Hour}, clock.Now)
	f2 := s.Backoff("login-account", ratelimit.BackoffRule{Threshold: 1, Window: time.Hour, Base: time.Minute, Max: time.Hour}, clock.Now)
	if err := f1.Fail(ctx, "ann@example.org"); err != nil {
		t.Fatal(err)
	}
	if blocked, _, err := f2.Blocked(ctx, "ann@example.org"); err != nil || !blocked {
		t.Fatalf("a failure through one back-off of a name does not block through the other: %v, %v", blocked, err)
	}
}
