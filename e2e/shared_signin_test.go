package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anavara/anavara/tui"
	"github.com/anavara/anavara/tui/client"
)

// Environment of a shared sign-in helper process (TestSharedSignInHelper).
const (
	envHelperServer = "ANAVARA_SIGNIN_HELPER_SERVER"
	envHelperDir    = "ANAVARA_SIGNIN_HELPER_DIR"
)

// TestSharedSignInHelper is not a test: run by TestTwoProcessesShareOneSignIn
// as a child process (the test binary again, with envHelperServer set), it
// is one window of the local TUI without the screen: the client and the
// credentials store wired as `anavara tui` wires them. It answers commands
// on stdin, one a line, with one line on stdout starting "ok" or "err":
//
//	login EMAIL PASSWORD
//	me
func TestSharedSignInHelper(t *testing.T) {
	server := os.Getenv(envHelperServer)
	if server == "" {
		t.Skip("only run as a child of TestTwoProcessesShareOneSignIn")
	}
	c, err := tui.NewSharedClient(client.Options{BaseURL: server}, tui.FileCredentials(os.Getenv(envHelperDir)))
	if err != nil {
		fmt.Println("err", err)
		return
	}
	ctx := context.Background()
	lines := bufio.NewScanner(os.Stdin)
	for lines.Scan() {
		f := strings.Fields(lines.Text())
		switch {
		case len(f) == 3 && f[0] == "login":
			if _, err := c.Login(ctx, f[1], f[2]); err != nil {
				fmt.Println("err", err)
				continue
			}
			fmt.Println("ok")
		case len(f) == 1 && f[0] == "me":
			u, err := c.Me(ctx)
			if err != nil {
				fmt.Println("err", err)
				continue
			}
			fmt.Println("ok", u.Email)
		default:
			fmt.Println("err unknown command", f)
		}
	}
}

// window is a running helper process.
type window struct {
	t    *testing.T
	name string
	in   io.WriteCloser
	out  *bufio.Scanner
}

// startWindow runs a helper against url keeping its sign-in in dir.
func startWindow(t *testing.T, name, url, dir string) *window {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSharedSignInHelper$", "-test.v=false")
	cmd.Env = append(os.Environ(), envHelperServer+"="+url, envHelperDir+"="+dir)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	return &window{t: t, name: name, in: in, out: bufio.NewScanner(out)}
}

// send writes one command.
func (w *window) send(cmd string) {
	w.t.Helper()
	if _, err := fmt.Fprintln(w.in, cmd); err != nil {
		w.t.Fatalf("%s: %v", w.name, err)
	}
}

// answer reads the answer to the last command.
func (w *window) answer() string {
	w.t.Helper()
	for w.out.Scan() {
		line := w.out.Text()
		if strings.HasPrefix(line, "ok") || strings.HasPrefix(line, "err") {
			return line
		}
	}
	w.t.Fatalf("%s ended: %v", w.name, w.out.Err())
	return ""
}

// do sends cmd and returns the answer.
func (w *window) do(cmd string) string {
	w.t.Helper()
	w.send(cmd)
	return w.answer()
}

// storedRefresh reads the refresh token the windows share.
func storedRefresh(t *testing.T, dir, url string) string {
	t.Helper()
	p, err := tui.FileCredentials(dir).Pair(url)
	if err != nil {
		t.Fatal(err)
	}
	return p.RefreshToken
}

// TestTwoProcessesShareOneSignIn is issue 11's "two windows sign each other
// out": two processes with one config dir against a real `anavara serve`
// with 2-second access tokens. First one window wakes up 11 s after the
// other opened on the token both loaded (past the server's grace window, so
// only the shared store can save it); then 50 alternating calls, some
// from both at once, across many expiries: nobody is signed out. Last, the
// refresh token both started from, replayed by a thief long after its
// rotation, still revokes the sign-in of both.
func TestTwoProcessesShareOneSignIn(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 40 s")
	}
	bin := buildBinary(t, t.TempDir())
	url := startServer(t, bin, t.TempDir(), "--access-ttl", "2s")
	signup(t, url, "ann@example.org", "Ann", "Smith")
	dir := t.TempDir()

	a := startWindow(t, "A", url, dir)
	if got := a.do("login ann@example.org " + password); got != "ok" {
		t.Fatalf("login: %s", got)
	}
	stolen := storedRefresh(t, dir, url)
	b := startWindow(t, "B", url, dir) // opens on the stored sign-in
	want := "ok ann@example.org"
	seen := map[string]bool{stolen: true}
	check := func(w *window, got string) {
		t.Helper()
		if got != want {
			t.Fatalf("window %s: %q, want %q", w.name, got, want)
		}
		seen[storedRefresh(t, dir, url)] = true
	}
	check(b, b.do("me"))
	// Long after B opened (and, had it refreshed, spent the token both
	// loaded), A's access token has expired: A must refresh with what is
	// stored now, not what it holds. Then B, whose access token has expired
	// too, must not present the token A just spent.
	time.Sleep(11 * time.Second)
	check(a, a.do("me"))
	check(b, b.do("me"))

	for i := range 50 {
		time.Sleep(300 * time.Millisecond)
		if i%10 == 9 {
			// Both at once: one refreshes, the other waits for the lock and
			// takes what it stored.
			a.send("me")
			b.send("me")
			var wg sync.WaitGroup
			answers := make([]string, 2)
			for j, w := range []*window{a, b} {
				wg.Go(func() { answers[j] = w.answer() })
			}
			wg.Wait()
			check(a, answers[0])
			check(b, answers[1])
			continue
		}
		w := a
		if i%2 == 1 {
			w = b
		}
		check(w, w.do("me"))
	}
	// 50 steps of 0.3 s and the start cross a 2-second expiry about ten
	// times: each crossing stores a new refresh token.
	if len(seen) < 6 {
		t.Fatalf("only %d refresh tokens seen: the calls did not cross token expiry", len(seen))
	}

	// The thief sends what the TUI sends, from the same address, but long
	// after the rotation: reuse, and the family is revoked.
	if status := replayRefresh(t, url, stolen); status != http.StatusUnauthorized {
		t.Fatalf("replaying the stolen token: HTTP %d, want 401", status)
	}
	for _, w := range []*window{a, b} {
		if got := w.do("me"); !strings.HasPrefix(got, "err") || !strings.Contains(got, "401") {
			t.Fatalf("window %s after the theft was detected: %q, want a 401", w.name, got)
		}
	}
	if rt := storedRefresh(t, dir, url); rt != "" {
		t.Fatal("the revoked sign-in is still stored")
	}
}

// replayRefresh presents token as the TUI's client would and returns the
// status.
func replayRefresh(t *testing.T, url, token string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"refresh_token": token})
	req, err := http.NewRequest(http.MethodPost, url+"/api/auth/token/refresh", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "anavara-client/1")
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
