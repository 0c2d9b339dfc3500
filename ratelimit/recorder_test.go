package ratelimit_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/ratelimit/ratelimittest"
)

// TestRecorderPassesThrough holds a Recorder over the in-memory store to
// the cases every store answers: counting changes no decision.
func TestRecorderPassesThrough(t *testing.T) {
	ratelimittest.Run(t, func(*testing.T) ratelimit.Store { return ratelimit.NewRecorder(ratelimit.Memory{}, false) })
}

// TestRecorderCountsDecisions checks each outcome is counted under its
// limit's name, from zero, and that two limits made under one name share
// their counts.
func TestRecorderCountsDecisions(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	r := ratelimit.NewRecorder(ratelimit.Memory{}, true)
	if !r.Shared() {
		t.Fatal("Shared() = false, want true")
	}
	login := r.Limiter("login", ratelimit.Rule{Limit: 2, Window: time.Minute}, clock)
	loginAgain := r.Limiter("login", ratelimit.Rule{Limit: 2, Window: time.Minute}, clock)
	for i := 0; i < 3; i++ {
		if _, _, err := login.Allow(ctx, "a"); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _, _ := loginAgain.Allow(ctx, "b"); !ok {
		t.Fatal("a fresh key was limited")
	}
	backoff := r.Backoff("account", ratelimit.BackoffRule{Threshold: 1, Window: time.Minute, Base: time.Minute, Max: time.Hour}, clock)
	if blocked, _, _ := backoff.Blocked(ctx, "x"); blocked {
		t.Fatal("blocked before any failure")
	}
	if err := backoff.Fail(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if blocked, _, _ := backoff.Blocked(ctx, "x"); !blocked {
		t.Fatal("not blocked after reaching the threshold")
	}

	want := []ratelimit.Decision{
		{Limit: "account", Outcome: ratelimit.OutcomeBlocked, Count: 1},
		{Limit: "account", Outcome: ratelimit.OutcomeError, Count: 0},
		{Limit: "account", Outcome: ratelimit.OutcomeFailure, Count: 1},
		{Limit: "account", Outcome: ratelimit.OutcomeOpen, Count: 1},
		{Limit: "login", Outcome: ratelimit.OutcomeAllowed, Count: 3},
		{Limit: "login", Outcome: ratelimit.OutcomeError, Count: 0},
		{Limit: "login", Outcome: ratelimit.OutcomeLimited, Count: 1},
	}
	if got := r.Decisions(); !slices.Equal(got, want) {
		t.Fatalf("Decisions() =\n%v\nwant\n%v", got, want)
	}
}
