// Package ratelimit limits how often a key (an IP, an email, a pair of them)
// may act, with the generic cell rate algorithm: a rule of N per window lets
// N through at once, then one more every window/N.
//
// The limits are interfaces (Counter, Throttle) made by a Store, so that
// their state can live in this process's memory (Memory, the default and
// the SQLite engine's) or in a database that several API processes share
// (the PostgreSQL engine's, db/postgres), where a limit then holds across
// all of them rather than once per process.
package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Rule allows Limit events per Window for each key. A zero Limit disables it.
type Rule struct {
	Limit  int
	Window time.Duration
}

// Interval is the time one event "costs": Window/Limit, 0 when disabled.
func (r Rule) Interval() time.Duration {
	if r.Limit <= 0 {
		return 0
	}
	return r.Window / time.Duration(r.Limit)
}

// Counter applies one Rule to many keys.
type Counter interface {
	// Allow records an event for key and reports whether it is within the
	// rule; when it is not, retryAfter says when the next event would be.
	// An error means the shared state could not be reached: the caller
	// decides whether that lets the event through.
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// Throttle applies one BackoffRule to many keys.
type Throttle interface {
	// Blocked reports whether key is blocked now and, if so, for how long.
	Blocked(ctx context.Context, key string) (blocked bool, retryAfter time.Duration, err error)
	// Fail records a failure for key, blocking it when that reaches the
	// threshold.
	Fail(ctx context.Context, key string) error
	// Clear forgets key's failures and blocks.
	Clear(ctx context.Context, key string) error
}

// Store makes the limits. name identifies a limit among those of one
// store: processes that share a store and ask for the same name share its
// state, so name one limit the same in every process and two limits
// differently. now is the clock the limit reads.
type Store interface {
	Limiter(name string, rule Rule, now func() time.Time) Counter
	Backoff(name string, rule BackoffRule, now func() time.Time) Throttle
}

// Memory keeps limits in this process's memory: each process limits on its
// own. It never fails.
type Memory struct{}

// Limiter returns New(rule, now); name is not needed in memory.
func (Memory) Limiter(_ string, rule Rule, now func() time.Time) Counter { return New(rule, now) }

// Backoff returns NewBackoff(rule, now).
func (Memory) Backoff(_ string, rule BackoffRule, now func() time.Time) Throttle {
	return NewBackoff(rule, now)
}

// Limiter applies one Rule to many keys in memory. It is safe for
// concurrent use.
type Limiter struct {
	rule     Rule
	interval time.Duration // time one event "costs"
	now      func() time.Time

	mu    sync.Mutex
	tat   map[string]time.Time // theoretical arrival time per key
	calls int
}

var _ Counter = (*Limiter)(nil)

// New returns a limiter for rule that reads the time from now.
func New(rule Rule, now func() time.Time) *Limiter {
	return &Limiter{rule: rule, interval: rule.Interval(), now: now, tat: make(map[string]time.Time)}
}

// Allow records an event for key and reports whether it is within the rule;
// when it is not, retryAfter says when the next event would be. Its error
// is always nil.
func (l *Limiter) Allow(_ context.Context, key string) (ok bool, retryAfter time.Duration, err error) {
	if l.rule.Limit <= 0 {
		return true, 0, nil
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	next, ok, retryAfter := l.rule.Next(l.tat[key], now)
	if ok {
		l.tat[key] = next
	}
	return ok, retryAfter, nil
}

// Next is one step of the rule: given a key's theoretical arrival time tat
// (zero for a key never seen) and an event at now, it says whether the
// event is allowed, the key's tat if it is, and otherwise how long until
// the next event would be. Every Store implements its limits with it, or
// with the same arithmetic.
func (r Rule) Next(tat, now time.Time) (next time.Time, ok bool, retryAfter time.Duration) {
	if tat.Before(now) {
		tat = now
	}
	next = tat.Add(r.Interval())
	if allowAt := next.Add(-r.Window); now.Before(allowAt) {
		return tat, false, allowAt.Sub(now)
	}
	return next, true, 0
}

// sweep drops keys whose allowance is whole again, every 1,024 calls, so
// the map stays as small as the set of recently active keys.
func (l *Limiter) sweep(now time.Time) {
	l.calls++
	if l.calls%1024 != 0 {
		return
	}
	for k, tat := range l.tat {
		if !tat.After(now) {
			delete(l.tat, k)
		}
	}
}
