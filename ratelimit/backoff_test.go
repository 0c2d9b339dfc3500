package ratelimit_test

import (
	"testing"
	"time"

	"github.com/anavara/anavara/ratelimit"
)

func TestBackoffBlocksGrowsAndClears(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	rule := ratelimit.BackoffRule{Threshold: 3, Window: 15 * time.Minute, Base: time.Minute, Max: 5 * time.Minute}
	b := ratelimit.NewBackoff(rule, c.now)
	failTo := func(key string, n int) {
		for range n {
			b.Fail(key)
		}
	}
	blockedFor := func(key string) time.Duration {
		t.Helper()
		blocked, retry := b.Blocked(key)
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
		c.t = c.t.Add(blockedFor("a"))
		if d := blockedFor("a"); d != 0 {
			t.Fatalf("still blocked for %v after the block ended", d)
		}
		failTo("a", 3)
		if d := blockedFor("a"); d != want {
			t.Fatalf("next block %v, want %v", d, want)
		}
	}
	// A window without failures after the block starts over from Base.
	c.t = c.t.Add(5*time.Minute + 15*time.Minute)
	failTo("a", 3)
	if d := blockedFor("a"); d != time.Minute {
		t.Fatalf("block after a quiet window %v, want 1m", d)
	}
	// Failures spread over more than a window never add up to a block.
	b.Clear("a")
	for range 10 {
		failTo("a", 2)
		c.t = c.t.Add(16 * time.Minute)
	}
	if d := blockedFor("a"); d != 0 {
		t.Fatalf("blocked for %v by failures a window apart", d)
	}
	// Clear lifts a block at once.
	failTo("a", 3)
	b.Clear("a")
	if d := blockedFor("a"); d != 0 {
		t.Fatalf("blocked for %v after Clear", d)
	}
}

func TestBackoffZeroThresholdDisables(t *testing.T) {
	b := ratelimit.NewBackoff(ratelimit.BackoffRule{}, time.Now)
	for range 100 {
		b.Fail("a")
	}
	if blocked, _ := b.Blocked("a"); blocked {
		t.Fatal("a zero rule blocked a key")
	}
}
