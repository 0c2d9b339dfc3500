package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anavara/anavara/internal/testenv"
)

const password = "Vq7!plum-Orbit-42"

// httpClient bounds every request the test makes itself.
var httpClient = &http.Client{Timeout: 10 * time.Second}

// TestTUIEndToEnd runs the real binary: `anavara serve` on a loopback port,
// and `anavara tui` in a 100×30 tmux session where it signs in, creates a
// record and quits; a second start goes straight to the records with the
// stored refresh token.
// tuiRig is what the tmux journeys share: the built binary, a real
// `anavara serve` (HTTP only, on loopback) over data, tmux, and the
// environment of a user with a HOME of their own.
type tuiRig struct {
	bin, url, data, home string
	tm                   *tmux
	env                  []string
}

// newTUIRig skips without tmux or with -short, builds the binary and
// starts the server with serverArgs.
func newTUIRig(t *testing.T, serverArgs ...string) *tuiRig {
	t.Helper()
	tmuxPath, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed, so the terminal UI cannot be driven end to end (apt-get install -y tmux)")
	}
	if testing.Short() {
		t.Skip("builds the binary and runs a server: skipped with -short")
	}
	dir := t.TempDir()
	r := &tuiRig{bin: buildBinary(t, dir), data: filepath.Join(dir, "data"), home: filepath.Join(dir, "home")}
	r.url = startServer(t, r.bin, r.data, append([]string{"--ssh="}, serverArgs...)...)
	if err := os.MkdirAll(r.home, 0o700); err != nil {
		t.Fatal(err)
	}
	r.tm = newTmux(t, tmuxPath, filepath.Join(dir, "tmux.sock"))
	r.env = []string{"HOME=" + r.home, "XDG_CONFIG_HOME=" + filepath.Join(r.home, ".config"), "TERM=xterm-256color", "LANG=C.UTF-8"}
	return r
}

func TestTUIEndToEnd(t *testing.T) {
	r := newTUIRig(t)
	bin, url, home, tm, env := r.bin, r.url, r.home, r.tm, r.env
	signup(t, url, "ann@example.org", "Ann", "Smith")

	// First run: sign in, create a record, quit.
	started := time.Now()
	tm.start("first", env, bin, "tui", "--server", url)
	tm.waitFor("first", "Sign in to Anavara")
	t.Logf("first frame after %v (tmux start and 25ms polling included)", time.Since(started).Round(time.Millisecond))
	tm.waitFor("first", "Server "+url)
	tm.keys("first", "-l", "ann@example.org")
	tm.keys("first", "Tab")
	tm.keys("first", "-l", password)
	tm.keys("first", "Enter")
	tm.waitFor("first", "Medical records")
	tm.waitFor("first", "Ann Smith · patient")
	tm.waitFor("first", "No records yet")

	treated := time.Now().UTC().AddDate(0, 0, 14).Format("2006-01-02")
	tm.keys("first", "n")
	tm.waitFor("first", "New medical record")
	tm.keys("first", "Tab") // the patient's own name is suggested
	tm.keys("first", "-l", "1990-04-23")
	tm.keys("first", "Tab")
	tm.keys("first", "-l", treated)
	tm.keys("first", "Tab")
	tm.keys("first", "-l", "Dr. Tmux")
	tm.keys("first", "Tab")
	tm.keys("first", "-l", "Checked end to end")
	tm.keys("first", "C-s")
	tm.waitFor("first", "Record created for Ann Smith.")
	screen := tm.waitFor("first", "Dr. Tmux")
	for _, want := range []string{"1 record", treated, "Checked end to end"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("screen lacks %q:\n%s", want, screen)
		}
	}

	// The record is on the server.
	recs := listRecords(t, url, "ann@example.org")
	if len(recs) != 1 || recs[0]["doctor"] != "Dr. Tmux" || recs[0]["date_of_treatment"] != treated {
		t.Fatalf("records on the server: %v", recs)
	}
	// The refresh token is stored, private to the user.
	credPath := filepath.Join(home, ".config", "anavara", "credentials.json")
	fi, err := os.Stat(credPath)
	if err != nil {
		t.Fatalf("credentials not stored: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials mode %v", fi.Mode().Perm())
	}

	tm.keys("first", "q")
	tm.waitFor("first", "[exited 0]")

	// Second run: straight to the records.
	started = time.Now()
	tm.start("second", env, bin, "tui", "--server", url)
	screen = tm.waitFor("second", "Dr. Tmux")
	t.Logf("records shown after %v on a resumed session", time.Since(started).Round(time.Millisecond))
	if !strings.Contains(screen, "Ann Smith · patient") || strings.Contains(screen, "Sign in to Anavara") {
		t.Fatalf("second start did not resume the session:\n%s", screen)
	}
	tm.keys("second", "C-c")
	tm.waitFor("second", "[exited 0]")

	// Third run with a short idle lock: the screen locks by itself, shows
	// no record, and the password opens it again.
	tm.start("third", env, bin, "tui", "--server", url, "--idle-lock", "2s")
	tm.waitFor("third", "Dr. Tmux")
	screen = tm.waitFor("third", "Press enter to unlock as ann@example.org")
	if strings.Contains(screen, "Dr. Tmux") || strings.Contains(screen, "Checked end to end") {
		t.Fatalf("the lock screen shows record data:\n%s", screen)
	}
	tm.keys("third", "Enter")
	tm.keys("third", "-l", password)
	tm.keys("third", "Enter")
	tm.waitFor("third", "Dr. Tmux")
	tm.keys("third", "C-c")
	tm.waitFor("third", "[exited 0]")
}

// buildBinary compiles the module's main package into dir.
func buildBinary(t testing.TB, dir string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH, so the binary cannot be built")
	}
	bin := filepath.Join(dir, "anavara")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, ".")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startServer runs `anavara serve` (with any extra flags) on a free
// loopback port and waits until it answers /healthz.
func startServer(t testing.TB, bin, dataDir string, extra ...string) string {
	t.Helper()
	return startServerProcess(t, bin, dataDir, extra...).url
}

// serverProcess is a running `anavara serve`, stopped with SIGTERM at
// cleanup if the test has not stopped it.
type serverProcess struct {
	url    string
	cmd    *exec.Cmd
	logs   *testenv.LockedBuffer
	exited chan struct{} // closed once the process has ended
	// waitErr is how it ended (nil: exit status 0), set before exited
	// closes.
	waitErr error
}

// startServerProcess is startServer for tests that signal the process
// themselves or watch it end.
func startServerProcess(t testing.TB, bin, dataDir string, extra ...string) *serverProcess {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logs := &testenv.LockedBuffer{}
	cmd := exec.Command(bin, append([]string{"serve", "--data-dir", dataDir, "--http", addr}, extra...)...)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProcess{url: "http://" + addr, cmd: cmd, logs: logs, exited: make(chan struct{})}
	var waitErr error
	go func() { waitErr = cmd.Wait(); p.waitErr = waitErr; close(p.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := httpClient.Get(p.url + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("anavara serve exited: %v\n%s", waitErr, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not become healthy:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// post sends a JSON body and decodes the JSON answer.
func post(t testing.TB, url, token string, body, out any) int {
	t.Helper()
	data, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		_ = json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}

func signup(t *testing.T, url, email, first, last string) {
	t.Helper()
	var body map[string]any
	status := post(t, url+"/api/auth/signup", "", map[string]string{
		"first_name": first, "last_name": last, "email": email, "password": password,
	}, &body)
	if status != http.StatusCreated {
		t.Fatalf("signup: %d %v", status, body)
	}
}

// listRecords signs in over HTTP and lists the account's records.
func listRecords(t *testing.T, url, email string) []map[string]any {
	t.Helper()
	var auth struct {
		AccessToken string `json:"access_token"`
	}
	if status := post(t, url+"/api/auth/login", "", map[string]string{"email": email, "password": password}, &auth); status != http.StatusOK {
		t.Fatalf("login: %d", status)
	}
	req, _ := http.NewRequest(http.MethodGet, url+"/api/medical-records", nil)
	req.Header.Set("Authorization", "Bearer "+auth.AccessToken)
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var page struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	return page.Results
}

// tmux drives a private tmux server (its own socket), killed at cleanup.
type tmux struct {
	t    *testing.T
	path string
	sock string
}

func newTmux(t *testing.T, path, sock string) *tmux {
	tm := &tmux{t: t, path: path, sock: sock}
	t.Cleanup(func() {
		if t.Failed() {
			for _, s := range []string{"first", "second"} {
				if out, err := tm.run("capture-pane", "-p", "-t", s); err == nil {
					t.Logf("screen of %s:\n%s", s, out)
				}
			}
		}
		// Ends every session and the programs in them.
		_, _ = tm.run("kill-server")
	})
	return tm
}

func (tm *tmux) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tm.path, append([]string{"-S", tm.sock}, args...)...)
	cmd.Env = append(os.Environ(), "TMUX=") // never talk to an enclosing tmux
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// start opens a detached 100×30 session running argv with env. When the
// program ends the pane stays, showing "[exited N]".
func (tm *tmux) start(session string, env []string, argv ...string) {
	tm.t.Helper()
	var sh strings.Builder
	sh.WriteString("env")
	for _, e := range env {
		sh.WriteString(" " + quote(e))
	}
	for _, a := range argv {
		sh.WriteString(" " + quote(a))
	}
	sh.WriteString(`; echo "[exited $?]"; sleep 600`)
	if out, err := tm.run("new-session", "-d", "-s", session, "-x", "100", "-y", "30", sh.String()); err != nil {
		tm.t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
}

// keys sends keys (tmux key names, or literal text after "-l").
func (tm *tmux) keys(session string, keys ...string) {
	tm.t.Helper()
	if out, err := tm.run(append([]string{"send-keys", "-t", session}, keys...)...); err != nil {
		tm.t.Fatalf("tmux send-keys %v: %v\n%s", keys, err, out)
	}
}

// waitFor polls the screen until it shows text, and returns it.
func (tm *tmux) waitFor(session, text string) string {
	tm.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var screen string
	for time.Now().Before(deadline) {
		out, err := tm.run("capture-pane", "-p", "-t", session)
		if err == nil {
			screen = out
			if strings.Contains(screen, text) {
				return screen
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	tm.t.Fatalf("screen of %s never showed %q; last screen:\n%s", session, text, screen)
	return ""
}

// display returns tmux's expansion of format for the session's pane, e.g.
// "#{alternate_on}".
func (tm *tmux) display(session, format string) string {
	tm.t.Helper()
	out, err := tm.run("display-message", "-p", "-t", session, format)
	if err != nil {
		tm.t.Fatalf("tmux display-message %s: %v\n%s", format, err, out)
	}
	return strings.TrimSpace(out)
}

// history is the session's pane with all of its scrollback.
func (tm *tmux) history(session string) string {
	tm.t.Helper()
	out, err := tm.run("capture-pane", "-p", "-S", "-", "-t", session)
	if err != nil {
		tm.t.Fatalf("tmux capture-pane: %v\n%s", err, out)
	}
	return out
}

// quote quotes s for sh.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
