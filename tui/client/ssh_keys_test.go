package client_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/server"
	"github.com/anavara/anavara/tui/client"
)

func TestSSHKeysAndKeyLogin(t *testing.T) {
	const serviceToken = "client-test-service-token-0123456789"
	e := newEnv(t, func(c *server.Config) { c.ServiceToken = serviceToken })
	ctx := context.Background()
	owner, u := e.patient("keys@example.org")

	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, _ := ssh.NewPublicKey(pub)
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))) + " keys@laptop"

	k, err := owner.AddSSHKey(ctx, "", line)
	if err != nil || k.Name != "keys@laptop" || k.Fingerprint != ssh.FingerprintSHA256(sshPub) {
		t.Fatalf("AddSSHKey = %+v, %v", k, err)
	}
	if _, err := owner.AddSSHKey(ctx, "again", line); !client.IsStatus(err, 409) {
		t.Fatalf("duplicate key: %v, want 409", err)
	}
	var apiErr *client.APIError
	if _, err := owner.AddSSHKey(ctx, "", "nonsense"); !errorsAs(err, &apiErr) || apiErr.Field("public_key") == "" {
		t.Fatalf("invalid key: %v, want a public_key field error", err)
	}

	front, _ := e.newClient()
	if _, err := front.LoginWithSSHKey(ctx, "wrong", k.Fingerprint); !client.IsStatus(err, 401) {
		t.Fatalf("wrong service token: %v", err)
	}
	res, err := front.LoginWithSSHKey(ctx, serviceToken, k.Fingerprint)
	if err != nil || res.User.ID != u.ID {
		t.Fatalf("LoginWithSSHKey = %+v, %v", res.User, err)
	}
	me, err := front.Me(ctx)
	if err != nil || me.ID != u.ID {
		t.Fatalf("front end is not signed in as the key's owner: %+v %v", me, err)
	}

	keys, err := owner.ListSSHKeys(ctx)
	if err != nil || len(keys) != 1 || keys[0].LastUsed == nil {
		t.Fatalf("ListSSHKeys = %+v, %v", keys, err)
	}
	if err := owner.DeleteSSHKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := front.LoginWithSSHKey(ctx, serviceToken, k.Fingerprint); !client.IsStatus(err, 404) {
		t.Fatalf("login with a removed key: %v, want 404", err)
	}
}

func errorsAs(err error, target **client.APIError) bool { return errors.As(err, target) }

func TestAdmitSSHConnection(t *testing.T) {
	const serviceToken = "client-test-service-token-0123456789"
	e := newEnv(t, func(c *server.Config) {
		c.ServiceToken = serviceToken
		c.Limits.SSHConnectionsPerIP = ratelimit.Rule{Limit: 2, Window: time.Hour}
	})
	ctx := context.Background()
	// A client that forwards another address for its own requests: the
	// check must count the address it is given, not that one.
	front, err := client.New(client.Options{BaseURL: e.url, HTTPClient: &http.Client{Transport: e.transport},
		Forwarded: &client.Forwarding{ServiceToken: serviceToken, ClientAddress: "198.51.100.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := front.AdmitSSHConnection(ctx, "wrong", "192.0.2.7"); !client.IsStatus(err, http.StatusUnauthorized) {
		t.Fatalf("wrong service token: %v, want a 401", err)
	}
	for i := range 2 {
		ok, retry, err := front.AdmitSSHConnection(ctx, serviceToken, "192.0.2.7")
		if err != nil || !ok || retry != 0 {
			t.Fatalf("connection %d of 2: %v, %v, %v; want allowed", i+1, ok, retry, err)
		}
	}
	// 2 an hour: one more every 30 minutes.
	ok, retry, err := front.AdmitSSHConnection(ctx, serviceToken, "192.0.2.7")
	if err != nil || ok || retry != 30*time.Minute {
		t.Fatalf("third connection: %v, %v, %v; want refused, retry after 30m", ok, retry, err)
	}
	if ok, _, err := front.AdmitSSHConnection(ctx, serviceToken, "198.51.100.1"); err != nil || !ok {
		t.Fatalf("the forwarded address's own bucket: %v, %v; want allowed", ok, err)
	}
	if _, _, err := front.AdmitSSHConnection(ctx, serviceToken, ""); !client.IsStatus(err, http.StatusBadRequest) {
		t.Fatalf("no address: %v, want a 400", err)
	}
}
