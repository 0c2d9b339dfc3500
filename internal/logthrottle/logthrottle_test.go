package logthrottle_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/internal/logthrottle"
)

// TestHoldsBackAFlood: 1,000 lines of one message within a second are one
// line; the next line a second later says how many were held back, and
// another message is not held back by the first.
func TestHoldsBackAFlood(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := logthrottle.New(slog.New(slog.NewTextHandler(&buf, nil)), time.Second, func() time.Time { return now })
	for range 1000 {
		l.Warn("connection refused", "remote", "192.0.2.1")
	}
	l.Warn("accept failed")
	if got := strings.Count(buf.String(), "\n"); got != 2 {
		t.Fatalf("%d lines for 1,000 of one message and one of another, want 2:\n%s", got, buf.String())
	}
	now = now.Add(time.Second)
	l.Warn("connection refused", "remote", "192.0.2.1")
	if !strings.Contains(buf.String(), "repeated=999") {
		t.Fatalf("the line after the flood does not count the 999 held back:\n%s", buf.String())
	}
	now = now.Add(time.Second)
	l.Warn("connection refused")
	if strings.Count(buf.String(), "repeated=") != 1 {
		t.Fatalf("a line with nothing held back says repeated:\n%s", buf.String())
	}
}
