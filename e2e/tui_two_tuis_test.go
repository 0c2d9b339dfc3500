package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTwoTUIsShareTheSignIn is the regression for two windows signing each
// other out: two `anavara tui` for one account and one config dir, with
// 3-second access tokens, refresh past expiry again and again (r in both,
// a few times) and both stay on the records. Before, the second refresh
// presented the token the first had just rotated, reuse detection revoked
// the family, and both showed "Your session has ended".
func TestTwoTUIsShareTheSignIn(t *testing.T) {
	tmuxPath, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed (apt-get install -y tmux)")
	}
	if testing.Short() {
		t.Skip("builds the binary and runs a server: skipped with -short")
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	url := startServer(t, bin, filepath.Join(dir, "data"), "--ssh=", "--access-ttl", "3s")
	signup(t, url, "duo@example.org", "Duo", "Windows")

	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	tm := newTmux(t, tmuxPath, filepath.Join(dir, "tmux.sock"))
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "TERM=xterm-256color", "LANG=C.UTF-8"}

	tm.start("first", env, bin, "tui", "--server", url)
	tm.waitFor("first", "Sign in to Anavara")
	tm.keys("first", "-l", "duo@example.org")
	tm.keys("first", "Tab")
	tm.keys("first", "-l", password)
	tm.keys("first", "Enter")
	tm.waitFor("first", "No records yet")
	// The second window opens on the records with the stored sign-in.
	tm.start("second", env, bin, "tui", "--server", url)
	tm.waitFor("second", "No records yet")

	for round := range 3 {
		time.Sleep(3500 * time.Millisecond) // both access tokens expire
		tm.keys("first", "r")
		tm.keys("second", "r")
		for _, w := range []string{"first", "second"} {
			screen := tm.waitFor(w, "No records yet")
			if strings.Contains(screen, "session has ended") || strings.Contains(screen, "Sign in to Anavara") {
				t.Fatalf("round %d: window %s was signed out:\n%s", round+1, w, screen)
			}
		}
	}
	// Both still work: each can open the new-record form.
	for _, w := range []string{"first", "second"} {
		tm.keys(w, "n")
		tm.waitFor(w, "New medical record")
		tm.keys(w, "C-c")
		tm.waitFor(w, "[exited 0]")
	}
}
