package ratelimit

import (
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

// Backoff applies a BackoffRule to many keys, such as the accounts that
// logins fail for, whatever address the failures come from. It is safe for
// concurrent use.
type Backoff struct {
	rule BackoffRule
	now  func() time.Time

	mu      sync.Mutex
	entries map[string]*backoffEntry
	calls   int
}

type backoffEntry struct {
	// failures counts failures since windowStart.
	failures    int
	windowStart time.Time
	// blockedUntil is when the current block ends; strikes how many
	// blocks in a row the key has earned, which doubles the next one.
	blockedUntil time.Time
	strikes      int
}

// NewBackoff returns a Backoff for rule that reads the time from now.
func NewBackoff(rule BackoffRule, now func() time.Time) *Backoff {
	return &Backoff{rule: rule, now: now, entries: make(map[string]*backoffEntry)}
}

// Blocked reports whether key is blocked now and, if so, for how long.
func (b *Backoff) Blocked(key string) (blocked bool, retryAfter time.Duration) {
	if b.rule.Threshold <= 0 {
		return false, 0
	}
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entries[key]
	if e == nil || !now.Before(e.blockedUntil) {
		return false, 0
	}
	return true, e.blockedUntil.Sub(now)
}

// Fail records a failure for key, blocking it when that reaches the
// threshold.
func (b *Backoff) Fail(key string) {
	if b.rule.Threshold <= 0 {
		return
	}
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sweep(now)
	e := b.entries[key]
	if e == nil {
		e = &backoffEntry{windowStart: now}
		b.entries[key] = e
	}
	if now.Sub(e.windowStart) >= b.rule.Window {
		e.failures, e.windowStart = 0, now
	}
	if e.strikes > 0 && now.Sub(e.blockedUntil) >= b.rule.Window {
		e.strikes = 0
	}
	e.failures++
	if e.failures < b.rule.Threshold {
		return
	}
	block := b.rule.Base << e.strikes
	if block > b.rule.Max || block <= 0 {
		block = b.rule.Max
	}
	e.blockedUntil = now.Add(block)
	e.strikes++
	e.failures, e.windowStart = 0, now
}

// Clear forgets key's failures and blocks, as after a successful sign-in.
func (b *Backoff) Clear(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.entries, key)
}

// sweep drops, every 1,024 failures, keys whose window and block are over
// and whose strikes have decayed, so the map holds only keys in trouble.
func (b *Backoff) sweep(now time.Time) {
	b.calls++
	if b.calls%1024 != 0 {
		return
	}
	for k, e := range b.entries {
		if now.Sub(e.windowStart) >= b.rule.Window && now.Sub(e.blockedUntil) >= b.rule.Window {
			delete(b.entries, k)
		}
	}
}
