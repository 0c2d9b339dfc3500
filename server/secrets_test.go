package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/server"
)

// Keys for the rotation tests: A is the old key, B the new one.
var (
	keyA = auth.JWTKey{ID: "a", Secret: bytes.Repeat([]byte("A"), 32)}
	keyB = auth.JWTKey{ID: "b", Secret: bytes.Repeat([]byte("B"), 32)}
)

// withJWTKeys configures the server's access-token keys.
func withJWTKeys(keys ...auth.JWTKey) harnessOption {
	return func(h *harnessSetup) { h.cfg.JWTKeys, h.cfg.JWTSecret = keys, nil }
}

// restart replaces the harness's server by one on the same database with
// the default setup changed by opts, as a restart with other flags would.
func (h *harness) restart(opts ...harnessOption) {
	h.t.Helper()
	setup := newHarnessSetup(h.clock, opts)
	srv, err := server.New(setup.cfg, h.store, h.mail)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		h.t.Fatal(err)
	}
	h.srv = srv
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
}

// tokenKeyID is the kid header of an access token.
func tokenKeyID(t *testing.T, token string) string {
	t.Helper()
	header, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

// TestJWTKeyRotation follows the documented procedure: a token signed by A
// keeps working once B is added first ("B,A"), new tokens are B's, and
// once A is removed A's tokens are refused while B's still work.
func TestJWTKeyRotation(t *testing.T) {
	h := newHarness(t, withJWTKeys(keyA))
	a := h.signup("a@example.org")
	if kid := tokenKeyID(t, a.Access); kid != "a" {
		t.Fatalf("kid %q, want a", kid)
	}
	h.get("/api/users/me", a.Access).expect(http.StatusOK)

	// Step 1 of a rotation elsewhere: B added second; A still signs.
	h.restart(withJWTKeys(keyA, keyB))
	h.get("/api/users/me", a.Access).expect(http.StatusOK)
	if kid := tokenKeyID(t, h.login(a.Email, a.Password).Access); kid != "a" {
		t.Fatalf("kid %q with A first, want a", kid)
	}

	// B moved first: it signs, A's tokens still verify.
	h.restart(withJWTKeys(keyB, keyA))
	h.get("/api/users/me", a.Access).expect(http.StatusOK)
	b := h.login(a.Email, a.Password)
	if kid := tokenKeyID(t, b.Access); kid != "b" {
		t.Fatalf("kid %q with B first, want b", kid)
	}
	h.get("/api/users/me", b.Access).expect(http.StatusOK)

	// A removed: its tokens are 401, B's still 200, and the refresh token
	// (opaque, in the database) still gets a new pair.
	h.restart(withJWTKeys(keyB))
	h.get("/api/users/me", a.Access).expectError(http.StatusUnauthorized, "Invalid or expired access token.")
	h.get("/api/users/me", b.Access).expect(http.StatusOK)
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	h.post("/api/auth/token/refresh", map[string]any{"refresh_token": a.Refresh}, "").expect(http.StatusOK).decode(&pair)
	h.get("/api/users/me", pair.AccessToken).expect(http.StatusOK)
}

// TestJWTSecretKeyID checks that a key given as a bare secret gets the
// derived id, the same on every instance given that secret.
func TestJWTSecretKeyID(t *testing.T) {
	secret := bytes.Repeat([]byte("k"), 32)
	h := newHarness(t, withConfig(func(c *server.Config) { c.JWTSecret = secret }))
	a := h.signup("a@example.org")
	if kid, want := tokenKeyID(t, a.Access), auth.KeyID(secret); kid != want || len(kid) != 8 {
		t.Fatalf("kid %q, want %q (8 hex digits)", kid, want)
	}
	// The same secret given as an explicit key with that id verifies it.
	h.restart(withJWTKeys(auth.JWTKey{ID: auth.KeyID(secret), Secret: secret}))
	h.get("/api/users/me", a.Access).expect(http.StatusOK)
}

// TestAccessTokenKeyIDRequired forges tokens with every claim a real one
// has: only the one signed with a configured key under its own kid works.
// There is no fallback: a token without a kid, or naming a key the server
// does not hold, is refused even when signed with a configured key.
func TestAccessTokenKeyIDRequired(t *testing.T) {
	h := newHarness(t, withJWTKeys(keyB, keyA))
	a := h.signup("a@example.org")
	now := h.clock.Now()
	claims := jwt.MapClaims{"iss": "anavara", "sub": a.ID, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
		"jti": "forged", "ver": 0}
	sign := func(method jwt.SigningMethod, kid string, key any) string {
		tok := jwt.NewWithClaims(method, claims)
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for name, tc := range map[string]struct {
		token string
		want  int
	}{
		"signing key":                 {sign(jwt.SigningMethodHS256, "b", keyB.Secret), http.StatusOK},
		"second key":                  {sign(jwt.SigningMethodHS256, "a", keyA.Secret), http.StatusOK},
		"no kid, signing key":         {sign(jwt.SigningMethodHS256, "", keyB.Secret), http.StatusUnauthorized},
		"no kid, second key":          {sign(jwt.SigningMethodHS256, "", keyA.Secret), http.StatusUnauthorized},
		"unknown kid":                 {sign(jwt.SigningMethodHS256, "c", keyB.Secret), http.StatusUnauthorized},
		"kid of the other key":        {sign(jwt.SigningMethodHS256, "a", keyB.Secret), http.StatusUnauthorized},
		"wrong key under a known kid": {sign(jwt.SigningMethodHS256, "b", bytes.Repeat([]byte("x"), 32)), http.StatusUnauthorized},
		"alg none":                    {sign(jwt.SigningMethodNone, "b", jwt.UnsafeAllowNoneSignatureType), http.StatusUnauthorized},
		"HS512 with the signing key":  {sign(jwt.SigningMethodHS512, "b", keyB.Secret), http.StatusUnauthorized},
	} {
		t.Run(name, func(t *testing.T) {
			res := h.get("/api/users/me", tc.token).expect(tc.want)
			if tc.want == http.StatusUnauthorized && bytes.Contains(res.Body, []byte(a.Email)) {
				t.Fatalf("401 carries the account: %s", res.Body)
			}
		})
	}
}

// TestResetCodeAcrossRotation: a code requested under key A verifies after
// B is moved first (codes are checked against every key), and one whose
// key was removed no longer does.
func TestResetCodeAcrossRotation(t *testing.T) {
	h := newHarness(t, withJWTKeys(keyA))
	a := h.signup("a@example.org")
	code := h.resetCode(a.Email)
	h.restart(withJWTKeys(keyB, keyA))
	h.post("/api/auth/reset-password", map[string]any{"email": a.Email, "otp_code": code, "password": "Brand-New-Lantern-31"}, "").
		expect(http.StatusOK)
	h.login(a.Email, "Brand-New-Lantern-31")

	// A new code is made under B; it verifies with B alone.
	code = h.resetCode(a.Email)
	h.restart(withJWTKeys(keyB))
	h.post("/api/auth/reset-password", map[string]any{"email": a.Email, "otp_code": code, "password": "Third-Lantern-Pass-57"}, "").
		expect(http.StatusOK)

	// A code made under A, with A gone: refused.
	h.restart(withJWTKeys(keyA))
	code = h.resetCode(a.Email)
	h.restart(withJWTKeys(keyB))
	h.post("/api/auth/reset-password", map[string]any{"email": a.Email, "otp_code": code, "password": "Fourth-Lantern-Pass-93"}, "").
		expectError(http.StatusBadRequest, "Invalid or expired code")
}

// TestServiceTokenRotation: with a current and a next token both are
// accepted, anything else is not.
func TestServiceTokenRotation(t *testing.T) {
	const current, next = "current-service-token-0123456789", "next-service-token-0123456789abc"
	h := newHarness(t, withConfig(func(c *server.Config) { c.ServiceTokens = []string{current, next} }))
	_, fp := newPublicKey(t, "")
	for name, tc := range map[string]struct {
		token string
		want  int
	}{
		"current":   {current, http.StatusNotFound}, // accepted: the key is unknown
		"next":      {next, http.StatusNotFound},
		"other":     {"other-service-token-0123456789abc", http.StatusUnauthorized},
		"both":      {current + "," + next, http.StatusUnauthorized},
		"prefix":    {current[:10], http.StatusUnauthorized},
		"empty":     {"", http.StatusUnauthorized},
		"extension": {current + "x", http.StatusUnauthorized},
	} {
		t.Run(name, func(t *testing.T) {
			h.send(request{method: http.MethodPost, path: "/api/auth/ssh-key-check", body: map[string]any{"fingerprint": fp},
				headers: map[string]string{server.HeaderServiceToken: tc.token}}).expect(tc.want)
		})
	}
}

// TestConfigRefusesBadKeys: server.New checks keys given in code the way
// the flag's parser does.
func TestConfigRefusesBadKeys(t *testing.T) {
	long := bytes.Repeat([]byte("s"), 32)
	for name, cfg := range map[string]server.Config{
		"no key":        {},
		"short":         {JWTKeys: []auth.JWTKey{{ID: "a", Secret: []byte("short")}}},
		"no id":         {JWTKeys: []auth.JWTKey{{Secret: long}}},
		"duplicate id":  {JWTKeys: []auth.JWTKey{{ID: "a", Secret: long}, {ID: "a", Secret: bytes.Repeat([]byte("t"), 32)}}},
		"both fields":   {JWTKeys: []auth.JWTKey{{ID: "a", Secret: long}}, JWTSecret: long},
		"empty service": {JWTSecret: long, ServiceTokens: []string{""}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := server.New(cfg, nil, nil); err == nil {
				t.Fatal("server.New accepted it")
			}
		})
	}
}
