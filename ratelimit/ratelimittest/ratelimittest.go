// Package ratelimittest holds every ratelimit.Store to the same answers:
// one table of cases that the in-memory store and the PostgreSQL one both
// run. Import it from tests only.
package ratelimittest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/anavara/anavara/ratelimit"
)

// Clock is a test clock that only moves when told.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Run runs every case against the stores newStore returns, one per case.
func Run(t *testing.T, newStore func(t *testing.T) ratelimit.Store) {
	t.Run("BurstThenRefill", func(t *testing.T) { burstThenRefill(t, newStore(t)) })
	t.Run("ExactRetryAfter", func(t *testing.T) { exactRetryAfter(t, newStore(t)) })
	t.Run("ZeroRuleAllowsEverything", func(t *testing.T) { zeroRule(t, newStore(t)) })
	t.Run("NamesAreSeparate", func(t *testing.T) { namesAreSeparate(t, newStore(t)) })
	t.Run("BackoffBlocksGrowsAndClears", func(t *testing.T) { backoffBlocksGrowsAndClears(t, newStore(t)) })
	t.Run("BackoffZeroThresholdDisables", func(t *testing.T) { backoffZero(t, newStore(t)) })
}

func start() *Clock { return NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) }

func allow(t *testing.T, l ratelimit.Counter, key string) (bool, time.Duration) {
	t.Helper()
	ok, retry, err := l.Allow(context.Background(), key)
	if err != nil {
		t.Fatalf("Allow(%q): %v", key, err)
	}
	return ok, retry
}

func burstThenRefill(t *testing.T, s ratelimit.Store) {
	c := start()
	l := s.Limiter("burst", ratelimit.Rule{Limit: 3, Window: 15 * time.Minute}, c.Now)
	for i := range 3 {
		if ok, _ := allow(t, l, "a"); !ok {
			t.Fatalf("event %d denied within the burst", i+1)
		}
	}
	ok, retry := allow(t, l, "a")
	if ok || retry != 5*time.Minute {
		t.Fatalf("4th event: ok=%v retry=%v; want denied with retry 5m", ok, retry)
	}
	if ok, _ := allow(t, l, "b"); !ok {
		t.Fatal("another key was limited")
	}
	c.Advance(retry)
	if ok, _ := allow(t, l, "a"); !ok {
		t.Fatal("denied after waiting Retry-After")
	}
	if ok, _ := allow(t, l, "a"); ok {
		t.Fatal("second event after one refill allowed")
	}
	c.Advance(time.Hour)
	for i := range 3 {
		if ok, _ := allow(t, l, "a"); !ok {
			t.Fatalf("full burst not restored after a quiet hour (event %d)", i+1)
		}
	}
}

// exactRetryAfter: 10 a minute is one every 6 s; denials say how long.
func exactRetryAfter(t *testing.T, s ratelimit.Store) {
	c := start()
	l := s.Limiter("exact", ratelimit.Rule{Limit: 10, Window: time.Minute}, c.Now)
	for i := range 10 {
		if ok, _ := allow(t, l, "k"); !ok {
			t.Fatalf("event %d denied", i+1)
		}
	}
	for _, step := range []struct {
		advance time.Duration
		ok      bool
		retry   time.Duration
	}{
		{0, false, 6 * time.Second},
		{2 * time.Second, false, 4 * time.Second},
		{4 * time.Second, true, 0},
		{0, false, 6 * time.Second},
		{1500 * time.Millisecond, false, 4500 * time.Millisecond},
		{12 * time.Second, true, 0},
		{0, true, 0},
		{0, false, 4500 * time.Millisecond},
	} {
		c.Advance(step.advance)
		ok, retry := allow(t, l, "k")
		if ok != step.ok || retry != step.retry {
			t.Fatalf("after %v: ok=%v retry=%v; want %v, %v", step.advance, ok, retry, step.ok, step.retry)
		}
	}
}

func zeroRule(t *testing.T, s ratelimit.Store) {
	l := s.Limiter("zero", ratelimit.Rule{}, time.Now)
	for range 100 {
		if ok, _ := allow(t, l, "k"); !ok {
			t.Fatal("disabled rule denied")
		}
	}
}

// namesAreSeparate: two limits with different names do not share a
// budget, even for the same key (a store shared by name may mix them up).
func namesAreSeparate(t *testing.T, s ratelimit.Store) {
	c := start()
	rule := ratelimit.Rule{Limit: 2, Window: time.Minute}
	a, b := s.Limiter("one", rule, c.Now), s.Limiter("two", rule, c.Now)
	for range 2 {
		allow(t, a, "k")
	}
	if ok, _ := allow(t, a, "k"); ok {
		t.Fatal("third event allowed")
	}
	if ok, _ := allow(t, b, "k"); !ok {
		t.Fatal("another limit's events counted")
	}
}

func backoffBlocksGrowsAndClears(t *testing.T, s ratelimit.Store) {
	ctx := context.Background()
	c := start()
	rule := ratelimit.BackoffRule{Threshold: 3, Window: 15 * time.Minute, Base: time.Minute, Max: 5 * time.Minute}
	b := s.Backoff("backoff", rule, c.Now)
	failTo := func(key string, n int) {
		t.Helper()
		for range n {
			if err := b.Fail(ctx, key); err != nil {
				t.Fatal(err)
			}
		}
	}
	clear := func(key string) {
		t.Helper()
		if err := b.Clear(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	blockedFor := func(key string) time.Duration {
		t.Helper()
		blocked, retry, err := b.Blocked(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if blocked != (retry > 0) {
			t.Fatalf("Blocked(%q) = %v, %v: inconsistent", key, blocked, retry)
		}
		return retry
	}

	failTo("a", 2)
	if d := blockedFor("a"); d != 0 {
		t.Fatalf("blocked for %v below the threshold", d)
	}
	failTo("a", 1)
	if d := blockedFor("a"); d != time.Minute {
		t.Fatalf("first block %v, want 1m", d)
	}
	if d := blockedFor("b"); d != 0 {
		t.Fatalf("another key blocked for %v", d)
	}
	// Each further block doubles, up to Max.
	for _, want := range []time.Duration{2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute} {
		c.Advance(blockedFor("a"))
		if d := blockedFor("a"); d != 0 {
			t.Fatalf("still blocked for %v after the block ended", d)
		}
		failTo("a", 3)
		if d := blockedFor("a"); d != want {
			t.Fatalf("next block %v, want %v", d, want)
		}
	}
	// A window without failures after the block starts over from Base.
	c.Advance(5*time.Minute + 15*time.Minute)
	failTo("a", 3)
	if d := blockedFor("a"); d != time.Minute {
		t.Fatalf("block after a quiet window %v, want 1m", d)
	}
	// Failures spread over more than a window never add up to a block.
	clear("a")
	for range 10 {
		failTo("a", 2)
		c.Advance(16 * time.Minute)
	}
	if d := blockedFor("a"); d != 0 {
		t.Fatalf("blocked for %v by failures a window apart", d)
	}
	// Clear lifts a block at once.
	failTo("a", 3)
	clear("a")
	if d := blockedFor("a"); d != 0 {
		t.Fatalf("blocked for %v after Clear", d)
	}
}

func backoffZero(t *testing.T, s ratelimit.Store) {
	ctx := context.Background()
	b := s.Backoff("backoff-zero", ratelimit.BackoffRule{}, time.Now)
	for range 100 {
		if err := b.Fail(ctx, "a"); err != nil {
			t.Fatal(err)
		}
	}
	if blocked, _, _ := b.Blocked(ctx, "a"); blocked {
		t.Fatal("a zero rule blocked a key")
	}
}
