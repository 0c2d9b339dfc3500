package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/anavara/anavara/model"
)

// clientAgent is the User-Agent the grace tests' owner sends, as the TUI does.
const clientAgent = "anavara-client/1"

// refreshFrom presents token as a client sending userAgent.
func (h *harness) refreshFrom(token, userAgent string) *response {
	h.t.Helper()
	return h.send(request{
		method: http.MethodPost, path: "/api/auth/token/refresh",
		body: map[string]any{"refresh_token": token}, headers: map[string]string{"User-Agent": userAgent},
	})
}

// countActions counts the audited events with action about entityID.
func (h *harness) countActions(entityID, action string) int {
	h.t.Helper()
	n := 0
	for _, a := range h.auditActions(entityID) {
		if a == action {
			n++
		}
	}
	return n
}

// TestRefreshGraceAnswersTheRotatingClientOnce: two windows sharing one
// stored sign-in refresh at once, or a client whose answer was lost
// retries. Within 10 s of the rotation, from the same address and
// User-Agent, the replay gets a working pair, nothing is revoked and the
// grace is audited; a second replay is reuse.
func TestRefreshGraceAnswersTheRotatingClientOnce(t *testing.T) {
	h := newHarness(t)
	a := h.signup("grace@example.org")

	var first model.TokenPair
	h.refreshFrom(a.Refresh, clientAgent).expect(http.StatusOK).decode(&first)
	h.clock.Advance(9 * time.Second)

	var sibling model.TokenPair
	h.refreshFrom(a.Refresh, clientAgent).expect(http.StatusOK).decode(&sibling)
	if sibling.AccessToken == "" || sibling.RefreshToken == "" || sibling.RefreshToken == first.RefreshToken || sibling.RefreshToken == a.Refresh {
		t.Fatalf("grace answered %+v (first rotation %+v)", sibling, first)
	}
	if got := h.countActions(a.ID, model.ActionTokenGrace); got != 1 {
		t.Fatalf("grace audited %d times: %v", got, h.auditActions(a.ID))
	}
	if h.countActions(a.ID, model.ActionTokenReuse) != 0 {
		t.Fatalf("grace counted as reuse: %v", h.auditActions(a.ID))
	}
	// Both holders keep working: no access token was invalidated, and both
	// refresh tokens rotate on their own.
	h.get("/api/users/me", first.AccessToken).expect(http.StatusOK)
	h.get("/api/users/me", sibling.AccessToken).expect(http.StatusOK)
	var next model.TokenPair
	h.refreshFrom(sibling.RefreshToken, clientAgent).expect(http.StatusOK).decode(&next)
	h.get("/api/users/me", next.AccessToken).expect(http.StatusOK)

	// The grace is granted once: the same replay again is reuse, and the
	// whole family dies, both branches included.
	h.refreshFrom(a.Refresh, clientAgent).expect(http.StatusUnauthorized)
	if h.countActions(a.ID, model.ActionTokenReuse) != 1 {
		t.Fatalf("second replay not audited as reuse: %v", h.auditActions(a.ID))
	}
	h.refreshFrom(first.RefreshToken, clientAgent).expect(http.StatusUnauthorized)
	h.refreshFrom(next.RefreshToken, clientAgent).expect(http.StatusUnauthorized)
	h.get("/api/users/me", next.AccessToken).expect(http.StatusUnauthorized)
}

// TestRefreshGraceEndsAfterTenSeconds: at 10 s after the rotation and
// later, a replay from the very same client is reuse again.
func TestRefreshGraceEndsAfterTenSeconds(t *testing.T) {
	for _, wait := range []time.Duration{10 * time.Second, time.Minute} {
		t.Run(wait.String(), func(t *testing.T) {
			h := newHarness(t)
			a := h.signup("late@example.org")
			var first model.TokenPair
			h.refreshFrom(a.Refresh, clientAgent).expect(http.StatusOK).decode(&first)
			h.clock.Advance(wait)
			h.refreshFrom(a.Refresh, clientAgent).expect(http.StatusUnauthorized)
			assertFamilyRevoked(t, h, a, first)
		})
	}
}

// TestRefreshGraceNeedsTheSameUserAgent: a replay within the window that
// comes with another User-Agent is another client: reuse.
func TestRefreshGraceNeedsTheSameUserAgent(t *testing.T) {
	h := newHarness(t)
	a := h.signup("agent@example.org")
	var first model.TokenPair
	h.refreshFrom(a.Refresh, clientAgent).expect(http.StatusOK).decode(&first)
	h.clock.Advance(time.Second)
	h.refreshFrom(a.Refresh, "curl/8.5.0").expect(http.StatusUnauthorized)
	assertFamilyRevoked(t, h, a, first)
}

// TestRefreshGraceNeedsAnUnusedChild: once the token the rotation issued
// has itself been rotated, the sign-in has moved on, and a replay of its
// parent is reuse even within the window.
func TestRefreshGraceNeedsAnUnusedChild(t *testing.T) {
	h := newHarness(t)
	a := h.signup("child@example.org")
	var first, second model.TokenPair
	h.refreshFrom(a.Refresh, clientAgent).expect(http.StatusOK).decode(&first)
	h.refreshFrom(first.RefreshToken, clientAgent).expect(http.StatusOK).decode(&second)
	h.refreshFrom(a.Refresh, clientAgent).expect(http.StatusUnauthorized)
	assertFamilyRevoked(t, h, a, second)
}

// TestRefreshGraceNeedsTheSameAddress serves the real app on a loopback
// listener, so the two requests can come from different addresses with the
// same User-Agent: the replay from the other address is reuse.
func TestRefreshGraceNeedsTheSameAddress(t *testing.T) {
	h := newHarness(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	refresh := func(from, token string) (int, model.TokenPair) {
		t.Helper()
		dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
		tr := &http.Transport{DialContext: dialer.DialContext}
		defer tr.CloseIdleConnections()
		body, _ := json.Marshal(map[string]string{"refresh_token": token})
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/api/auth/token/refresh", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", clientAgent)
		res, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Skipf("cannot send from %s here: %v", from, err)
		}
		defer res.Body.Close()
		var pair model.TokenPair
		_ = json.NewDecoder(res.Body).Decode(&pair)
		return res.StatusCode, pair
	}

	a := h.signup("address@example.org")
	status, first := refresh("127.0.0.1", a.Refresh)
	if status != http.StatusOK {
		t.Fatalf("rotation: %d", status)
	}
	if status, _ := refresh("127.0.0.2", a.Refresh); status != http.StatusUnauthorized {
		t.Fatalf("replay from another address: %d, want 401", status)
	}
	assertFamilyRevoked(t, h, a, first)

	// The same exchange from one address is within the grace.
	b := h.signup("same-address@example.org")
	if status, _ := refresh("127.0.0.1", b.Refresh); status != http.StatusOK {
		t.Fatalf("rotation: %d", status)
	}
	if status, _ := refresh("127.0.0.1", b.Refresh); status != http.StatusOK {
		t.Fatalf("replay from the same address: %d, want 200", status)
	}
}

// assertFamilyRevoked checks what reuse does: audited, the newest token
// of the family refused, the user's access tokens invalidated.
func assertFamilyRevoked(t *testing.T, h *harness, a account, newest model.TokenPair) {
	t.Helper()
	actions := h.auditActions(a.ID)
	if !slices.Contains(actions, model.ActionTokenReuse) || slices.Contains(actions, model.ActionTokenGrace) {
		t.Fatalf("audit %v, want reuse and no grace", actions)
	}
	h.refreshFrom(newest.RefreshToken, clientAgent).expect(http.StatusUnauthorized)
	h.get("/api/users/me", newest.AccessToken).expect(http.StatusUnauthorized)
}
