package sshapp_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// sshRun runs the real OpenSSH client with key (no PTY), asking for
// command; it returns stdout, stderr and the exit status.
func (e *env) sshRun(t *testing.T, key testKey, command ...string) (string, string, int) {
	t.Helper()
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("OpenSSH client not installed (apt-get install openssh-client); .ci/run installs it")
	}
	keyPath := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(keyPath, privatePEM(t, key), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(e.sshAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append([]string{"-T", "-p", port, "-F", "/dev/null", "-i", keyPath,
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
		"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes", host}, command...)
	cmd := exec.CommandContext(ctx, sshBin, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("ssh: %v", err)
	}
	return stdout.String(), stderr.String(), code
}

// apiStatus is the status of GET path on the API with bearer token.
func (e *env) apiStatus(t *testing.T, token, method, path string) int {
	t.Helper()
	req, err := http.NewRequest(method, e.api+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestTokenCommand: ssh host token, with the real OpenSSH client and no
// PTY, prints a 15-minute access token for the key's account, narrowed by
// --scopes, and audited; what is not a registered key gets a clear
// message and exit 1.
func TestTokenCommand(t *testing.T) {
	e := newEnv(t)
	key := newKey(t)
	e.patient("script@example.org", "Sally Script", key.PublicKey())

	out, stderr, code := e.sshRun(t, key, "token")
	tok := strings.TrimSpace(out)
	if code != 0 || tok == "" || strings.Count(tok, ".") != 2 || strings.ContainsAny(tok, " \n") {
		t.Fatalf("token: exit %d, stdout %q, stderr %q; want one JWT on stdout", code, out, stderr)
	}
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/api/users/me"},
		{http.MethodGet, "/api/medical-records/"},
	} {
		if got := e.apiStatus(t, tok, tc.method, tc.path); got != http.StatusOK {
			t.Errorf("%s %s with the SSH token: %d, want 200", tc.method, tc.path, got)
		}
	}
	// A token mints no more tokens and changes no password.
	if got := e.apiStatus(t, tok, http.MethodGet, "/api/users/me/tokens"); got != http.StatusForbidden {
		t.Errorf("GET /api/users/me/tokens with the SSH token: %d, want 403", got)
	}

	out, stderr, code = e.sshRun(t, key, "token", "--scopes", "records:read")
	narrow := strings.TrimSpace(out)
	if code != 0 || narrow == "" {
		t.Fatalf("token --scopes records:read: exit %d, %q %q", code, out, stderr)
	}
	if got := e.apiStatus(t, narrow, http.MethodGet, "/api/medical-records/"); got != http.StatusOK {
		t.Errorf("records with a records:read token: %d, want 200", got)
	}
	if got := e.apiStatus(t, narrow, http.MethodGet, "/api/users/me"); got != http.StatusForbidden {
		t.Errorf("GET /api/users/me with a records:read token: %d, want 403", got)
	}

	// Each token asked for is in the trail, naming the key.
	events, _, err := e.store.Read().ListAudit(context.Background(), db.AuditFilter{Action: model.ActionSSHToken, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[0].Entity != model.EntitySSHKey || events[0].Via != model.ViaSSH || events[0].ActorID == nil {
		t.Fatalf("audit of the SSH tokens: %+v", events)
	}

	for _, tc := range []struct {
		name     string
		key      testKey
		args     []string
		code     int
		stderr   string
		noStdout bool
	}{
		{"unregistered key", newKey(t), []string{"token"}, 1, "This SSH key is not registered with Anavara", true},
		{"unknown scope", key, []string{"token", "--scopes", "records:read,everything"}, 2, "Unknown scope: use records:read", true},
		{"audit:read for a patient", key, []string{"token", "--scopes", "audit:read"}, 2, "audit:read", true},
		{"stray argument", key, []string{"token", "now"}, 2, "Usage: token", true},
		{"unknown command", key, []string{"rm", "-rf"}, 1, `Unknown command "rm": the terminal UI needs a PTY`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := e.sshRun(t, tc.key, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) || (tc.noStdout && out != "") {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, stderr, tc.code, tc.stderr)
			}
		})
	}
}
