package server_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/server"
)

// withSSHConnections sets the per-address SSH connection rule.
func withSSHConnections(r ratelimit.Rule) harnessOption {
	return func(h *harnessSetup) { h.cfg.Limits.SSHConnectionsPerIP = r }
}

// sshConnection asks the harness whether address may open an SSH
// connection, with the service credential token; an empty address sends
// no address header.
func (h *harness) sshConnection(token, address string) *response {
	h.t.Helper()
	headers := map[string]string{}
	if token != "" {
		headers[server.HeaderServiceToken] = token
	}
	if address != "" {
		headers[server.HeaderClientAddress] = address
	}
	return h.send(request{method: http.MethodPost, path: "/api/auth/ssh-connection", headers: headers})
}

func TestSSHConnectionCheck(t *testing.T) {
	h := newHarness(t, withServiceToken(testServiceToken), withSSHConnections(ratelimit.Rule{Limit: 3, Window: time.Hour}))

	h.sshConnection("", "192.0.2.7").expectError(http.StatusUnauthorized, "Invalid service credential.")
	h.sshConnection("wrong-"+testServiceToken, "192.0.2.7").expectError(http.StatusUnauthorized, "Invalid service credential.")
	if body := h.sshConnection(testServiceToken, "").expectError(http.StatusBadRequest, ""); !strings.Contains(body.Message, server.HeaderClientAddress) {
		t.Fatalf("400 without the address header says %q, which does not name %s", body.Message, server.HeaderClientAddress)
	}
	h.sshConnection(testServiceToken, "not-an-address").expect(http.StatusBadRequest)

	for range 3 {
		h.sshConnection(testServiceToken, "192.0.2.7").expect(http.StatusNoContent)
	}
	// 3 an hour: one more every 20 minutes.
	res := h.sshConnection(testServiceToken, "192.0.2.7").expect(http.StatusTooManyRequests)
	if got := res.Header.Get("Retry-After"); got != "1200" {
		t.Fatalf("Retry-After %q, want 1200", got)
	}
	// The limit is the forwarded address's, not the caller's: another
	// client of the same front end may still connect.
	h.sshConnection(testServiceToken, "192.0.2.8").expect(http.StatusNoContent)
	// The refused checks before the credential or the address was right
	// counted nothing; a refused connection does not either.
	h.clock.Advance(20 * time.Minute)
	h.sshConnection(testServiceToken, "192.0.2.7").expect(http.StatusNoContent)
	h.sshConnection(testServiceToken, "192.0.2.7").expect(http.StatusTooManyRequests)
}

// TestSSHConnectionCheckDefaultRule: without a rule of its own the check
// applies DefaultLimits' 30 a minute.
func TestSSHConnectionCheckDefaultRule(t *testing.T) {
	if r := auth.DefaultLimits.SSHConnectionsPerIP; r != (ratelimit.Rule{Limit: 30, Window: time.Minute}) {
		t.Fatalf("DefaultLimits.SSHConnectionsPerIP = %+v, want 30 a minute", r)
	}
	h := newHarness(t, withServiceToken(testServiceToken))
	for i := range 30 {
		if res := h.sshConnection(testServiceToken, "192.0.2.9"); res.Status != http.StatusNoContent {
			t.Fatalf("connection %d of 30: %d", i+1, res.Status)
		}
	}
	h.sshConnection(testServiceToken, "192.0.2.9").expect(http.StatusTooManyRequests)
}

// TestSSHConnectionCheckFailsOpen: a limit that cannot be asked lets the
// connection in and says so in the log, as the other endpoint limits do.
func TestSSHConnectionCheckFailsOpen(t *testing.T) {
	var logs testenv.LockedBuffer
	h := newHarness(t, withServiceToken(testServiceToken), withConfig(func(c *server.Config) {
		c.RateLimits = brokenLimits{}
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	}))
	h.sshConnection(testServiceToken, "192.0.2.7").expect(http.StatusNoContent)
	if !strings.Contains(logs.String(), "rate limit unavailable, request allowed") {
		t.Fatalf("no warning logged:\n%s", logs.String())
	}
}

// TestSSHConnectionLimitSharedAcrossInstances: on PostgreSQL two API
// instances count one address's SSH connections in one bucket, so front
// ends asking either are held to the limit once.
func TestSSHConnectionLimitSharedAcrossInstances(t *testing.T) {
	if !testenv.OnPostgres() {
		t.Skip("the limit is shared by the instances on one PostgreSQL database; on SQLite one process serves a database")
	}
	opts := []harnessOption{withServiceToken(testServiceToken), withSSHConnections(ratelimit.Rule{Limit: 3, Window: time.Hour})}
	h := newHarness(t, opts...)
	bases := []string{h.serveOnLoopback(), h.secondInstanceWith(opts...)}
	check := func(base, address string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, base+"/api/auth/ssh-connection", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(server.HeaderServiceToken, testServiceToken)
		req.Header.Set(server.HeaderClientAddress, address)
		res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header.Get("Retry-After")
	}
	for i := range 3 {
		if status, _ := check(bases[i%2], "192.0.2.7"); status != http.StatusNoContent {
			t.Fatalf("connection %d of 3, through instance %d: %d, want 204", i+1, i%2+1, status)
		}
	}
	for i, base := range bases {
		if status, retry := check(base, "192.0.2.7"); status != http.StatusTooManyRequests || retry != "1200" {
			t.Fatalf("instance %d after 3 connections over both: %d, Retry-After %q; want 429 and 1200", i+1, status, retry)
		}
	}
}
