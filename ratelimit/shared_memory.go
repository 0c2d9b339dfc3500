package ratelimit

import (
	"sync"
	"time"
)

// SharedMemory keeps limits in this process's memory, as Memory does,
// except that the limits asked for under one name and rule share their
// state, as a database's do: in a process with one database that only it
// serves (SQLite), the SSH front end built into serve and the API's
// check for the separate front ends (ssh-serve) then count one address's
// connections in one bucket, as they do in PostgreSQL. The first limit
// made under a name and rule keeps its clock. It is safe for concurrent
// use.
type SharedMemory struct {
	mu       sync.Mutex
	limiters map[sharedLimiterKey]*Limiter
	backoffs map[sharedBackoffKey]*Backoff
}

type sharedLimiterKey struct {
	name string
	rule Rule
}

type sharedBackoffKey struct {
	name string
	rule BackoffRule
}

var _ Store = (*SharedMemory)(nil)

// NewSharedMemory returns a store that holds no limits yet.
func NewSharedMemory() *SharedMemory {
	return &SharedMemory{limiters: make(map[sharedLimiterKey]*Limiter), backoffs: make(map[sharedBackoffKey]*Backoff)}
}

// Limiter returns the limiter for name and rule, made with now the first
// time.
func (m *SharedMemory) Limiter(name string, rule Rule, now func() time.Time) Counter {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := sharedLimiterKey{name, rule}
	l, ok := m.limiters[k]
	if !ok {
		l = New(rule, now)
		m.limiters[k] = l
	}
	return l
}

// Backoff returns the back-off for name and rule, made with now the first
// time.
func (m *SharedMemory) Backoff(name string, rule BackoffRule, now func() time.Time) Throttle {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := sharedBackoffKey{name, rule}
	b, ok := m.backoffs[k]
	if !ok {
		b = NewBackoff(rule, now)
		m.backoffs[k] = b
	}
	return b
}
