package server_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/mail"
	"github.com/anavara/anavara/server"
)

// fastPoll is the reset workers' poll interval in these tests: a request
// left in the outbox is found within milliseconds.
const fastPoll = 5 * time.Millisecond

// restarted is another server on h's database, as anavara serve started
// again (or a second instance) would be: its own store, the same clock,
// its reset-code worker running and polling every fastPoll, a mailbox of
// its own. It is shut down when the test ends.
func (h *harness) restarted(opts ...harnessOption) *harness {
	h.t.Helper()
	opts = append([]harnessOption{withConfig(func(c *server.Config) { c.ResetPollInterval = fastPoll })}, opts...)
	setup := newHarnessSetup(h.clock, opts)
	capture := mail.NewCapture()
	store := testenv.OpenAgain(h.t, h.target)
	srv, err := server.New(setup.cfg, store, capture)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	next := *h
	next.srv, next.store, next.mail = srv, store, capture
	return &next
}

// waitForCode waits for the next reset code mailed to email.
func (h *harness) waitForCode(email string) string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg, err := h.mail.WaitFor(ctx, email)
	if err != nil {
		h.t.Fatalf("no reset code mailed to %s: %v", email, err)
	}
	code := sixDigits.FindString(msg.Body)
	if code == "" {
		h.t.Fatalf("no code in email %q", msg.Body)
	}
	return code
}

// outboxEmpty fails the test unless no reset request waits in the
// outbox, whatever its lease.
func (h *harness) outboxEmpty() {
	h.t.Helper()
	due, err := h.store.Read().ResetRequestsDue(context.Background(), h.clock.Now().Add(24*time.Hour))
	if err != nil || due {
		h.t.Fatalf("reset requests left in the outbox: %v, %v", due, err)
	}
}

// shutdown stops h's server, failing the test if it does not finish in
// time.
func (h *harness) shutdown() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		h.t.Fatalf("Shutdown: %v", err)
	}
}

// A server that answered forgot-password and stopped before serving it —
// as if it crashed right after the answer — loses nothing: the request
// waits in the outbox, and the next server on the database mails the code,
// which resets the password.
func TestResetRequestSurvivesACrash(t *testing.T) {
	h := newHarness(t, withoutResetWorker())
	a := h.signup("crash@example.org")
	h.post("/api/auth/forgot-password", map[string]any{"email": a.Email}, "").expect(http.StatusOK)
	h.post("/api/auth/forgot-password", map[string]any{"email": "nobody@example.org"}, "").expect(http.StatusOK)
	// Out of time at once: nothing is served on the way out.
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	_ = h.srv.Shutdown(gone)
	if n := len(h.mail.Messages()); n != 0 {
		t.Fatalf("%d emails from the server that stopped", n)
	}

	next := h.restarted()
	code := next.waitForCode(a.Email)
	next.post("/api/auth/reset-password", map[string]any{"email": a.Email, "otp_code": code, "password": newPassword}, "").
		expect(http.StatusOK)
	next.login(a.Email, newPassword)
	next.shutdown()
	if n := len(next.mail.Messages()); n != 1 {
		t.Fatalf("%d emails, want 1 (none for the unknown address)", n)
	}
	next.outboxEmpty()
}

// Two requests of one account served out of order — the older one held by
// a worker that stalled, the newer one served meanwhile — end with the
// newer request's code the only one: the older request, served last,
// issues nothing and mails nothing.
func TestResetRequestsOutOfOrderNewerWins(t *testing.T) {
	h := newHarness(t, withoutResetWorker())
	a := h.signup("order@example.org")
	ctx := context.Background()
	h.post("/api/auth/forgot-password", map[string]any{"email": a.Email}, "").expect(http.StatusOK)
	h.clock.Advance(time.Minute)
	second := h.clock.Now()
	h.post("/api/auth/forgot-password", map[string]any{"email": a.Email}, "").expect(http.StatusOK)
	// A worker elsewhere claims the older request and stalls.
	var stalled []db.ResetRequest
	if err := h.store.Write(ctx, func(tx db.Tx) error {
		var err error
		stalled, err = tx.ClaimResetRequests(ctx, h.clock.Now(), 2*time.Minute, 1)
		return err
	}); err != nil || len(stalled) != 1 || !stalled[0].RequestedAt.Before(second) {
		t.Fatalf("claimed %+v, %v; want the older request", stalled, err)
	}
	h.srv.StartResetWorker()
	newer := h.waitForCode(a.Email)
	// The stalled claim's lease runs out; the worker serves the older
	// request now, and Shutdown waits for it.
	h.clock.Advance(2*time.Minute + time.Second)
	h.shutdown()
	if n := len(h.mail.Messages()); n != 1 {
		t.Fatalf("%d emails, want 1: the older request, served last, mailed a code", n)
	}
	h.outboxEmpty()
	if events := h.resetRequestedEvents(a.ID); len(events) != 1 {
		t.Fatalf("%d reset-request events, want 1 (the code issued)", len(events))
	}
	next := h.restarted()
	next.post("/api/auth/reset-password", map[string]any{"email": a.Email, "otp_code": newer, "password": newPassword}, "").
		expect(http.StatusOK)
}

// A request older than a code's lifetime when a worker first gets to it is
// dropped, unmailed: its code would have expired already.
func TestResetRequestOlderThanACodeIsDropped(t *testing.T) {
	h := newHarness(t, withoutResetWorker())
	a := h.signup("late@example.org")
	h.post("/api/auth/forgot-password", map[string]any{"email": a.Email}, "").expect(http.StatusOK)
	h.clock.Advance(5 * time.Minute)
	h.srv.StartResetWorker()
	h.shutdown()
	if n := len(h.mail.Messages()); n != 0 {
		t.Fatalf("%d emails for a request older than a code's lifetime", n)
	}
	h.outboxEmpty()
	if events := h.resetRequestedEvents(a.ID); len(events) != 0 {
		t.Fatalf("%d reset-request events for a dropped request", len(events))
	}
}

// Two instances on one database, their workers polling all the time and
// woken by their own requests: every request is served exactly once, by
// one of them — one code issued, one email. (On PostgreSQL the claims skip
// each other's locked rows; on SQLite they take turns at the one writer.)
// One request per account, so that no newer request supersedes another.
func TestTwoInstancesMailEachRequestOnce(t *testing.T) {
	generous := testLimits()
	generous.ForgotPerIP.Limit = 1000
	poll := withConfig(func(c *server.Config) { c.ResetPollInterval = time.Millisecond })
	h := newHarness(t, withLimits(generous), poll)
	other := h.restarted(withLimits(generous), poll)
	const accounts = 12
	var users []account
	for i := range accounts {
		users = append(users, h.signup(fmt.Sprintf("twice-%d@example.org", i)))
	}
	for i, a := range users {
		via := h
		if i%2 == 1 {
			via = other
		}
		via.post("/api/auth/forgot-password", map[string]any{"email": a.Email}, "").expect(http.StatusOK)
	}
	h.shutdown()
	other.shutdown()
	h.outboxEmpty()
	sent := map[string]int{}
	for _, m := range append(h.mail.Messages(), other.mail.Messages()...) {
		sent[m.To]++
	}
	for _, a := range users {
		if sent[a.Email] != 1 {
			t.Errorf("%s got %d emails, want 1", a.Email, sent[a.Email])
		}
		if n := len(h.resetRequestedEvents(a.ID)); n != 1 {
			t.Errorf("%s: %d codes issued, want 1", a.Email, n)
		}
	}
	if total := len(h.mail.Messages()) + len(other.mail.Messages()); total != accounts {
		t.Errorf("%d emails in all, want %d", total, accounts)
	}
}

// unreachableMailer is a real SMTP mailer pointed at a loopback port
// nothing listens on: every Send fails, as with a mail server down.
func unreachableMailer(t *testing.T) mail.Mailer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	m, err := mail.New("smtp://"+addr+"?from=anavara@example.org", nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// failingInstance is a server on h's database whose mail never goes out,
// its worker polling every fastPoll; the caller shuts it down.
func (h *harness) failingInstance(opts ...harnessOption) *harness {
	h.t.Helper()
	opts = append([]harnessOption{withConfig(func(c *server.Config) { c.ResetPollInterval = fastPoll })}, opts...)
	setup := newHarnessSetup(h.clock, opts)
	store := testenv.OpenAgain(h.t, h.target)
	srv, err := server.New(setup.cfg, store, unreachableMailer(h.t))
	if err != nil {
		h.t.Fatal(err)
	}
	next := *h
	next.srv, next.store, next.mail = srv, store, mail.NewCapture()
	return &next
}

// due reports whether a reset request is claimable at at.
func (h *harness) due(at time.Time) bool {
	h.t.Helper()
	due, err := h.store.Read().ResetRequestsDue(context.Background(), at)
	if err != nil {
		h.t.Fatal(err)
	}
	return due
}

// Mail that fails leaves the request in the outbox, leased: once the lease
// runs out a worker — here another server's — tries again, with a fresh
// code, which works.
func TestResetMailFailureIsRetried(t *testing.T) {
	h := newHarness(t, withoutResetWorker())
	a := h.signup("retry@example.org")
	failing := h.failingInstance()
	failing.post("/api/auth/forgot-password", map[string]any{"email": a.Email}, "").expect(http.StatusOK)
	failing.shutdown() // serves the request, and fails to mail it
	if events := h.resetRequestedEvents(a.ID); len(events) != 1 {
		t.Fatalf("%d codes issued by the failing server, want 1", len(events))
	}
	if h.due(h.clock.Now()) || !h.due(h.clock.Now().Add(2*time.Minute+time.Second)) {
		t.Fatal("the request is not in the outbox under a lease after its mail failed")
	}
	h.clock.Advance(2*time.Minute + time.Second)
	next := h.restarted()
	code := next.waitForCode(a.Email)
	next.post("/api/auth/reset-password", map[string]any{"email": a.Email, "otp_code": code, "password": newPassword}, "").
		expect(http.StatusOK)
	next.shutdown()
	next.outboxEmpty()
	if n := len(next.mail.Messages()); n != 1 {
		t.Fatalf("%d emails, want 1", n)
	}
}

// A request whose mail fails every time is dropped after five attempts.
func TestResetMailFailingFiveTimesIsDropped(t *testing.T) {
	// Codes that live long enough for five leases to run out.
	long := withConfig(func(c *server.Config) { c.OTPTTL = time.Hour })
	h := newHarness(t, withoutResetWorker(), long)
	a := h.signup("bounce@example.org")
	h.post("/api/auth/forgot-password", map[string]any{"email": a.Email}, "").expect(http.StatusOK)
	for attempt := 1; attempt <= 5; attempt++ {
		if !h.due(h.clock.Now()) {
			t.Fatalf("attempt %d: the request is gone from the outbox", attempt)
		}
		h.failingInstance(long).shutdown()
		h.clock.Advance(2*time.Minute + time.Second)
	}
	h.outboxEmpty()
	if events := h.resetRequestedEvents(a.ID); len(events) != 5 {
		t.Fatalf("%d codes issued, want 5: one per attempt", len(events))
	}
}
