package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/ratelimit/ratelimittest"
)

// TestRateLimits holds the PostgreSQL limits to the cases every store
// answers (ratelimittest), on a fresh database per case.
func TestRateLimits(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T) ratelimit.Store {
		s, _ := openStore(t)
		return s.RateLimits()
	})
}

// openTwo opens two stores on one database: two pools, as two serve
// processes would have.
func openTwo(t *testing.T) (a, b *postgres.Store, url string) {
	t.Helper()
	a, url = openStore(t)
	b, err := postgres.Open(context.Background(), postgres.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return a, b, url
}

// TestRateLimitsSharedAcrossStores: checks through two stores draw on one
// budget, exactly, also when they race.
func TestRateLimitsSharedAcrossStores(t *testing.T) {
	a, b, _ := openTwo(t)
	ctx := context.Background()
	clock := ratelimittest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	rule := ratelimit.Rule{Limit: 10, Window: time.Minute}
	la, lb := a.RateLimits().Limiter("login", rule, clock.Now), b.RateLimits().Limiter("login", rule, clock.Now)

	allowed := 0
	for i := range 24 {
		l := la
		if i%2 == 1 {
			l = lb
		}
		ok, _, err := l.Allow(ctx, "127.0.0.1|ada@example.org")
		if err != nil {
			t.Fatal(err)
		}
		if ok != (i < 10) {
			t.Fatalf("attempt %d: allowed=%v, want %v", i+1, ok, i < 10)
		}
		if ok {
			allowed++
		}
	}

	// 50 at once over both, limit 10: exactly 10 get through.
	var wg sync.WaitGroup
	var n atomic.Int32
	for i := range 50 {
		l := la
		if i%2 == 1 {
			l = lb
		}
		wg.Go(func() {
			ok, _, err := l.Allow(ctx, "racer")
			if err != nil {
				t.Error(err)
			}
			if ok {
				n.Add(1)
			}
		})
	}
	wg.Wait()
	if n.Load() != 10 {
		t.Fatalf("%d of 50 concurrent checks allowed over two stores, want 10", n.Load())
	}
}

// TestBackoffSharedAcrossStores: failures through either store count
// against one account, also when they race.
func TestBackoffSharedAcrossStores(t *testing.T) {
	a, b, _ := openTwo(t)
	ctx := context.Background()
	clock := ratelimittest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	rule := ratelimit.BackoffRule{Threshold: 20, Window: 15 * time.Minute, Base: time.Minute, Max: 15 * time.Minute}
	ba, bb := a.RateLimits().Backoff("login-account", rule, clock.Now), b.RateLimits().Backoff("login-account", rule, clock.Now)

	var wg sync.WaitGroup
	for i := range 19 {
		th := ba
		if i%2 == 1 {
			th = bb
		}
		wg.Go(func() {
			if err := th.Fail(ctx, "ada@example.org"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if blocked, _, err := bb.Blocked(ctx, "ada@example.org"); err != nil || blocked {
		t.Fatalf("after 19 failures: blocked=%v, %v; want not yet", blocked, err)
	}
	if err := bb.Fail(ctx, "ada@example.org"); err != nil {
		t.Fatal(err)
	}
	for _, th := range []ratelimit.Throttle{ba, bb} {
		if blocked, retry, err := th.Blocked(ctx, "ada@example.org"); err != nil || !blocked || retry != time.Minute {
			t.Fatalf("after 20 failures over two stores: blocked=%v retry=%v, %v; want blocked for 1m", blocked, retry, err)
		}
	}
	if err := ba.Clear(ctx, "ada@example.org"); err != nil {
		t.Fatal(err)
	}
	if blocked, _, err := bb.Blocked(ctx, "ada@example.org"); err != nil || blocked {
		t.Fatalf("after Clear through the other store: blocked=%v, %v", blocked, err)
	}
}

// TestRateLimitsPruneAndHoldNoPlainKeys: expired rows are pruned, live ones
// kept, and no key is stored as given.
func TestRateLimitsPruneAndHoldNoPlainKeys(t *testing.T) {
	s, url := openStore(t)
	ctx := context.Background()
	clock := ratelimittest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := s.RateLimits().Limiter("forgot-email", ratelimit.Rule{Limit: 3, Window: 15 * time.Minute}, clock.Now)
	th := s.RateLimits().Backoff("login-account", ratelimit.BackoffRule{Threshold: 2, Window: 15 * time.Minute, Base: time.Minute, Max: time.Hour}, clock.Now)
	for _, key := range []string{"ada@example.org", "grace@example.org", "192.0.2.7"} {
		if _, _, err := l.Allow(ctx, key); err != nil {
			t.Fatal(err)
		}
		if err := th.Fail(ctx, key); err != nil {
			t.Fatal(err)
		}
	}

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, table := range []string{"rate_limits", "rate_limit_backoff"} {
		rows, err := conn.Query(ctx, "SELECT name, key FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var name string
			var key []byte
			if err := rows.Scan(&name, &key); err != nil {
				t.Fatal(err)
			}
			n++
			// Not "contains @": a random 32-byte HMAC holds the byte 0x40
			// one time in eight.
			plain := slices.ContainsFunc([]string{"ada@example.org", "grace@example.org", "example.org", "192.0.2.7"},
				func(p string) bool { return bytes.Contains(key, []byte(p)) })
			if plain || len(key) != 32 {
				t.Errorf("%s holds key %q: want an HMAC", table, key)
			}
		}
		if rows.Err() != nil || n != 3 {
			t.Fatalf("%s: %d rows, %v; want 3", table, n, rows.Err())
		}
	}

	// Five minutes later the limiter's rows (one event of 3 per 15 min)
	// have expired, the back-offs' (a 15-minute window) not yet.
	clock.Advance(5 * time.Minute)
	if _, _, err := l.Allow(ctx, "ada@example.org"); err != nil { // renewed: kept
		t.Fatal(err)
	}
	if n, err := s.PruneRateLimits(ctx, clock.Now()); err != nil || n != 2 {
		t.Fatalf("first pruning: %d rows, %v; want the 2 expired limiter rows", n, err)
	}
	clock.Advance(time.Hour)
	if n, err := s.PruneRateLimits(ctx, clock.Now()); err != nil || n != 4 {
		t.Fatalf("pruning an hour later: %d rows, %v; want the other 4", n, err)
	}
	var left int
	if err := conn.QueryRow(ctx, "SELECT (SELECT count(*) FROM rate_limits) + (SELECT count(*) FROM rate_limit_backoff)").Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d rows left, %v", left, err)
	}
	// A pruned key starts afresh.
	if ok, _, err := l.Allow(ctx, "ada@example.org"); err != nil || !ok {
		t.Fatalf("after pruning: %v, %v", ok, err)
	}

	// The checks prune by themselves, every PruneEvery of them: an hour
	// on, a round of checks of other keys removes the expired row.
	clock.Advance(time.Hour)
	for i := range postgres.PruneEvery {
		if _, _, err := l.Allow(ctx, fmt.Sprint("192.0.2.", i%200)); err != nil {
			t.Fatal(err)
		}
	}
	var stale int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM rate_limits WHERE tat <= $1", clock.Now()).Scan(&stale); err != nil || stale != 0 {
		t.Fatalf("%d expired rows left after %d checks, %v", stale, postgres.PruneEvery, err)
	}
}

// TestRecorderCountsUnreachableLimits checks that a limit whose queries
// fail (here: its context is over) is counted as an error, the figure an
// operator watches while the endpoint limits fail open.
func TestRecorderCountsUnreachableLimits(t *testing.T) {
	s, _ := openStore(t)
	r := ratelimit.NewRecorder(s.RateLimits(), true)
	l := r.Limiter("login", ratelimit.Rule{Limit: 10, Window: time.Minute}, time.Now)
	th := r.Backoff("login-account", ratelimit.BackoffRule{Threshold: 2, Window: time.Minute, Base: time.Minute, Max: time.Hour}, time.Now)
	if ok, _, err := l.Allow(context.Background(), "k"); err != nil || !ok {
		t.Fatalf("Allow = %v, %v; want allowed", ok, err)
	}
	over, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := l.Allow(over, "k"); err == nil {
		t.Fatal("Allow with a cancelled context: no error")
	}
	if _, _, err := th.Blocked(over, "k"); err == nil {
		t.Fatal("Blocked with a cancelled context: no error")
	}
	want := []ratelimit.Decision{
		{Limit: "login", Outcome: ratelimit.OutcomeAllowed, Count: 1},
		{Limit: "login", Outcome: ratelimit.OutcomeError, Count: 1},
		{Limit: "login", Outcome: ratelimit.OutcomeLimited, Count: 0},
		{Limit: "login-account", Outcome: ratelimit.OutcomeBlocked, Count: 0},
		{Limit: "login-account", Outcome: ratelimit.OutcomeError, Count: 1},
		{Limit: "login-account", Outcome: ratelimit.OutcomeFailure, Count: 0},
		{Limit: "login-account", Outcome: ratelimit.OutcomeOpen, Count: 0},
	}
	if got := r.Decisions(); !slices.Equal(got, want) {
		t.Fatalf("Decisions() =\n%v\nwant\n%v", got, want)
	}
}
