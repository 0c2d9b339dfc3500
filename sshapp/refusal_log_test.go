package sshapp

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestRefusalLogHoldsBackAFlood: 1,000 refusals within a second are one
// line; the next line a second later says how many were held back.
func TestRefusalLogHoldsBackAFlood(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newRefusalLog(slog.New(slog.NewTextHandler(&buf, nil)), func() time.Time { return now })
	for range 1000 {
		l.warn("ssh connection rate-limited", "remote", "192.0.2.1")
	}
	l.warn("ssh connection refused: too many unauthenticated connections", "remote", "192.0.2.1")
	if got := strings.Count(buf.String(), "\n"); got != 2 {
		t.Fatalf("%d lines for 1,000 refusals of one kind and one of another, want 2:\n%s", got, buf.String())
	}
	now = now.Add(time.Second)
	l.warn("ssh connection rate-limited", "remote", "192.0.2.1")
	if !strings.Contains(buf.String(), "repeated=999") {
		t.Fatalf("the line after the flood does not count the 999 held back:\n%s", buf.String())
	}
}
