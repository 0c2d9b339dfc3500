package db

import "github.com/anavara/anavara/ratelimit"

// SharedLimits is implemented by a Store whose database several processes
// may share (PostgreSQL): its rate limits keep their state in the
// database, so that a limit holds across every process on it rather than
// once per process. A Store without it (SQLite, one process) leaves the
// limits in memory (ratelimit.Memory).
type SharedLimits interface {
	RateLimits() ratelimit.Store
}

// RateLimits returns the rate-limit store that goes with s: its shared one
// when it has one, else ratelimit.Memory.
func RateLimits(s Store) ratelimit.Store {
	if sl, ok := s.(SharedLimits); ok {
		return sl.RateLimits()
	}
	return ratelimit.Memory{}
}
