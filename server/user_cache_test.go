package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/internal/testenv"
)

// Authenticated requests reuse the account's row (auth/user_cache.go);
// every change the API makes to an account must still apply to the very
// next request made with an older token.
// newPassword passes the password policy and differs from testPassword.
const newPassword = "Fresh-Lantern-77"

func TestAccountChangesApplyToTheNextRequest(t *testing.T) {
	tests := []struct {
		name string
		// change alters account a through the API, as staff may.
		change func(h *harness, a, staff account)
		// after is the request a makes next and what it must get.
		path string
		want int
	}{
		{
			name: "deactivated by staff",
			change: func(h *harness, a, staff account) {
				h.patch("/api/users/"+a.ID, map[string]any{"is_active": false}, staff.Access).expect(http.StatusOK)
			},
			path: "/api/users/me", want: http.StatusUnauthorized,
		},
		{
			name: "password changed in another session",
			change: func(h *harness, a, _ account) {
				other := h.login(a.Email, a.Password)
				h.post("/api/auth/change-password", map[string]any{"current_password": a.Password, "new_password": newPassword}, other.Access).
					expect(http.StatusOK)
			},
			path: "/api/users/me", want: http.StatusUnauthorized,
		},
		{
			name: "password reset with an emailed code",
			change: func(h *harness, a, _ account) {
				code := h.resetCode(a.Email)
				h.post("/api/auth/reset-password", map[string]any{"email": a.Email, "otp_code": code, "password": newPassword}, "").
					expect(http.StatusOK)
			},
			path: "/api/users/me", want: http.StatusUnauthorized,
		},
		{
			name: "promoted to staff",
			change: func(h *harness, a, staff account) {
				h.patch("/api/users/"+a.ID, map[string]any{"is_staff": true}, staff.Access).expect(http.StatusOK)
			},
			path: "/api/audit-events", want: http.StatusOK,
		},
		{
			name: "renamed",
			change: func(h *harness, a, staff account) {
				h.patch("/api/users/"+a.ID, map[string]any{"first_name": "Renamed"}, staff.Access).expect(http.StatusOK)
			},
			path: "/api/users/me", want: http.StatusOK,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			staff := h.staff("admin@example.org")
			a := h.signup("pat@example.org")
			// The account's row is now in the server's cache.
			h.get("/api/users/me", a.Access).expect(http.StatusOK)
			h.get("/api/audit-events", a.Access).expect(http.StatusForbidden)
			tt.change(h, a, staff)
			res := h.get(tt.path, a.Access).expect(tt.want)
			if tt.name == "renamed" {
				var me struct {
					FirstName string `json:"first_name"`
				}
				res.decode(&me)
				if me.FirstName != "Renamed" {
					t.Fatalf("me after rename: first_name %q", me.FirstName)
				}
			}
		})
	}
}

// A change made to the database by another process (an operator's SQL, a
// second server) is not announced to this one; it applies within the
// cache's two-second bound.
func TestOutsideAccountChangesApplyWithinTwoSeconds(t *testing.T) {
	h := newHarness(t)
	a := h.signup("pat@example.org")
	h.get("/api/users/me", a.Access).expect(http.StatusOK)

	other := testenv.OpenAgain(t, h.target)
	ctx := context.Background()
	err := other.Write(ctx, func(q db.Tx) error {
		u, err := q.UserByID(ctx, a.ID)
		if err != nil {
			return err
		}
		u.IsActive = false
		return q.UpdateUser(ctx, u.User)
	})
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(2 * time.Second)
	h.get("/api/users/me", a.Access).expect(http.StatusUnauthorized)
}

// The cached row carries no password hash, so changing the password still
// checks the current one against the stored hash.
func TestChangePasswordChecksTheStoredHashAfterCachedRequests(t *testing.T) {
	h := newHarness(t)
	a := h.signup("pat@example.org")
	h.get("/api/users/me", a.Access).expect(http.StatusOK)
	h.post("/api/auth/change-password", map[string]any{"current_password": "not-the-password-1", "new_password": newPassword}, a.Access).
		expectError(http.StatusBadRequest, "", "current_password")
	h.post("/api/auth/change-password", map[string]any{"current_password": a.Password, "new_password": newPassword}, a.Access).
		expect(http.StatusOK)
}
