package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/postgres/pgtest"
)

// openAgain opens a second store on url, as a second server would.
func openAgain(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), postgres.Options{URL: url})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// versionPast waits until s's users version has moved past v.
func versionPast(t *testing.T, s db.Store, v uint64, what string) uint64 {
	t.Helper()
	got, _ := pgtest.WaitUsersVersion(t, s, what, func(got uint64, _ bool) bool { return got != v })
	return got
}

// A change to a user committed through one store reaches another store on
// the same database: its users version moves on, as soon as the
// announcement arrives, and its listener counts it.
func TestUserChangesReachAnotherStore(t *testing.T) {
	a, url := openStore(t)
	b := openAgain(t, url)
	u := createUser(t, a, "ada@example.org")
	for _, tc := range []struct {
		name string
		fn   func(ctx context.Context, tx db.Tx) error
	}{
		{"UpdateUser (deactivated)", func(ctx context.Context, tx db.Tx) error {
			u.IsActive = false
			return tx.UpdateUser(ctx, u.User)
		}},
		{"UpdateUser (staff)", func(ctx context.Context, tx db.Tx) error {
			u.IsStaff = true
			return tx.UpdateUser(ctx, u.User)
		}},
		{"SetPassword", func(ctx context.Context, tx db.Tx) error { return tx.SetPassword(ctx, u.ID, "new-hash", base) }},
		{"InvalidateAccessTokens", func(ctx context.Context, tx db.Tx) error { return tx.InvalidateAccessTokens(ctx, u.ID) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, cacheable := b.UsersVersion()
			if !cacheable {
				t.Fatal("store B reports user rows not cacheable while its listener is connected")
			}
			heard := b.UsersListener().Notifications
			write(t, a, tc.fn)
			versionPast(t, b, v, "store B to hear of "+tc.name+" through store A")
			if n := b.UsersListener().Notifications; n <= heard {
				t.Errorf("store B's listener counts %d notifications, had %d before", n, heard)
			}
		})
	}
}

// Only a committed change is announced, once per transaction and user:
// after a rolled-back change and a committed one that changes the user
// twice, the other store has heard exactly one announcement (they arrive
// in commit order, so a wrong one would have arrived first).
func TestOnlyCommittedChangesAreAnnounced(t *testing.T) {
	a, url := openStore(t)
	b := openAgain(t, url)
	u := createUser(t, a, "ada@example.org")
	before := b.UsersListener().Notifications
	boom := errors.New("boom")
	err := a.Write(context.Background(), func(tx db.Tx) error {
		u.IsActive = false
		if err := tx.UpdateUser(context.Background(), u.User); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("rolled-back Write: %v", err)
	}
	v, _ := b.UsersVersion()
	write(t, a, func(ctx context.Context, tx db.Tx) error {
		if err := tx.InvalidateAccessTokens(ctx, u.ID); err != nil {
			return err
		}
		return tx.SetPassword(ctx, u.ID, "new-hash", base)
	})
	versionPast(t, b, v, "store B to hear of the committed change")
	if n := b.UsersListener().Notifications - before; n != 1 {
		t.Fatalf("store B heard %d announcements, want 1", n)
	}
}

// While the listener's connection is gone, and it cannot connect again,
// the store reports user rows not cacheable; once it listens again they
// are, under a version that moved on (changes made meanwhile were not
// heard), and the reconnection is counted.
func TestListenerDropAndReconnect(t *testing.T) {
	s, url := openStore(t)
	if st := s.UsersListener(); !st.Connected || st.Reconnects != 0 {
		t.Fatalf("listener after Open: %+v, want connected, no reconnects", st)
	}
	v0, _ := s.UsersVersion()
	allow := pgtest.RefuseConnections(t, url)
	if n := pgtest.DropListeners(t, url); n != 1 {
		t.Fatalf("dropped %d listener sessions, want 1", n)
	}
	v1, _ := pgtest.WaitUsersVersion(t, s, "the store to notice its listener is gone", func(_ uint64, cacheable bool) bool { return !cacheable })
	if v1 == v0 {
		t.Error("the version did not move when the listener went away")
	}
	if st := s.UsersListener(); st.Connected {
		t.Errorf("listener while the database refuses connections: %+v, want not connected", st)
	}
	// The pool's sessions carry on: a change made now is not heard.
	u := createUser(t, s, "ada@example.org")
	write(t, s, func(ctx context.Context, tx db.Tx) error { return tx.InvalidateAccessTokens(ctx, u.ID) })
	if _, cacheable := s.UsersVersion(); cacheable {
		t.Fatal("user rows cacheable while the listener cannot connect")
	}
	v2, _ := s.UsersVersion()

	allow()
	v3, _ := pgtest.WaitUsersVersion(t, s, "the listener to listen again", func(_ uint64, cacheable bool) bool { return cacheable })
	if v3 == v2 {
		t.Error("the version did not move when the listener came back")
	}
	if st := s.UsersListener(); !st.Connected || st.Reconnects != 1 {
		t.Errorf("listener after it came back: %+v, want connected, 1 reconnect", st)
	}
	// And it hears again.
	b := openAgain(t, url)
	write(t, b, func(ctx context.Context, tx db.Tx) error { return tx.InvalidateAccessTokens(ctx, u.ID) })
	versionPast(t, s, v3, "the store to hear a change after it listens again")
}

// Close stops the listener: its session leaves the database, and the store
// no longer vouches for cached rows.
func TestCloseStopsTheListener(t *testing.T) {
	s, url := openStore(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if st := s.UsersListener(); st.Connected {
		t.Errorf("listener after Close: %+v", st)
	}
	if _, cacheable := s.UsersVersion(); cacheable {
		t.Error("user rows cacheable after Close")
	}
	// Close waited for the connection to be closed; the server ends the
	// session as it reads that, so wait for that event.
	c := connect(t, url)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := c.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`,
			postgres.ListenerApplicationName).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d listener sessions still open after Close", n)
		}
		time.Sleep(time.Millisecond)
	}
}

// A quiet connection is pinged, and the wait that the ping ends leaves the
// connection as it was: still listening, nothing reconnected, and the next
// announcement heard.
func TestListenerPingsAQuietConnection(t *testing.T) {
	url := pgtest.URL(t)
	s, err := postgres.Open(context.Background(), postgres.Options{URL: url, ListenerPing: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// pg_stat_activity shows a session's last statement and when it
	// started: pgx pings with "-- ping", the listener's first statement
	// was its LISTEN. Three pings seen, three waits ended by the quiet.
	c := connect(t, url)
	deadline := time.Now().Add(30 * time.Second)
	pings := map[time.Time]bool{}
	for len(pings) < 3 {
		var query string
		var started time.Time
		err := c.QueryRow(context.Background(), `SELECT query, query_start FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = $1`, postgres.ListenerApplicationName).Scan(&query, &started)
		if err != nil {
			t.Fatalf("find the listener's session: %v", err)
		}
		if query == "-- ping" {
			pings[started] = true
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pings seen; the listener's last statement is %q", len(pings), query)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st := s.UsersListener(); !st.Connected || st.Reconnects != 0 {
		t.Fatalf("listener after pings: %+v, want connected, no reconnects", st)
	}
	v, _ := s.UsersVersion()
	u := createUser(t, s, "ada@example.org")
	write(t, openAgain(t, url), func(ctx context.Context, tx db.Tx) error { return tx.InvalidateAccessTokens(ctx, u.ID) })
	versionPast(t, s, v+1, "the store to hear a change after its listener was pinged")
	if st := s.UsersListener(); st.Notifications != 1 || st.Reconnects != 0 {
		t.Errorf("listener: %+v, want 1 notification, no reconnects", st)
	}
}
