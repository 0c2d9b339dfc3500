// Package ratelimit limits how often a key (an IP, an email, a pair of them)
// may act, with the generic cell rate algorithm: a rule of N per window lets
// N through at once, then one more every window/N.
package ratelimit

import (
	"sync"
	"time"
)

// Rule allows Limit events per Window for each key. A zero Limit disables it.
type Rule struct {
	Limit  int
	Window time.Duration
}

// Limiter applies one Rule to many keys. It is safe for concurrent use.
type Limiter struct {
	rule     Rule
	interval time.Duration // time one event "costs"
	now      func() time.Time

	mu    sync.Mutex
	tat   map[string]time.Time // theoretical arrival time per key
	calls int
}

// New returns a limiter for rule that reads the time from now.
func New(rule Rule, now func() time.Time) *Limiter {
	var interval time.Duration
	if rule.Limit > 0 {
		interval = rule.Window / time.Duration(rule.Limit)
	}
	return &Limiter{rule: rule, interval: interval, now: now, tat: make(map[string]time.Time)}
}

// Allow records an event for key and reports whether it is within the rule;
// when it is not, retryAfter says when the next event would be.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	if l.rule.Limit <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	tat := l.tat[key]
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(l.interval)
	if allowAt := next.Add(-l.rule.Window); now.Before(allowAt) {
		return false, allowAt.Sub(now)
	}
	l.tat[key] = next
	return true, 0
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
