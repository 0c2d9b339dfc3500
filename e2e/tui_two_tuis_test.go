package e2e

import (
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
	r := newTUIRig(t, "--access-ttl", "3s")
	bin, url, tm, env := r.bin, r.url, r.tm, r.env
	signup(t, url, "duo@example.org", "Duo", "Windows")

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
