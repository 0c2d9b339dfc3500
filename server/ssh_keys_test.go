package server_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/server"
)

const testServiceToken = "service-token-for-tests-0123456789abcdef"

func withServiceToken(tok string) harnessOption {
	return func(h *harnessSetup) { h.cfg.ServiceToken = tok }
}

// newPublicKey returns a fresh ed25519 key as an authorized_keys line and
// its SHA-256 fingerprint.
func newPublicKey(t *testing.T, comment string) (line, fingerprint string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))) + " " + comment, ssh.FingerprintSHA256(sshPub)
}

func TestSSHKeys(t *testing.T) {
	h := newHarness(t)
	staff := h.staff("admin@example.org")
	a := h.signup("a@example.org")
	b := h.signup("b@example.org")
	line, fp := newPublicKey(t, "ann@laptop")

	var k model.SSHKey
	h.post("/api/users/me/ssh-keys", map[string]any{"public_key": line}, a.Access).expect(http.StatusCreated).decode(&k)
	if k.Name != "ann@laptop" || k.Type != "ssh-ed25519" || k.Fingerprint != fp || k.LastUsed != nil {
		t.Fatalf("key %+v", k)
	}
	var keys []model.SSHKey
	h.get("/api/users/me/ssh-keys", a.Access).expect(http.StatusOK).decode(&keys)
	if len(keys) != 1 || keys[0].ID != k.ID {
		t.Fatalf("keys %+v", keys)
	}
	// One key opens one account.
	h.post("/api/users/me/ssh-keys", map[string]any{"public_key": line, "name": "again"}, b.Access).
		expectError(http.StatusConflict, "", "public_key")
	for name, bad := range map[string]string{
		"garbage":    "not a key",
		"two keys":   line + "\n" + line,
		"private":    "-----BEGIN OPENSSH PRIVATE KEY-----",
		"empty":      "",
		"truncated":  line[:40],
		"wrong type": "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIGd2",
	} {
		t.Run(name, func(t *testing.T) {
			h.post("/api/users/me/ssh-keys", map[string]any{"public_key": bad}, b.Access).expectError(http.StatusBadRequest, "", "public_key")
		})
	}
	// B sees none of A's keys and cannot delete them.
	h.get("/api/users/me/ssh-keys", b.Access).expect(http.StatusOK).decode(&keys)
	if len(keys) != 0 {
		t.Fatalf("b sees %+v", keys)
	}
	h.delete("/api/users/me/ssh-keys/"+k.ID, b.Access).expect(http.StatusNotFound)
	h.get("/api/users/"+a.ID+"/ssh-keys", b.Access).expect(http.StatusForbidden)

	// Staff list and remove another user's keys.
	h.get("/api/users/"+a.ID+"/ssh-keys", staff.Access).expect(http.StatusOK).decode(&keys)
	if len(keys) != 1 {
		t.Fatalf("staff sees %+v", keys)
	}
	h.delete("/api/users/"+a.ID+"/ssh-keys/"+k.ID, staff.Access).expect(http.StatusNoContent)
	h.get("/api/users/me/ssh-keys", a.Access).expect(http.StatusOK).decode(&keys)
	if len(keys) != 0 {
		t.Fatal("key survived deletion")
	}
	if got := h.auditActions(k.ID); strings.Join(got, ",") != model.ActionSSHKeyAdd+","+model.ActionSSHKeyRemove {
		t.Fatalf("audit %v", got)
	}
	// Owners delete their own keys.
	line2, _ := newPublicKey(t, "")
	h.post("/api/users/me/ssh-keys", map[string]any{"public_key": line2, "name": "desk"}, a.Access).expect(http.StatusCreated).decode(&k)
	h.delete("/api/users/me/ssh-keys/"+k.ID, a.Access).expect(http.StatusNoContent)
	h.delete("/api/users/me/ssh-keys/"+k.ID, a.Access).expect(http.StatusNotFound)
}

func TestSSHLogin(t *testing.T) {
	h := newHarness(t, withServiceToken(testServiceToken))
	staff := h.staff("admin@example.org")
	a := h.signup("a@example.org")
	line, fp := newPublicKey(t, "a")
	var k model.SSHKey
	h.post("/api/users/me/ssh-keys", map[string]any{"public_key": line}, a.Access).expect(http.StatusCreated).decode(&k)

	login := func(token, fingerprint string) *response {
		req := request{method: http.MethodPost, path: "/api/auth/ssh-login", body: map[string]any{"fingerprint": fingerprint}, headers: map[string]string{}}
		if token != "" {
			req.headers[server.HeaderServiceToken] = token
		}
		return h.send(req)
	}
	login("", fp).expectError(http.StatusUnauthorized, "Invalid service credential.")
	login("wrong", fp).expectError(http.StatusUnauthorized, "Invalid service credential.")
	login(testServiceToken[:len(testServiceToken)-1], fp).expect(http.StatusUnauthorized)
	_, unknown := newPublicKey(t, "")
	login(testServiceToken, unknown).expect(http.StatusNotFound)

	var body model.AuthResponse
	login(testServiceToken, fp).expect(http.StatusOK).decode(&body)
	if body.User.ID != a.ID || body.AccessToken == "" || body.RefreshToken == "" {
		t.Fatalf("ssh login %+v", body)
	}
	h.get("/api/users/me", body.AccessToken).expect(http.StatusOK)
	var keys []model.SSHKey
	h.get("/api/users/me/ssh-keys", a.Access).expect(http.StatusOK).decode(&keys)
	if keys[0].LastUsed == nil {
		t.Fatal("last_used not recorded")
	}
	if got := h.auditActions(k.ID); got[len(got)-1] != model.ActionSSHLogin {
		t.Fatalf("audit %v", got)
	}

	h.patch("/api/users/"+a.ID, map[string]any{"is_active": false}, staff.Access).expect(http.StatusOK)
	login(testServiceToken, fp).expect(http.StatusUnauthorized)
}

func TestSSHLoginDisabledWithoutServiceToken(t *testing.T) {
	h := newHarness(t)
	h.send(request{method: http.MethodPost, path: "/api/auth/ssh-login", body: map[string]any{"fingerprint": "SHA256:x"},
		headers: map[string]string{server.HeaderServiceToken: ""}}).expect(http.StatusUnauthorized)
}

func TestSSHKeyCheck(t *testing.T) {
	h := newHarness(t, withServiceToken(testServiceToken))
	staff := h.staff("admin@example.org")
	a := h.signup("a@example.org")
	line, fp := newPublicKey(t, "a")
	var k model.SSHKey
	h.post("/api/users/me/ssh-keys", map[string]any{"public_key": line}, a.Access).expect(http.StatusCreated).decode(&k)
	check := func(token, fingerprint string) *response {
		return h.send(request{method: http.MethodPost, path: "/api/auth/ssh-key-check", body: map[string]any{"fingerprint": fingerprint},
			headers: map[string]string{server.HeaderServiceToken: token}})
	}
	check("nope", fp).expect(http.StatusUnauthorized)
	check(testServiceToken, fp).expect(http.StatusNoContent)
	_, unknown := newPublicKey(t, "")
	check(testServiceToken, unknown).expect(http.StatusNotFound)
	// A check issues nothing and records nothing.
	if got := h.auditActions(k.ID); len(got) != 1 {
		t.Fatalf("audit %v: the check wrote events", got)
	}
	h.patch("/api/users/"+a.ID, map[string]any{"is_active": false}, staff.Access).expect(http.StatusOK)
	check(testServiceToken, fp).expect(http.StatusNotFound)
}
