package sshapp_test

import (
	"context"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/server"
)

// auditIPs returns the addresses the audit log holds for action by actor.
func (e *env) auditIPs(actorID, action string) []string {
	e.t.Helper()
	events, _, err := e.store.Read().ListAudit(context.Background(), db.AuditFilter{ActorID: actorID, Action: action, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	ips := make([]string, len(events))
	for i, ev := range events {
		ips[i] = ev.IP
	}
	return ips
}

// TestSessionAuditedAsClientAddress is the regression for SSH sessions
// audited as the front end's address (127.0.0.1): a session from
// 127.0.0.77 signs in with a password and links its key, and both are
// audited as 127.0.0.77; a later key login from 127.0.0.78 is audited as
// 127.0.0.78.
func TestSessionAuditedAsClientAddress(t *testing.T) {
	e := newEnv(t)
	e.patient("linker@example.org", "Lina Linker", nil)
	u, err := e.store.Read().UserByEmail(context.Background(), "linker@example.org")
	if err != nil {
		t.Fatal(err)
	}
	key := newKey(t)

	conn, err := e.dialFrom("127.0.0.77", gossh.PublicKeys(key))
	if err != nil {
		t.Skipf("cannot dial from 127.0.0.77 here: %v", err)
	}
	term := e.open(conn, 100, 30)
	term.waitFor("Sign in")
	term.send("linker@example.org\tVq7!plum-Orbit-42\r")
	term.waitFor("Link this SSH key to your account? (y/n)")
	term.send("y")
	term.waitFor("SSH key linked")
	term.waitFor("Lina Linker")
	if got := e.auditIPs(u.ID, model.ActionLogin); len(got) != 1 || got[0] != "127.0.0.77" {
		t.Fatalf("password login audited from %v, want [127.0.0.77]", got)
	}
	if got := e.auditIPs(u.ID, model.ActionSSHKeyAdd); len(got) != 1 || got[0] != "127.0.0.77" {
		t.Fatalf("key link audited from %v, want [127.0.0.77]", got)
	}
	term.send("q")
	select {
	case <-term.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the session did not end after q")
	}
	conn.Close()

	conn2, err := e.dialFrom("127.0.0.78", gossh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	term2 := e.open(conn2, 100, 30)
	term2.waitFor("Lina Linker")
	if got := e.auditIPs(u.ID, model.ActionSSHLogin); len(got) != 1 || got[0] != "127.0.0.78" {
		t.Fatalf("key login audited from %v, want [127.0.0.78]", got)
	}
}

// TestSignUpsLimitedPerSSHClient is the regression for one sign-up bucket
// shared by every SSH session (after 20 sign-ups a new SSH user was told
// "Too many attempts"): with one sign-up per address allowed, clients at
// two addresses each sign up, and only a second sign-up from the first
// address is refused.
func TestSignUpsLimitedPerSSHClient(t *testing.T) {
	e := newEnvWithAPI(t, func(c *server.Config) {
		c.Limits.SignupPerIP = ratelimit.Rule{Limit: 1, Window: time.Hour}
	})
	signup := func(src, email, want string) {
		t.Helper()
		conn, err := e.dialFrom(src, gossh.PublicKeys(newKey(t)))
		if err != nil {
			t.Skipf("cannot dial from %s here: %v", src, err)
		}
		term := e.open(conn, 100, 30)
		term.waitFor("Sign in")
		term.send("\t\t\t\r") // email, password, [Sign in], [Create account]
		term.waitFor("Confirm")
		term.send("Bea\tJones\t" + email + "\tVq7!plum-Orbit-42\tVq7!plum-Orbit-42\r")
		term.waitFor(want)
		conn.Close()
	}
	signup("127.0.0.81", "first@example.org", "Welcome to Anavara, Bea.")
	signup("127.0.0.82", "second@example.org", "Welcome to Anavara, Bea.")
	signup("127.0.0.81", "third@example.org", "Too many attempts")
	for _, email := range []string{"first@example.org", "second@example.org"} {
		if _, err := e.store.Read().UserByEmail(context.Background(), email); err != nil {
			t.Fatalf("%s: %v", email, err)
		}
	}
	if _, err := e.store.Read().UserByEmail(context.Background(), "third@example.org"); err != db.ErrNotFound {
		t.Fatalf("the refused sign-up made an account: %v", err)
	}
}
