package client_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/server"
	"github.com/anavara/anavara/tui/client"
)

// TestForwardedClientAddress: a client made with Forwarded sends the
// service credential and the client's address with every call, so the
// API audits each call as that address; ssh-login's own credential is
// the one it sends there.
func TestForwardedClientAddress(t *testing.T) {
	const token = "forwarding-test-service-token-012345"
	e := newEnv(t, func(c *server.Config) { c.ServiceTokens = []string{token} })
	c, err := client.New(client.Options{
		BaseURL: e.url, HTTPClient: &http.Client{Transport: e.transport}, Timeout: 10 * time.Second,
		Forwarded: &client.Forwarding{ServiceToken: token, ClientAddress: "192.0.2.61"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := c.Signup(ctx, client.SignupRequest{FirstName: "Fay", LastName: "Ward", Email: "fay@example.org", Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(ctx, "fay@example.org", testPassword); err != nil {
		t.Fatal(err)
	}
	// An authenticated call carries it too, beside the access token.
	if _, err := c.AddSSHKey(ctx, "laptop", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl fay@laptop"); err != nil {
		t.Fatal(err)
	}
	events, _, err := e.store.Read().ListAudit(ctx, db.AuditFilter{ActorID: res.User.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range events {
		if ev.IP != "192.0.2.61" {
			t.Fatalf("%s audited from %q, want 192.0.2.61", ev.Action, ev.IP)
		}
		seen[ev.Action] = true
	}
	for _, a := range []string{model.ActionSignup, model.ActionLogin, model.ActionSSHKeyAdd} {
		if !seen[a] {
			t.Fatalf("no %s event among %+v", a, events)
		}
	}
	// A wrong token given to ssh-login is the one sent, and refused.
	if _, err := c.LoginWithSSHKey(ctx, "wrong-token", "SHA256:nobody"); !client.IsStatus(err, http.StatusUnauthorized) {
		t.Fatalf("ssh-login with a wrong token: %v, want 401", err)
	}

	for _, f := range []client.Forwarding{{ServiceToken: token}, {ClientAddress: "192.0.2.61"}} {
		if _, err := client.New(client.Options{BaseURL: e.url, Forwarded: &f}); err == nil {
			t.Fatalf("New accepted forwarding %+v", f)
		}
	}
}
