package ratelimit_test

import (
	"testing"
	"time"

	"github.com/anavara/anavara/ratelimit"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestBurstThenRefill(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := ratelimit.New(ratelimit.Rule{Limit: 3, Window: 15 * time.Minute}, c.now)
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("event %d denied within the burst", i+1)
		}
	}
	ok, retry := l.Allow("a")
	if ok || retry <= 0 || retry > 5*time.Minute {
		t.Fatalf("4th event: ok=%v retry=%v; want denied with retry in (0, 5m]", ok, retry)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another key was limited")
	}
	c.t = c.t.Add(retry)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("denied after waiting Retry-After")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("second event after one refill allowed")
	}
	c.t = c.t.Add(time.Hour)
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("full burst not restored after a quiet hour (event %d)", i+1)
		}
	}
}

func TestZeroRuleAllowsEverything(t *testing.T) {
	l := ratelimit.New(ratelimit.Rule{}, time.Now)
	for i := 0; i < 100; i++ {
		if ok, _ := l.Allow("k"); !ok {
			t.Fatal("disabled rule denied")
		}
	}
}
