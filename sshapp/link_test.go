package sshapp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// TestUnknownKeyLinksAfterSignIn: a new key sees sign-in, signs in as an
// existing user, accepts the offer to link the key, and the next connection
// with that key lands straight on the user's records.
func TestUnknownKeyLinksAfterSignIn(t *testing.T) {
	e := newEnv(t)
	owner := e.patient("linker@example.org", "Lina Linker", nil)
	e.patient("other@example.org", "Otto Other", nil)
	key := newKey(t)

	conn, err := e.dial(gossh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	term := e.open(conn, 100, 30)
	term.waitFor("Sign in")
	term.send("linker@example.org")
	term.send("\t")
	term.send("Vq7!plum-Orbit-42")
	term.send("\r")
	term.waitFor("Link this SSH key to your account? (y/n)")
	term.waitFor(gossh.FingerprintSHA256(key.PublicKey()))
	term.send("y")
	term.waitFor("SSH key linked: from now on, ssh signs you in by this key alone.")
	term.waitFor("Lina Linker")

	keys, err := owner.ListSSHKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].Fingerprint != gossh.FingerprintSHA256(key.PublicKey()) {
		t.Fatalf("keys on the account after linking: %+v", keys)
	}

	// Disconnect: quit the UI and close the connection.
	term.send("q")
	select {
	case <-term.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end after q")
	}
	conn.Close()

	// Reconnect with the same key: signed in by the key alone.
	conn2, err := e.dial(gossh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	term2 := e.open(conn2, 100, 30)
	term2.waitFor("Lina Linker")
	term2.waitFor("Medical records")
	screen := term2.screen()
	for _, unwanted := range []string{"Sign in to Anavara", "Link this SSH key", "Otto Other"} {
		if strings.Contains(screen, unwanted) {
			t.Fatalf("the reconnected session shows %q:\n%s", unwanted, screen)
		}
	}
}
