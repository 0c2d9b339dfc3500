package server_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/server"
)

// TestSSHToken: the SSH front end's token command gets, for a verified
// key, a 15-minute access token narrowed to the scopes asked for (every
// scope the account has by default), audited; it stops with the account
// and shrinks with a demotion, as an API token does.
func TestSSHToken(t *testing.T) {
	h := newHarness(t, withServiceToken(testServiceToken))
	admin := h.staff("admin@example.org")
	staff := h.staff("sam@example.org")
	a := h.signup("a@example.org")
	line, fp := newPublicKey(t, "a")
	var k model.SSHKey
	h.post("/api/users/me/ssh-keys", map[string]any{"public_key": line}, a.Access).expect(http.StatusCreated).decode(&k)
	staffLine, staffFP := newPublicKey(t, "sam")
	h.post("/api/users/me/ssh-keys", map[string]any{"public_key": staffLine}, staff.Access).expect(http.StatusCreated)

	mint := func(service, fingerprint string, scopes ...string) *response {
		body := map[string]any{"fingerprint": fingerprint}
		if scopes != nil {
			body["scopes"] = scopes
		}
		return h.send(request{method: http.MethodPost, path: "/api/auth/ssh-token", body: body,
			headers: map[string]string{server.HeaderServiceToken: service}})
	}
	mint("wrong", fp).expectError(http.StatusUnauthorized, "Invalid service credential.")
	_, unknown := newPublicKey(t, "")
	mint(testServiceToken, unknown).expect(http.StatusNotFound)
	for _, tc := range []struct {
		scopes []string
		want   string
	}{
		{[]string{"records:read", "nope"}, model.MsgUnknownScope},
		{[]string{"audit:read"}, model.MsgScopeStaffOnly},
		{[]string{}, model.MsgScopesEmpty},
	} {
		e := mint(testServiceToken, fp, tc.scopes...).expectError(http.StatusBadRequest, "", "scopes")
		if e.Errors["scopes"][0] != tc.want {
			t.Errorf("scopes %v: %q, want %q", tc.scopes, e.Errors["scopes"], tc.want)
		}
	}

	var full model.ScopedAccessToken
	mint(testServiceToken, fp).expect(http.StatusOK).decode(&full)
	wantScopes := []string{model.ScopeRecordsRead, model.ScopeRecordsWrite, model.ScopeUsersRead, model.ScopeUsersWrite}
	if full.TokenType != "Bearer" || full.ExpiresIn != 900 || !slices.Equal(full.Scopes, wantScopes) ||
		!full.Expires.Equal(h.clock.Now().Add(15*time.Minute).Truncate(time.Second)) {
		t.Fatalf("token %+v", full)
	}
	h.get("/api/users/me", full.AccessToken).expect(http.StatusOK)
	h.get("/api/medical-records/", full.AccessToken).expect(http.StatusOK)
	// No token management, no SSH keys, no password change with it.
	h.get("/api/users/me/tokens", full.AccessToken).expect(http.StatusForbidden)
	h.get("/api/users/me/ssh-keys", full.AccessToken).expect(http.StatusForbidden)

	var narrow model.ScopedAccessToken
	mint(testServiceToken, fp, "records:read").expect(http.StatusOK).decode(&narrow)
	h.get("/api/medical-records/", narrow.AccessToken).expect(http.StatusOK)
	h.get("/api/users/me", narrow.AccessToken).expectError(http.StatusForbidden, "This token lacks the scope users:read.")
	h.post("/api/medical-records/", map[string]any{}, narrow.AccessToken).expectError(http.StatusForbidden, "This token lacks the scope records:write.")

	if got := h.auditActions(k.ID); len(got) < 2 || got[len(got)-1] != model.ActionSSHToken || got[len(got)-2] != model.ActionSSHToken {
		t.Fatalf("audit of the key: %v", got)
	}

	// Staff get audit:read by default; demoted, the token loses it at once.
	var staffTok model.ScopedAccessToken
	mint(testServiceToken, staffFP).expect(http.StatusOK).decode(&staffTok)
	if !slices.Contains(staffTok.Scopes, model.ScopeAuditRead) {
		t.Fatalf("staff token scopes %v", staffTok.Scopes)
	}
	h.get("/api/audit-events", staffTok.AccessToken).expect(http.StatusOK)
	h.patch("/api/users/"+staff.ID, map[string]any{"is_staff": false}, admin.Access).expect(http.StatusOK)
	h.get("/api/audit-events", staffTok.AccessToken).expect(http.StatusForbidden)

	// Deactivated: the token stops, and no new one is minted.
	h.patch("/api/users/"+a.ID, map[string]any{"is_active": false}, admin.Access).expect(http.StatusOK)
	h.get("/api/medical-records/", full.AccessToken).expect(http.StatusUnauthorized)
	mint(testServiceToken, fp).expect(http.StatusUnauthorized)

	// A token expires after 15 minutes.
	var late model.ScopedAccessToken
	mint(testServiceToken, staffFP).expect(http.StatusOK).decode(&late)
	h.clock.Advance(14 * time.Minute)
	h.get("/api/users/me", late.AccessToken).expect(http.StatusOK)
	h.clock.Advance(time.Minute + time.Second)
	h.get("/api/users/me", late.AccessToken).expect(http.StatusUnauthorized)
}
