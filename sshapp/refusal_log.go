package sshapp

import (
	"log/slog"
	"sync"
	"time"
)

// refusalLog logs the connections the front door turns away at most once
// a second per kind, saying how many lines it held back: a flood of
// connections must not become a flood of log lines, which would cost disk
// an anonymous client could make the server spend.
type refusalLog struct {
	logger *slog.Logger
	now    func() time.Time

	mu    sync.Mutex
	kinds map[string]*refusalCount
}

type refusalCount struct {
	last       time.Time
	suppressed int
}

func newRefusalLog(logger *slog.Logger, now func() time.Time) *refusalLog {
	return &refusalLog{logger: logger, now: now, kinds: make(map[string]*refusalCount)}
}

// warn logs msg at WARN unless a line of its kind (msg itself) was logged
// within the last second.
func (l *refusalLog) warn(msg string, args ...any) {
	now := l.now()
	l.mu.Lock()
	c := l.kinds[msg]
	if c == nil {
		c = &refusalCount{}
		l.kinds[msg] = c
	}
	if !c.last.IsZero() && now.Sub(c.last) < time.Second {
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
	l.logger.Warn(msg, args...)
}
