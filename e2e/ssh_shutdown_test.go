//go:build unix

package e2e

import (
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anavara/anavara/internal/testenv"
)

// TestSSHShutdownRestoresTerminal connects the real OpenSSH client, inside
// tmux, to a real `anavara serve` and sends the server SIGTERM. The session
// must be told at once, before the drain wait that an idle connection holds
// open, and the client's terminal must be left usable: out of the alternate
// screen, cursor visible.
func TestSSHShutdownRestoresTerminal(t *testing.T) {
	tmuxPath, sshPath := sshTools(t)
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	sshAddr := freeAddr(t)
	// The idle connection below holds the drain wait for the whole
	// shutdown timeout: keep it short.
	srv := startServerProcess(t, bin, filepath.Join(dir, "data"), "--ssh", sshAddr, "--shutdown-timeout", "3s")

	keyPath := filepath.Join(dir, "id_ed25519")
	writeKeyPair(t, keyPath) // a key no account has: the sign-in screen
	host, port, _ := net.SplitHostPort(sshAddr)
	sshArgs := []string{"-F", "/dev/null", "-p", port, "-i", keyPath,
		"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=" + filepath.Join(dir, "known_hosts")}
	tm := newTmux(t, tmuxPath, filepath.Join(dir, "tmux.sock"))
	env := []string{"HOME=" + dir, "TERM=xterm-256color", "LANG=C.UTF-8"}
	tm.start("first", env, append(append([]string{sshPath, "-tt"}, sshArgs...), host)...)
	tm.waitFor("first", "Sign in to Anavara")
	if got := tm.display("first", "#{alternate_on} #{cursor_flag}"); got != "1 0" {
		t.Fatalf("while the UI runs, alternate_on and cursor_flag are %q, want \"1 0\"", got)
	}

	// An authenticated connection without a session (ssh -N) is only
	// closed when the drain wait ends, so it holds the server in that wait.
	idle := exec.Command(sshPath, append(append([]string{"-N", "-v"}, sshArgs...), host)...)
	idle.Env = env
	idleLog := &testenv.LockedBuffer{}
	idle.Stderr = idleLog
	if err := idle.Start(); err != nil {
		t.Fatal(err)
	}
	idleExited := make(chan struct{})
	go func() { _ = idle.Wait(); close(idleExited) }()
	t.Cleanup(func() { _ = idle.Process.Kill(); <-idleExited })
	waitForText(t, idleLog, "Authenticated to ")

	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	tm.waitFor("first", "[exited ")
	select {
	case <-idleExited:
		t.Fatal("the session was closed only when the drain wait ended, not told at once")
	case <-srv.exited:
		t.Fatal("the server finished its drain before the session was closed")
	default:
	}
	if !strings.Contains(tm.history("first"), "The Anavara server is shutting down") {
		t.Fatalf("the shutdown message is neither on the screen nor in the scrollback:\n%s", tm.history("first"))
	}
	if got := tm.display("first", "#{alternate_on}"); got != "0" {
		t.Fatalf("after the session closed the terminal is still in the alternate screen (alternate_on=%s)", got)
	}
	if got := tm.display("first", "#{cursor_flag}"); got != "1" {
		t.Fatalf("after the session closed the cursor is hidden (cursor_flag=%s)", got)
	}
	select {
	case <-srv.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not exit after SIGTERM")
	}
	// The lingering connection took the SSH half of the budget; the API
	// still had its own, so the shutdown was clean.
	if srv.waitErr != nil {
		t.Fatalf("serve exited with %v after SIGTERM, want status 0:\n%s", srv.waitErr, srv.logs.String())
	}
}

// waitForText waits until a process's output contains text.
func waitForText(t *testing.T, out *testenv.LockedBuffer, text string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("the output never showed %q:\n%s", text, out.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
}
