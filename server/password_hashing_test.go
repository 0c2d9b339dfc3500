package server_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/anavara/anavara/password"
	"github.com/anavara/anavara/server"
)

// slowParams make one hash take long enough (hundreds of milliseconds) for
// a test to send requests while it runs.
var slowParams = password.Params{Memory: 64 * 1024, Iterations: 4, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// TestPasswordHashingAtCapacityAnswers503: with every hashing slot taken
// and the queue's wait run out, each endpoint that hashes answers 503 with
// Retry-After and the JSON error shape, the same for known and unknown
// emails, instead of starting another 19 MiB hash; once the slot frees,
// logins work again.
func TestPasswordHashingAtCapacityAnswers503(t *testing.T) {
	h := newHarness(t, withConfig(func(c *server.Config) {
		c.Hasher = password.NewHasher(password.HasherOptions{Params: slowParams, Concurrency: 1, Queue: 1, Wait: time.Millisecond})
	}))
	known := h.signup("known@example.org")

	// Take the only slot with a login that hashes for a while.
	busy := make(chan int, 1)
	go func() {
		r := httptest.NewRequest(http.MethodPost, "/api/auth/login",
			bytes.NewReader([]byte(`{"email":"known@example.org","password":"Wrong-guess-123"}`)))
		r.Header.Set("Content-Type", "application/json")
		res, err := h.srv.App().Test(r, -1)
		if err != nil {
			busy <- 0
			return
		}
		res.Body.Close()
		busy <- res.StatusCode
	}()
	deadline := time.Now().Add(5 * time.Second)
	for h.srv.HashesInUse() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the first login never started hashing")
		}
		time.Sleep(time.Millisecond)
	}

	for _, c := range []struct {
		name, path string
		body       map[string]any
		token      string
	}{
		{"login, known email", "/api/auth/login", map[string]any{"email": known.Email, "password": known.Password}, ""},
		{"login, unknown email", "/api/auth/login", map[string]any{"email": "nobody@example.org", "password": known.Password}, ""},
		{"signup", "/api/auth/signup", map[string]any{"first_name": "Ny", "last_name": "Ew", "email": "new@example.org", "password": testPassword}, ""},
		{"reset-password, unknown email", "/api/auth/reset-password", map[string]any{"email": "nobody@example.org", "otp_code": "123456", "password": testPassword}, ""},
		{"change-password", "/api/auth/change-password", map[string]any{"current_password": known.Password, "new_password": "Fresh-Lantern-77"}, known.Access},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := h.post(c.path, c.body, c.token)
			res.expectError(http.StatusServiceUnavailable, "The server is busy. Please try again in a few seconds.")
			if got := res.Header.Get("Retry-After"); got != "2" {
				t.Fatalf("Retry-After = %q, want 2", got)
			}
		})
	}
	if h.srv.HashesInUse() != 1 {
		t.Fatal("the first login finished before the others were sent: make slowParams slower")
	}
	if status := <-busy; status != http.StatusUnauthorized {
		t.Fatalf("the login holding the slot answered %d, want 401", status)
	}
	// Nothing was created or changed by the refused requests.
	h.post("/api/auth/login", map[string]any{"email": "new@example.org", "password": testPassword}, "").expect(http.StatusUnauthorized)
	h.login(known.Email, known.Password)
}
