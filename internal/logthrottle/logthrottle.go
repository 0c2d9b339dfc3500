// Package logthrottle keeps a flood of events from becoming a flood of log
// lines: it passes at most one line per message per period and says, on
// the next line it passes, how many it held back. Connection refusals and
// failed accepts log through it, since an anonymous client can cause them
// as fast as it can connect, and log lines cost disk.
package logthrottle

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Logger throttles the lines it passes to an slog.Logger, per message. It
// is safe for concurrent use.
type Logger struct {
	logger *slog.Logger
	every  time.Duration
	now    func() time.Time

	mu    sync.Mutex
	kinds map[string]*count
}

type count struct {
	last       time.Time
	suppressed int
}

// New returns a Logger that passes a line of each message to logger at
// most once per every, reading the time from now.
func New(logger *slog.Logger, every time.Duration, now func() time.Time) *Logger {
	return &Logger{logger: logger, every: every, now: now, kinds: make(map[string]*count)}
}

// Warn logs msg at WARN, unless a line with the same msg passed within the
// period; a line that passes after others were held back carries
// repeated=N.
func (l *Logger) Warn(msg string, args ...any) { l.Log(slog.LevelWarn, msg, args...) }

// Log is Warn at any level.
func (l *Logger) Log(level slog.Level, msg string, args ...any) {
	now := l.now()
	l.mu.Lock()
	c := l.kinds[msg]
	if c == nil {
		c = &count{}
		l.kinds[msg] = c
	}
	if !c.last.IsZero() && now.Sub(c.last) < l.every {
		c.suppressed++
		l.mu.Unlock()
		return
	}
	held := c.suppressed
	c.last, c.suppressed = now, 0
	l.mu.Unlock()
	if held > 0 {
		args = append(args, "repeated", held)
	}
	l.logger.Log(context.Background(), level, msg, args...)
}
