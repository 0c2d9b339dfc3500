package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/anavara/anavara/model"
)

// TestDeactivationInvalidatesTokensForGood is the regression for tokens
// coming back to life: re-activating a deactivated user made their old
// access tokens valid again.
func TestDeactivationInvalidatesTokensForGood(t *testing.T) {
	h := newHarness(t)
	admin := h.staff("admin@example.org")
	a := h.signup("pat@example.org")
	h.get("/api/users/me", a.Access).expect(http.StatusOK)

	h.patch("/api/users/"+a.ID, map[string]any{"is_active": false}, admin.Access).expect(http.StatusOK)
	h.get("/api/users/me", a.Access).expect(http.StatusUnauthorized)
	h.patch("/api/users/"+a.ID, map[string]any{"is_active": true}, admin.Access).expect(http.StatusOK)

	h.get("/api/users/me", a.Access).expectError(http.StatusUnauthorized, "Invalid or expired access token.")
	h.post("/api/auth/token/refresh", map[string]any{"refresh_token": a.Refresh}, "").expect(http.StatusUnauthorized)
	// The account itself works again: a new sign-in gets new tokens.
	fresh := h.login(a.Email, a.Password)
	h.get("/api/users/me", fresh.Access).expect(http.StatusOK)
}

// TestRefreshReuseInvalidatesTheFamilysAccessTokens: whoever replays a
// rotated refresh token may also hold the access token minted with it.
// Reuse detection revokes the family's refresh tokens and invalidates its
// access tokens; another sign-in of the same user recovers by refreshing.
func TestRefreshReuseInvalidatesTheFamilysAccessTokens(t *testing.T) {
	h := newHarness(t)
	a := h.signup("rot@example.org")
	other := h.login(a.Email, a.Password)

	var rotated model.TokenPair
	h.post("/api/auth/token/refresh", map[string]any{"refresh_token": a.Refresh}, "").expect(http.StatusOK).decode(&rotated)
	h.get("/api/users/me", rotated.AccessToken).expect(http.StatusOK)

	// Replaying the spent token after the grace window: reuse.
	h.clock.Advance(11 * time.Second)
	h.post("/api/auth/token/refresh", map[string]any{"refresh_token": a.Refresh}, "").expect(http.StatusUnauthorized)
	h.get("/api/users/me", rotated.AccessToken).expectError(http.StatusUnauthorized, "Invalid or expired access token.")
	h.post("/api/auth/token/refresh", map[string]any{"refresh_token": rotated.RefreshToken}, "").expect(http.StatusUnauthorized)

	// The other sign-in's access token is invalidated too, but its refresh
	// token still works and mints one that does.
	h.get("/api/users/me", other.Access).expect(http.StatusUnauthorized)
	var recovered model.TokenPair
	h.post("/api/auth/token/refresh", map[string]any{"refresh_token": other.Refresh}, "").expect(http.StatusOK).decode(&recovered)
	h.get("/api/users/me", recovered.AccessToken).expect(http.StatusOK)
}
