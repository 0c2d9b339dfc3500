package client_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// pastAccessTTL is longer than the server's 15-minute access-token lifetime.
const pastAccessTTL = 16 * time.Minute

func TestAutomaticRefreshOnExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, log := e.newClient()
	if _, err := c.Signup(ctx, client.SignupRequest{FirstName: "Pat", LastName: "Ient", Email: "pat@example.org", Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	before := c.Tokens()

	e.clock.Advance(pastAccessTTL)
	// The stale access token alone is refused...
	stale, _ := e.newClient()
	stale.SetTokens(model.TokenPair{AccessToken: before.AccessToken})
	if _, err := stale.Me(ctx); !client.IsStatus(err, http.StatusUnauthorized) {
		t.Fatalf("expired access token accepted: %v", err)
	}
	// ...but the client refreshes and retries.
	me, err := c.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if me.Email != "pat@example.org" {
		t.Fatalf("Me = %+v", me)
	}
	after := c.Tokens()
	if after.AccessToken == before.AccessToken || after.RefreshToken == before.RefreshToken || after.AccessToken == "" {
		t.Fatalf("tokens not rotated: before %+v after %+v", before, after)
	}
	if got := log.all(); len(got) != 2 || got[1] != after {
		t.Fatalf("OnTokens %+v, want the signup pair then %+v", got, after)
	}
	// The new pair is the live one: a plain call does not refresh again.
	if _, err := c.ListRecords(ctx, client.RecordQuery{}); err != nil {
		t.Fatal(err)
	}
	if c.Tokens() != after || len(log.all()) != 2 {
		t.Fatal("a call with a valid token refreshed")
	}
	if e.countAudit(model.ActionTokenReuse) != 0 {
		t.Fatal("refresh was taken for reuse")
	}
}

func TestRefreshFirstWithoutAccessToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first, u := e.patient("pat@example.org")

	// A new session from a saved refresh token only.
	c, log := e.newClient()
	c.SetTokens(model.TokenPair{RefreshToken: first.Tokens().RefreshToken})
	if len(log.all()) != 0 {
		t.Fatal("SetTokens called OnTokens")
	}
	rec, err := c.CreateRecord(ctx, client.RecordInput{
		PatientName: "Pat", DateOfBirth: date(t, "1990-01-01"), DateOfTreatment: date(t, "2026-04-01"), Doctor: "Dr Grey",
	})
	if err != nil {
		t.Fatal(err)
	}
	if rec.UserID != u.ID {
		t.Fatalf("record for %s, want %s", rec.UserID, u.ID)
	}
	got := c.Tokens()
	if got.AccessToken == "" || got.RefreshToken == first.Tokens().RefreshToken {
		t.Fatalf("tokens %+v", got)
	}
	if calls := log.all(); len(calls) != 1 || calls[0] != got {
		t.Fatalf("OnTokens %+v", calls)
	}
	// Exactly one record: the create was sent once, after the refresh.
	if p, err := c.ListRecords(ctx, client.RecordQuery{}); err != nil || p.Count != 1 {
		t.Fatalf("records %+v, %v", p, err)
	}
}

func TestAutomaticRefreshRevokedByLogout(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, log := e.newClient()
	if _, err := c.Signup(ctx, client.SignupRequest{FirstName: "Pat", LastName: "Ient", Email: "pat@example.org", Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	// Another client sharing the session logs out, revoking the refresh token.
	other, _ := e.newClient()
	other.SetTokens(c.Tokens())
	if err := other.Logout(ctx); err != nil {
		t.Fatal(err)
	}

	e.clock.Advance(pastAccessTTL)
	_, err := c.Me(ctx)
	ae := apiError(t, err, http.StatusUnauthorized)
	if ae.Message != "Invalid or expired access token." {
		t.Fatalf("want the original 401 of the call, got %+v", ae)
	}
	if c.Tokens() != (model.TokenPair{}) {
		t.Fatalf("tokens not cleared: %+v", c.Tokens())
	}
	if got := log.all(); len(got) != 2 || got[1] != (model.TokenPair{}) {
		t.Fatalf("OnTokens %+v, want the signup pair then an empty pair", got)
	}
	// With nothing stored, the next call is a plain 401 without a refresh.
	_, err = c.Me(ctx)
	if ae := apiError(t, err, http.StatusUnauthorized); ae.Message != "Authentication credentials were not provided." {
		t.Fatalf("call after clearing: %+v", ae)
	}
	if len(log.all()) != 2 {
		t.Fatal("OnTokens called again")
	}
}

func TestAutomaticRefreshAfterReuse(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, log := e.newClient()
	if _, err := c.Login(ctx, "nobody@example.org", testPassword); err == nil {
		t.Fatal("unknown login succeeded")
	}
	if _, err := c.Signup(ctx, client.SignupRequest{FirstName: "Pat", LastName: "Ient", Email: "pat@example.org", Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	// A copy of the session rotates the shared refresh token first.
	copyClient, copyLog := e.newClient()
	copyClient.SetTokens(c.Tokens())
	if _, err := copyClient.Refresh(ctx); err != nil {
		t.Fatal(err)
	}

	e.clock.Advance(pastAccessTTL)
	// c now presents the rotated token: reuse. The server revokes the family.
	_, err := c.Me(ctx)
	apiError(t, err, http.StatusUnauthorized)
	if c.Tokens() != (model.TokenPair{}) || log.last(t) != (model.TokenPair{}) {
		t.Fatalf("tokens after reuse %+v", c.Tokens())
	}
	if e.countAudit(model.ActionTokenReuse) != 1 {
		t.Fatal("reuse not audited")
	}
	// The copy's newer token belonged to the same family: it is dead too.
	_, err = copyClient.Me(ctx)
	apiError(t, err, http.StatusUnauthorized)
	if copyClient.Tokens() != (model.TokenPair{}) || copyLog.last(t) != (model.TokenPair{}) {
		t.Fatalf("copy kept tokens %+v", copyClient.Tokens())
	}
}

func TestSingleFlightRefresh(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, log := e.newClient()
	res, err := c.Signup(ctx, client.SignupRequest{FirstName: "Pat", LastName: "Ient", Email: "pat@example.org", Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(pastAccessTTL)

	const n = 10
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	users := make([]model.User, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			users[i], errs[i] = c.Me(ctx)
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if users[i].ID != res.User.ID {
			t.Fatalf("caller %d got %+v", i, users[i])
		}
	}
	calls := log.all()
	if len(calls) != 2 {
		t.Fatalf("OnTokens called %d times, want 2 (signup and exactly one refresh): %+v", len(calls), calls)
	}
	if calls[1] != c.Tokens() || calls[1].AccessToken == res.AccessToken {
		t.Fatalf("refresh reported %+v, stored %+v", calls[1], c.Tokens())
	}
	if e.countAudit(model.ActionTokenReuse) != 0 {
		t.Fatal("concurrent refreshes were taken for token theft")
	}
	// The session survived: the refresh token still works.
	if _, err := c.Refresh(ctx); err != nil {
		t.Fatalf("session revoked: %v", err)
	}
}

func TestConcurrentFirstRefresh(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first, _ := e.patient("pat@example.org")
	c, log := e.newClient()
	c.SetTokens(model.TokenPair{RefreshToken: first.Tokens().RefreshToken})

	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.ListRecords(ctx, client.RecordQuery{})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := log.all(); len(got) != 1 {
		t.Fatalf("OnTokens called %d times, want 1", len(got))
	}
	if e.countAudit(model.ActionTokenReuse) != 0 {
		t.Fatal("reuse detected")
	}
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRefreshSurvivesCallerCancel(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The caller gives up the moment the refresh request leaves.
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if strings.HasSuffix(r.URL.Path, "/api/auth/token/refresh") {
			cancel()
		}
		return e.transport.RoundTrip(r)
	})}
	log := &tokenLog{}
	c, err := client.New(client.Options{BaseURL: e.url, HTTPClient: hc, OnTokens: log.record})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Signup(context.Background(), client.SignupRequest{FirstName: "Pat", LastName: "Ient", Email: "pat@example.org", Password: testPassword}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(pastAccessTTL)

	if _, err := c.Me(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Me: %v", err)
	}
	// The refresh was not abandoned: the rotated pair is stored anyway, so
	// the old refresh token is never presented again.
	deadline := time.Now().Add(5 * time.Second)
	for len(log.all()) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the refresh never completed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	rotated := log.last(t)
	if c.Tokens() != rotated || rotated.AccessToken == "" {
		t.Fatalf("stored %+v, reported %+v", c.Tokens(), rotated)
	}
	if _, err := c.Me(context.Background()); err != nil {
		t.Fatalf("session lost after a cancelled call: %v", err)
	}
	if len(log.all()) != 2 || e.countAudit(model.ActionTokenReuse) != 0 {
		t.Fatalf("OnTokens %d calls, reuse events %d", len(log.all()), e.countAudit(model.ActionTokenReuse))
	}
}
