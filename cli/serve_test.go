package cli_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/cli"
)

// startServe runs `anavara serve` in-process on a free loopback port and
// returns its base URL and a function that stops it and returns the exit code.
func startServe(t *testing.T, dataDir string) (string, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- cli.Execute(ctx, []string{"serve", "--data-dir", dataDir, "--http", "127.0.0.1:0", "--ssh", "127.0.0.1:0"},
			cli.Streams{In: strings.NewReader(""), Out: outW, Err: io.Discard})
		outW.Close()
	}()
	// serve prints the API's line after every other listener's.
	lines := bufio.NewReader(outR)
	var line string
	for !strings.HasPrefix(line, "API listening on ") {
		var err error
		if line, err = lines.ReadString('\n'); err != nil {
			cancel()
			t.Fatalf("serve printed no API address: %v (exit %d)", err, <-code)
		}
	}
	go io.Copy(io.Discard, lines)
	base := strings.TrimSpace(strings.TrimPrefix(line, "API listening on "))
	stopped := false
	stop := func() int {
		if stopped {
			return 0
		}
		stopped = true
		cancel()
		select {
		case c := <-code:
			return c
		case <-time.After(20 * time.Second):
			t.Fatal("serve did not stop within 20 s")
			return -1
		}
	}
	t.Cleanup(func() { stop() })
	return base, stop
}

func TestServeKeepsSessionsAcrossRestarts(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	base, stop := startServe(t, dataDir)

	res, err := http.Get(base + "/healthz")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()
	body := `{"first_name":"Ann","last_name":"Lee","email":"ann@example.org","password":"Vq7!plum-Orbit-42"}`
	res, err = http.Post(base+"/api/auth/signup", "application/json", strings.NewReader(body))
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("signup: %v %v", res, err)
	}
	var signup struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(res.Body).Decode(&signup)
	res.Body.Close()
	if code := stop(); code != 0 {
		t.Fatalf("serve exited %d after cancellation, want 0", code)
	}

	info, err := os.Stat(filepath.Join(dataDir, "jwt.key"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Fatalf("jwt.key mode %v, want 0600", perm)
	}

	// After a restart the generated secret is reused: the token still works.
	base, _ = startServe(t, dataDir)
	req, _ := http.NewRequest(http.MethodGet, base+"/api/users/me", nil)
	req.Header.Set("Authorization", "Bearer "+signup.AccessToken)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("token after restart: status %d, want 200", res.StatusCode)
	}
}

func TestServeRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	for name, args := range map[string][]string{
		"short jwt secret": {"serve", "--data-dir", dir, "--jwt-secret", "short"},
		"bad mailer":       {"serve", "--data-dir", dir, "--mailer", "carrier-pigeon://coop"},
		"bad log format":   {"serve", "--data-dir", dir, "--log-format", "xml"},
	} {
		t.Run(name, func(t *testing.T) {
			var stderr strings.Builder
			code := cli.Execute(context.Background(), args, cli.Streams{In: strings.NewReader(""), Out: io.Discard, Err: &stderr})
			if code == 0 || !strings.Contains(stderr.String(), "anavara:") {
				t.Fatalf("exit %d, stderr %q; want a clear error", code, stderr.String())
			}
		})
	}
}
