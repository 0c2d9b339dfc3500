package testenv

import (
	"bytes"
	"sync"
)

// LockedBuffer is a bytes.Buffer that goroutines may write (a server's log,
// a child process's output) while a test reads it. The zero value is an
// empty buffer.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
