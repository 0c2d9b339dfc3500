package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/postgres/pgtest"
	"github.com/anavara/anavara/model"
)

// A write that changes a user returns only once every other store on the
// database has heard of it: read the moment Write returns, without any
// waiting, the other stores' users versions have already moved on. Before
// the acknowledgements this failed within a few rounds (the announcement
// was still on its way), and on a loaded machine so did "the very next
// request on B" of e2e's multi-instance journey.
func TestAWriteReturnsOnceEveryStoreHasHeard(t *testing.T) {
	a, url := openStore(t)
	others := []*postgres.Store{openAgain(t, url), openAgain(t, url)}
	u := createUser(t, a, "ada@example.org")
	changes := []struct {
		name string
		fn   func(ctx context.Context, tx db.Tx) error
	}{
		{"UpdateUser", func(ctx context.Context, tx db.Tx) error {
			u.IsActive = !u.IsActive
			return tx.UpdateUser(ctx, u.User)
		}},
		{"SetPassword", func(ctx context.Context, tx db.Tx) error { return tx.SetPassword(ctx, u.ID, "new-hash", base) }},
		{"InvalidateAccessTokens", func(ctx context.Context, tx db.Tx) error { return tx.InvalidateAccessTokens(ctx, u.ID) }},
	}
	for round := 0; round < 30; round++ {
		c := changes[round%len(changes)]
		before := make([]uint64, len(others))
		for i, o := range others {
			v, cacheable := o.UsersVersion()
			if !cacheable {
				t.Fatalf("round %d: store %d reports rows not cacheable", round, i)
			}
			before[i] = v
		}
		write(t, a, c.fn)
		for i, o := range others {
			if v, _ := o.UsersVersion(); v == before[i] {
				t.Fatalf("round %d, %s: store %d had not heard of the change when Write returned", round, c.name, i)
			}
		}
	}
	if n := a.UsersListener().Unacknowledged; n != 0 {
		t.Errorf("%d writes stopped waiting before every listener acknowledged", n)
	}
}

// openWithWait opens a store on a new database whose writes wait at most
// wait for the acknowledgements, and returns it with the database's URL.
func openWithWait(t *testing.T, wait time.Duration) (*postgres.Store, string) {
	t.Helper()
	url := pgtest.URL(t)
	s, err := postgres.Open(context.Background(), postgres.Options{URL: url, UsersAnnounceWait: wait})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, url
}

// fakeListener is a session that a writer counts as a listener (its
// application_name) and that listens to the announcements, but
// acknowledges none unless the test makes it; closed when t ends (after
// the test's own cleanups).
func fakeListener(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = postgres.ListenerApplicationName
	c, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	if _, err := c.Exec(context.Background(), `LISTEN anavara_users`); err != nil {
		t.Fatal(err)
	}
	return c
}

// A listener session that never acknowledges (a server gone silent, or
// one counted as it connected) holds a write for UsersAnnounceWait at
// most, not for ever; the write still commits, the other stores still
// hear of it, and the store counts the write unacknowledged.
func TestAWriteWaitsForASilentListenerAtMostTheAnnounceWait(t *testing.T) {
	const wait = 300 * time.Millisecond
	a, url := openWithWait(t, wait)
	b := openAgain(t, url)
	u := createUser(t, a, "ada@example.org")

	// Acknowledged by both stores' listeners: no wait near the bound.
	start := time.Now()
	write(t, a, func(ctx context.Context, tx db.Tx) error { return tx.InvalidateAccessTokens(ctx, u.ID) })
	if d := time.Since(start); d >= wait {
		t.Errorf("a write every listener acknowledged took %v, the whole wait", d)
	}
	if n := a.UsersListener().Unacknowledged; n != 0 {
		t.Fatalf("unacknowledged writes: %d, want 0", n)
	}

	fakeListener(t, url)

	v, _ := b.UsersVersion()
	start = time.Now()
	write(t, a, func(ctx context.Context, tx db.Tx) error { return tx.InvalidateAccessTokens(ctx, u.ID) })
	if d := time.Since(start); d < wait {
		t.Errorf("a write one listener never acknowledged returned after %v, before the wait of %v", d, wait)
	}
	if got, _ := b.UsersVersion(); got == v {
		t.Error("store B had not heard of the change when Write returned")
	}
	if n := a.UsersListener().Unacknowledged; n != 1 {
		t.Errorf("unacknowledged writes: %d, want 1", n)
	}
	if row, err := b.Read().UserByID(context.Background(), u.ID); err != nil || row.TokenVersion != u.TokenVersion+2 {
		t.Errorf("after the waits: token version %d (%v), want %d", row.TokenVersion, err, u.TokenVersion+2)
	}
}

// A transaction that changed no user (the id matched no row) owes no
// acknowledgement and waits for none.
func TestAWriteThatChangedNoUserDoesNotWait(t *testing.T) {
	const wait = time.Minute
	a, _ := openWithWait(t, wait)
	done := make(chan error, 1)
	go func() {
		done <- a.Write(context.Background(), func(tx db.Tx) error {
			// The not-found is dropped: the transaction commits.
			_ = tx.InvalidateAccessTokens(context.Background(), "00000000-0000-4000-8000-000000000000")
			return nil
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(wait / 2):
		t.Fatal("a write that changed no user waited for acknowledgements")
	}
}

// The longest wait is at least the user cache's TTL: a write that stops
// waiting then answers only once every row cached before it has expired.
func TestTheAnnounceWaitCoversTheUserCacheTTL(t *testing.T) {
	if postgres.DefaultUsersAnnounceWait < auth.UserCacheTTL {
		t.Fatalf("DefaultUsersAnnounceWait %v is shorter than auth.UserCacheTTL %v",
			postgres.DefaultUsersAnnounceWait, auth.UserCacheTTL)
	}
}

// BenchmarkAnnouncedWrite measures what waiting for the listeners'
// acknowledgements costs a write that changes a user (an announced UPDATE
// of the token version) against one that creates a user (an INSERT, which
// announces nothing; its commit syncs the WAL as the UPDATE's does), with
// one store on the database and with three.
//
//	ANAVARA_TEST_DATABASE=… go test -run '^$' -bench AnnouncedWrite ./db/postgres/
func BenchmarkAnnouncedWrite(b *testing.B) {
	url := pgtest.URL(b)
	open := func() *postgres.Store {
		s, err := postgres.Open(context.Background(), postgres.Options{URL: url})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	a := open()
	u := db.UserRow{User: model.User{ID: uuid.NewString(), Email: "bench@example.org", FirstName: "B", LastName: "N",
		IsActive: true, Created: base, Updated: base, Version: 1}, PasswordHash: "x"}
	ctx := context.Background()
	if err := a.Write(ctx, func(tx db.Tx) error { return tx.CreateUser(ctx, u) }); err != nil {
		b.Fatal(err)
	}
	announced := func(b *testing.B) {
		for b.Loop() {
			if err := a.Write(ctx, func(tx db.Tx) error { return tx.InvalidateAccessTokens(ctx, u.ID) }); err != nil {
				b.Fatal(err)
			}
		}
	}
	created := func(b *testing.B) {
		for b.Loop() {
			n := u
			n.ID, n.Email = uuid.NewString(), uuid.NewString()+"@example.org"
			if err := a.Write(ctx, func(tx db.Tx) error { return tx.CreateUser(ctx, n) }); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("stores=1/created", created)
	b.Run("stores=1/announced", announced)
	open()
	open()
	b.Run("stores=3/created", created)
	b.Run("stores=3/announced", announced)
	if n := a.UsersListener().Unacknowledged; n != 0 {
		b.Errorf("%d writes stopped waiting before every listener acknowledged", n)
	}
}

// A transaction that changes two users sends two notifications, and waits
// for every listener's acknowledgement of each: acknowledgements are
// counted per notification, so two from a fast listener must not stand in
// for a slow one's. A session posing as a listener acknowledges only the
// first notification of each announcement; the write then waits out
// UsersAnnounceWait and is counted unacknowledged.
func TestAWriteOfTwoUsersWaitsForEachNotification(t *testing.T) {
	const wait = 300 * time.Millisecond
	a, url := openWithWait(t, wait)
	openAgain(t, url)
	ann, bob := createUser(t, a, "ann@example.org"), createUser(t, a, "bob@example.org")
	both := func(ctx context.Context, tx db.Tx) error {
		if err := tx.InvalidateAccessTokens(ctx, ann.ID); err != nil {
			return err
		}
		return tx.InvalidateAccessTokens(ctx, bob.ID)
	}
	write(t, a, both)
	if n := a.UsersListener().Unacknowledged; n != 0 {
		t.Fatalf("with every listener acknowledging: %d unacknowledged, want 0", n)
	}

	half := fakeListener(t, url)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { stop(); <-done })
	go func() {
		defer close(done)
		acked := map[string]bool{}
		for {
			n, err := half.WaitForNotification(ctx)
			if err != nil {
				return
			}
			f := strings.Fields(n.Payload)
			if len(f) != 3 || acked[f[2]] {
				continue
			}
			acked[f[2]] = true
			if _, err := half.Exec(ctx, `SELECT pg_notify($1, $2)`, "anavara_users_ack_"+f[1], f[2]); err != nil {
				return
			}
		}
	}()
	start := time.Now()
	write(t, a, both)
	if d := time.Since(start); d < wait {
		t.Errorf("the write returned after %v, before a listener acknowledged both users (wait %v)", d, wait)
	}
	if n := a.UsersListener().Unacknowledged; n != 1 {
		t.Errorf("unacknowledged writes: %d, want 1", n)
	}
}
