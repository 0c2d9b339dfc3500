package ratelimit

import (
	"context"
	"sync"
	"time"
)

// BackoffRule blocks a key for a while once it has failed Threshold times
// within Window: for Base the first time, twice as long each time it is
// blocked again, never longer than Max. A key that stays out of trouble
// for a Window after its block ends starts from Base again. A zero
// Threshold disables it.
type BackoffRule struct {
	Threshold int
	Window    time.Duration
	Base, Max time.Duration
}

// BackoffState is what a Throttle remembers of one key.
type BackoffState struct {
	// Failures counts failures since WindowStart.
	Failures    int
	WindowStart time.Time
	// BlockedUntil is when the current block ends; Strikes how many
	// blocks in a row the key has earned, which doubles the next one.
	BlockedUntil time.Time
	Strikes      int
}

// Fail is one failure at now of a key in state st (a zero WindowStart for
// a key never seen, or forgotten): the state afterwards. Every Store implements
// its Throttle with it.
func (r BackoffRule) Fail(st BackoffState, now time.Time) BackoffState {
	if st.WindowStart.IsZero() { // never seen
		st.WindowStart = now
	}
	if now.Sub(st.WindowStart) >= r.Window {
		st.Failures, st.WindowStart = 0, now
	}
	if st.Strikes > 0 && now.Sub(st.BlockedUntil) >= r.Window {
		st.Strikes = 0
	}
	st.Failures++
	if st.Failures < r.Threshold {
		return st
	}
	block := r.Base << st.Strikes
	if block > r.Max || block <= 0 || st.Strikes >= 63 {
		block = r.Max
	}
	st.BlockedUntil = now.Add(block)
	st.Strikes++
	st.Failures, st.WindowStart = 0, now
	return st
}

// Expires is when st is worth no more than the zero state: its window and
// its block are over, and its strikes have decayed.
func (r BackoffRule) Expires(st BackoffState) time.Time {
	end := st.WindowStart
	if st.BlockedUntil.After(end) {
		end = st.BlockedUntil
	}
	return end.Add(r.Window)
}

// Backoff applies a BackoffRule to many keys in memory, such as the
// accounts that logins fail for, whatever address the failures come from.
// It is safe for concurrent use, and its errors are always nil.
type Backoff struct {
	rule BackoffRule
	now  func() time.Time

	mu      sync.Mutex
	entries map[string]BackoffState
	calls   int
}

var _ Throttle = (*Backoff)(nil)

// NewBackoff returns a Backoff for rule that reads the time from now.
func NewBackoff(rule BackoffRule, now func() time.Time) *Backoff {
	return &Backoff{rule: rule, now: now, entries: make(map[string]BackoffState)}
}

// Blocked reports whether key is blocked now and, if so, for how long.
func (b *Backoff) Blocked(_ context.Context, key string) (blocked bool, retryAfter time.Duration, err error) {
	if b.rule.Threshold <= 0 {
		return false, 0, nil
	}
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[key]
	if !ok || !now.Before(e.BlockedUntil) {
		return false, 0, nil
	}
	return true, e.BlockedUntil.Sub(now), nil
}

// Fail records a failure for key, blocking it when that reaches the
// threshold.
func (b *Backoff) Fail(_ context.Context, key string) error {
	if b.rule.Threshold <= 0 {
		return nil
	}
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sweep(now)
	b.entries[key] = b.rule.Fail(b.entries[key], now)
	return nil
}

// Clear forgets key's failures and blocks, as after a successful sign-in.
func (b *Backoff) Clear(_ context.Context, key string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.entries, key)
	return nil
}

// sweep drops, every 1,024 failures, keys whose window and block are over
// and whose strikes have decayed, so the map holds only keys in trouble.
func (b *Backoff) sweep(now time.Time) {
	b.calls++
	if b.calls%1024 != 0 {
		return
	}
	for k, e := range b.entries {
		if !now.Before(b.rule.Expires(e)) {
			delete(b.entries, k)
		}
	}
}
