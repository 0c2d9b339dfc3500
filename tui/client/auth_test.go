package client_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

func TestSignup(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, log := e.newClient()

	res, err := c.Signup(ctx, client.SignupRequest{FirstName: " Ada ", LastName: "Lovelace", Email: "Ada@Example.org", Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	if res.Message != "Signup successful" || res.AccessToken == "" || res.RefreshToken == "" {
		t.Fatalf("signup response %+v", res)
	}
	if res.User.Email != "ada@example.org" || res.User.FirstName != "Ada" || res.User.IsStaff || !res.User.IsActive {
		t.Fatalf("signup user %+v", res.User)
	}
	want := model.TokenPair{AccessToken: res.AccessToken, RefreshToken: res.RefreshToken}
	if got := c.Tokens(); got != want {
		t.Fatalf("stored tokens %+v, want %+v", got, want)
	}
	if got := log.all(); len(got) != 1 || got[0] != want {
		t.Fatalf("OnTokens calls %+v, want one with %+v", got, want)
	}
	stored := e.dbUser(res.User.ID)
	if stored.Email != "ada@example.org" || stored.IsStaff {
		t.Fatalf("stored user %+v", stored.User)
	}
	if got := e.auditActions(res.User.ID); !slices.Equal(got, []string{model.ActionSignup}) {
		t.Fatalf("audit %v", got)
	}
	me, err := c.Me(ctx)
	if err != nil || me.ID != res.User.ID {
		t.Fatalf("Me after signup = %+v, %v", me, err)
	}
}

func TestSignupInvalid(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, log := e.newClient()

	_, err := c.Signup(ctx, client.SignupRequest{FirstName: "Ada", LastName: "L", Email: "not-an-email", Password: testPassword})
	ae := apiError(t, err, http.StatusBadRequest)
	if ae.Field("email") != model.MsgInvalidEmail || !slices.Equal(ae.Fields["email"], []string{model.MsgInvalidEmail}) {
		t.Fatalf("fields %v", ae.Fields)
	}
	if ae.Message != model.MsgInvalidEmail || ae.Field("password") != "" {
		t.Fatalf("error %+v", ae)
	}

	_, err = c.Signup(ctx, client.SignupRequest{FirstName: "Ada", LastName: "L", Email: "ada@example.org", Password: "12345678"})
	ae = apiError(t, err, http.StatusBadRequest)
	if !slices.Contains(ae.Fields["password"], model.MsgPasswordNumeric) {
		t.Fatalf("password errors %v", ae.Fields["password"])
	}

	if _, err := c.Signup(ctx, client.SignupRequest{FirstName: "Ada", LastName: "L", Email: "ada@example.org", Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	other, otherLog := e.newClient()
	_, err = other.Signup(ctx, client.SignupRequest{FirstName: "Eve", LastName: "E", Email: "ADA@example.org", Password: testPassword})
	ae = apiError(t, err, http.StatusConflict)
	if ae.Field("email") != model.MsgEmailTaken {
		t.Fatalf("duplicate: %+v", ae)
	}
	if other.Tokens() != (model.TokenPair{}) || len(otherLog.all()) != 0 {
		t.Fatal("a failed signup stored tokens")
	}
	if len(log.all()) != 1 {
		t.Fatalf("OnTokens calls %d, want 1", len(log.all()))
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, u := e.patient("pat@example.org")
	c, log := e.newClient()

	_, err := c.Login(ctx, "pat@example.org", "wrong-Password-9")
	ae := apiError(t, err, http.StatusUnauthorized)
	if ae.Message != "Invalid email or password" || ae.Fields != nil {
		t.Fatalf("wrong password: %+v", ae)
	}
	_, err = c.Login(ctx, "", testPassword)
	if ae := apiError(t, err, http.StatusBadRequest); ae.Field("email") == "" {
		t.Fatalf("missing email: %+v", ae)
	}
	if len(log.all()) != 0 || c.Tokens() != (model.TokenPair{}) {
		t.Fatal("failed logins stored tokens")
	}

	res, err := c.Login(ctx, "PAT@example.org", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if res.Message != "Login successful" || res.User.ID != u.ID {
		t.Fatalf("login response %+v", res)
	}
	want := model.TokenPair{AccessToken: res.AccessToken, RefreshToken: res.RefreshToken}
	if c.Tokens() != want || log.last(t) != want || len(log.all()) != 1 {
		t.Fatalf("tokens %+v, OnTokens %+v, want %+v", c.Tokens(), log.all(), want)
	}
	if got := e.auditActions(u.ID); !slices.Equal(got, []string{model.ActionSignup, model.ActionLoginFailed, model.ActionLogin}) {
		t.Fatalf("audit %v", got)
	}
}

func TestRefresh(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, log := e.newClient()
	if _, err := c.Login(ctx, "nobody@example.org", testPassword); err == nil {
		t.Fatal("login of unknown account succeeded")
	}
	e.patient("pat@example.org")
	if _, err := c.Login(ctx, "pat@example.org", testPassword); err != nil {
		t.Fatal(err)
	}
	before := c.Tokens()

	pair, err := c.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pair.AccessToken == "" || pair.RefreshToken == "" || pair.AccessToken == before.AccessToken || pair.RefreshToken == before.RefreshToken {
		t.Fatalf("refresh returned %+v after %+v", pair, before)
	}
	if c.Tokens() != pair || log.last(t) != pair || len(log.all()) != 2 {
		t.Fatalf("stored %+v, OnTokens %+v, want %+v", c.Tokens(), log.all(), pair)
	}
	if _, err := c.Me(ctx); err != nil {
		t.Fatalf("Me with refreshed token: %v", err)
	}

	// Presenting the rotated token again after the grace window is reuse:
	// the server revokes the whole family, and the client that presented it
	// forgets its tokens.
	e.clock.Advance(11 * time.Second)
	thief, thiefLog := e.newClient()
	thief.SetTokens(before)
	_, err = thief.Refresh(ctx)
	apiError(t, err, http.StatusUnauthorized)
	if thief.Tokens() != (model.TokenPair{}) || thiefLog.last(t) != (model.TokenPair{}) {
		t.Fatalf("rejected refresh left tokens %+v", thief.Tokens())
	}
	if e.countAudit(model.ActionTokenReuse) != 1 {
		t.Fatal("reuse was not audited")
	}
	_, err = c.Refresh(ctx)
	apiError(t, err, http.StatusUnauthorized)
	if c.Tokens() != (model.TokenPair{}) || log.last(t) != (model.TokenPair{}) {
		t.Fatalf("revoked family still stored: %+v", c.Tokens())
	}
}

func TestRefreshWithoutToken(t *testing.T) {
	e := newEnv(t)
	c, log := e.newClient()
	_, err := c.Refresh(context.Background())
	if err == nil {
		t.Fatal("Refresh without a refresh token succeeded")
	}
	if client.IsStatus(err, http.StatusUnauthorized) || len(log.all()) != 0 {
		t.Fatalf("Refresh without a token: %v, OnTokens %v", err, log.all())
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, u := e.patient("pat@example.org")
	c2, log := e.newClient()
	c2.SetTokens(c.Tokens())
	old := c.Tokens()

	if err := c2.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if c2.Tokens() != (model.TokenPair{}) {
		t.Fatalf("tokens after logout %+v", c2.Tokens())
	}
	if got := log.all(); len(got) != 1 || got[0] != (model.TokenPair{}) {
		t.Fatalf("OnTokens after logout %+v, want one empty pair", got)
	}
	if got := e.auditActions(u.ID); got[len(got)-1] != model.ActionLogout {
		t.Fatalf("audit %v", got)
	}
	// The refresh token is revoked on the server.
	c3, _ := e.newClient()
	c3.SetTokens(model.TokenPair{RefreshToken: old.RefreshToken})
	if _, err := c3.Refresh(ctx); !client.IsStatus(err, http.StatusUnauthorized) {
		t.Fatalf("refresh after logout: %v", err)
	}
	// Logging out with nothing stored only clears.
	if err := c2.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if got := log.all(); len(got) != 2 || got[1] != (model.TokenPair{}) {
		t.Fatalf("OnTokens %+v", got)
	}
}

func TestForgotAndResetPassword(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, u := e.patient("pat@example.org")
	anon, _ := e.newClient()

	msg, err := anon.ForgotPassword(ctx, "pat@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if msg != "If an account exists for that email, a reset code has been sent." {
		t.Fatalf("forgot message %q", msg)
	}
	code := e.resetCode("pat@example.org")

	// Unknown accounts get the same answer.
	if msg2, err := anon.ForgotPassword(ctx, "nobody@example.org"); err != nil || msg2 != msg {
		t.Fatalf("unknown account: %q, %v", msg2, err)
	}
	_, err = anon.ForgotPassword(ctx, "nope")
	if ae := apiError(t, err, http.StatusBadRequest); ae.Field("email") != model.MsgInvalidEmail {
		t.Fatalf("malformed email: %+v", ae)
	}

	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	const next = "Nw8#fig-Harbor-77"
	_, err = anon.ResetPassword(ctx, "pat@example.org", wrong, next)
	if ae := apiError(t, err, http.StatusBadRequest); ae.Message != "Invalid or expired code" {
		t.Fatalf("wrong code: %+v", ae)
	}
	msg, err = anon.ResetPassword(ctx, "pat@example.org", code, next)
	if err != nil {
		t.Fatal(err)
	}
	if msg != "Password changed successfully" {
		t.Fatalf("reset message %q", msg)
	}
	if anon.Tokens() != (model.TokenPair{}) {
		t.Fatal("reset stored tokens")
	}
	// Single use.
	_, err = anon.ResetPassword(ctx, "pat@example.org", code, "Other#pass-Word-5")
	apiError(t, err, http.StatusBadRequest)

	if _, err := anon.Login(ctx, "pat@example.org", testPassword); !client.IsStatus(err, http.StatusUnauthorized) {
		t.Fatalf("old password after reset: %v", err)
	}
	if _, err := anon.Login(ctx, "pat@example.org", next); err != nil {
		t.Fatalf("new password after reset: %v", err)
	}
	// The reset signed every session out: the old session's refresh fails.
	if _, err := c.Refresh(ctx); !client.IsStatus(err, http.StatusUnauthorized) {
		t.Fatalf("old session refresh after reset: %v", err)
	}
	if got := e.auditActions(u.ID); !slices.Contains(got, model.ActionPasswordReset) {
		t.Fatalf("audit %v", got)
	}
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, log := e.newClient()
	if _, err := c.Signup(ctx, client.SignupRequest{FirstName: "Pat", LastName: "Ient", Email: "pat@example.org", Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	old := c.Tokens()
	const next = "Nw8#fig-Harbor-77"

	err := c.ChangePassword(ctx, "not-my-Password-1", next)
	if ae := apiError(t, err, http.StatusBadRequest); ae.Field("current_password") == "" {
		t.Fatalf("wrong current password: %+v", ae)
	}
	err = c.ChangePassword(ctx, testPassword, "short")
	if ae := apiError(t, err, http.StatusBadRequest); !slices.Contains(ae.Fields["new_password"], model.MsgPasswordTooShort) {
		t.Fatalf("short new password: %+v", ae)
	}
	if c.Tokens() != old || len(log.all()) != 1 {
		t.Fatal("failed change-password changed the tokens")
	}

	if err := c.ChangePassword(ctx, testPassword, next); err != nil {
		t.Fatal(err)
	}
	fresh := c.Tokens()
	if fresh.AccessToken == old.AccessToken || fresh.RefreshToken == old.RefreshToken || fresh.AccessToken == "" {
		t.Fatalf("tokens after change %+v (before %+v)", fresh, old)
	}
	if got := log.all(); len(got) != 2 || got[1] != fresh {
		t.Fatalf("OnTokens %+v, want the fresh pair last", got)
	}
	if _, err := c.Me(ctx); err != nil {
		t.Fatalf("Me after change: %v", err)
	}
	if c.Tokens() != fresh {
		t.Fatal("Me after change refreshed: the fresh access token was not accepted")
	}
	// The old session is signed out: its access token is stale and its
	// refresh token revoked.
	stale, staleLog := e.newClient()
	stale.SetTokens(old)
	_, err = stale.Me(ctx)
	if ae := apiError(t, err, http.StatusUnauthorized); ae.Message != "Invalid or expired access token." {
		t.Fatalf("old session: %+v", ae)
	}
	if stale.Tokens() != (model.TokenPair{}) || staleLog.last(t) != (model.TokenPair{}) {
		t.Fatal("old session kept its tokens")
	}
	anon, _ := e.newClient()
	if _, err := anon.Login(ctx, "pat@example.org", next); err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
}
