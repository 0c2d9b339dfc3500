package client_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui"
	"github.com/anavara/anavara/tui/client"
)

// sharedClient returns a client of the server keeping its pair in store.
func (e *env) sharedClient(store client.TokenStore) *client.Client {
	e.t.Helper()
	c, err := client.New(client.Options{
		BaseURL: e.url, HTTPClient: &http.Client{Transport: e.transport}, Timeout: 10 * time.Second, Store: store,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// TestSharedStoreNeverSwitchesAccounts: one window is signed in as Ann,
// another window on the same config dir signs in as Bob, overwriting the
// stored pair. When Ann's window refreshes it must not take Bob's newer
// pair: it would go on showing Ann while acting as Bob. Each keeps its own
// account, and nobody's token is reused.
func TestSharedStoreNeverSwitchesAccounts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, email := range []string{"ann@example.org", "bob@example.org"} {
		e.patient(email)
	}
	store := tui.FileCredentials(t.TempDir())
	annWindow, bobWindow := e.sharedClient(store), e.sharedClient(store)
	if _, err := annWindow.Login(ctx, "ann@example.org", testPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := bobWindow.Login(ctx, "bob@example.org", testPassword); err != nil {
		t.Fatal(err)
	}

	e.clock.Advance(pastAccessTTL)
	for range 2 {
		for want, c := range map[string]*client.Client{"ann@example.org": annWindow, "bob@example.org": bobWindow} {
			u, err := c.Me(ctx)
			if err != nil {
				t.Fatalf("%s's window: %v", want, err)
			}
			if u.Email != want {
				t.Fatalf("%s's window is now signed in as %s", want, u.Email)
			}
		}
		e.clock.Advance(pastAccessTTL)
	}
	if n := e.countAudit(model.ActionTokenReuse); n != 0 {
		t.Fatalf("%d reuse events", n)
	}
}

// TestSharedStoreForgetsOnlyItsOwnSignIn: Ann signs out in one window
// after Bob signed in in another; the stored pair is Bob's, and stays.
func TestSharedStoreForgetsOnlyItsOwnSignIn(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, email := range []string{"ann@example.org", "bob@example.org"} {
		e.patient(email)
	}
	dir := t.TempDir()
	store := tui.FileCredentials(dir)
	annWindow, bobWindow := e.sharedClient(store), e.sharedClient(store)
	if _, err := annWindow.Login(ctx, "ann@example.org", testPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := bobWindow.Login(ctx, "bob@example.org", testPassword); err != nil {
		t.Fatal(err)
	}
	if err := annWindow.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	stored, err := tui.FileCredentials(dir).Pair(e.url)
	if err != nil {
		t.Fatal(err)
	}
	if stored != bobWindow.Tokens() {
		t.Fatalf("stored %+v after Ann's sign-out, want Bob's pair", stored)
	}
	// Bob's own sign-out deletes it.
	if err := bobWindow.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if stored, _ := tui.FileCredentials(dir).Pair(e.url); stored != (model.TokenPair{}) {
		t.Fatalf("stored %+v after Bob's sign-out", stored)
	}
}
