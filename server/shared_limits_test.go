package server_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/mail"
	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/server"
)

// secondInstance starts another server on h's database, as a second
// anavara serve would be (its own store, so its own pool; the same clock
// and limits), on a loopback listener, and returns its base URL.
func (h *harness) secondInstance() string {
	h.t.Helper()
	return h.secondInstanceWith()
}

// secondInstanceWith is secondInstance with its config adjusted by opts,
// which should match those h was built with.
func (h *harness) secondInstanceWith(opts ...harnessOption) string {
	h.t.Helper()
	setup := newHarnessSetup(h.clock, opts)
	srv, err := server.New(setup.cfg, testenv.OpenAgain(h.t, h.target), mail.NewCapture())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String()
}

// TestLimitsSharedAcrossInstances is the regression for limits kept per
// process: 24 wrong logins alternating over two instances on one database
// answered 20 × 401 and 4 × 429. On PostgreSQL the limits live in the
// database, so the login limit (10 a minute per address and email) holds
// once over both, and the per-account back-off counts failures through
// either. (On SQLite, one process per database, the limits stay in
// memory.)
func TestLimitsSharedAcrossInstances(t *testing.T) {
	if !testenv.OnPostgres() {
		t.Skip("the limits are shared by the instances on one PostgreSQL database; on SQLite one process serves a database")
	}
	h := newHarness(t)
	victim := h.signup("victim@example.org")
	bases := []string{h.serveOnLoopback(), h.secondInstance()}

	for i := range 24 {
		status, _ := loginFrom(t, bases[i%2], "127.0.3.1", victim.Email, "Wrong-guess-123")
		want := http.StatusUnauthorized
		if i >= 10 {
			want = http.StatusTooManyRequests
		}
		if status != want {
			t.Fatalf("login %d of 24, through instance %d: %d, want %d", i+1, i%2+1, status, want)
		}
	}

	// Ten failures counted against the account so far; ten more from
	// other addresses, alternating, reach the threshold of 20.
	for i := range 10 {
		if status, _ := loginFrom(t, bases[i%2], "127.0.4."+strconv.Itoa(i+1), victim.Email, "Wrong-guess-123"); status != http.StatusUnauthorized {
			t.Fatalf("failure %d from a fresh address: %d, want 401", 11+i, status)
		}
	}
	for i, base := range bases {
		if status, retry := loginFrom(t, base, "127.0.5.1", victim.Email, victim.Password); status != http.StatusTooManyRequests || retry != "60" {
			t.Fatalf("instance %d after 20 failures over both: %d, Retry-After %q; want 429 and 60", i+1, status, retry)
		}
	}
	// The block ends; a login through one instance clears the count for
	// both.
	h.clock.Advance(time.Minute)
	if status, _ := loginFrom(t, bases[1], "127.0.5.1", victim.Email, victim.Password); status != http.StatusOK {
		t.Fatalf("right password after the block: %d, want 200", status)
	}
	for i := range 19 {
		loginFrom(t, bases[i%2], "127.0.6."+strconv.Itoa(i+1), victim.Email, "Wrong-guess-123")
	}
	if status, _ := loginFrom(t, bases[0], "127.0.5.1", victim.Email, victim.Password); status != http.StatusOK {
		t.Fatalf("19 failures after a login through the other instance blocked the account (%d)", status)
	}
}

// brokenLimits is a ratelimit.Store whose every query fails, as the
// database's would when its limit tables cannot be reached.
type brokenLimits struct{}

var errLimitsDown = errors.New("limits unreachable")

func (brokenLimits) Limiter(string, ratelimit.Rule, func() time.Time) ratelimit.Counter {
	return brokenLimit{}
}

func (brokenLimits) Backoff(string, ratelimit.BackoffRule, func() time.Time) ratelimit.Throttle {
	return brokenLimit{}
}

type brokenLimit struct{}

func (brokenLimit) Allow(context.Context, string) (bool, time.Duration, error) {
	return false, 0, errLimitsDown
}
func (brokenLimit) Blocked(context.Context, string) (bool, time.Duration, error) {
	return false, 0, errLimitsDown
}
func (brokenLimit) Fail(context.Context, string) error  { return errLimitsDown }
func (brokenLimit) Clear(context.Context, string) error { return errLimitsDown }

// TestLimitsUnavailable: when the limits cannot be asked, the endpoint
// limits let requests through (and say so in the log), while the
// per-account login back-off refuses the login it cannot count.
func TestLimitsUnavailable(t *testing.T) {
	var logs testenv.LockedBuffer
	h := newHarness(t, withConfig(func(c *server.Config) {
		c.RateLimits = brokenLimits{}
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	}))
	ann := h.signup("ann@example.org") // the sign-up limit failed open
	h.post("/api/auth/forgot-password", map[string]any{"email": ann.Email}, "").expect(http.StatusOK)
	h.post("/api/auth/login", map[string]any{"email": ann.Email, "password": ann.Password}, "").expect(http.StatusInternalServerError)
	if !strings.Contains(logs.String(), "rate limit unavailable, request allowed") {
		t.Fatalf("no warning logged:\n%s", logs.String())
	}
	if n := strings.Count(logs.String(), "rate limit unavailable, request allowed"); n != 1 {
		t.Fatalf("%d warnings for four failures within a minute, want 1 (throttled)", n)
	}
}
