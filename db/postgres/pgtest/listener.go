package pgtest

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/postgres"
)

// waitTimeout bounds WaitUsersVersion: how long a test waits for an event
// before it fails, not how soon the event must happen.
const waitTimeout = 30 * time.Second

// databaseName returns the name of the database a URL from URL names.
func databaseName(tb testing.TB, databaseURL string) string {
	tb.Helper()
	u, err := url.Parse(databaseURL)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

// DropListeners ends the sessions of the stores' listeners
// (postgres.ListenerApplicationName) on the database databaseURL names, as
// a network failure or an operator's pg_terminate_backend would, and
// returns how many it ended.
func DropListeners(tb testing.TB, databaseURL string) int {
	tb.Helper()
	var n int
	err := admin.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = $1 AND application_name = $2`, databaseName(tb, databaseURL), postgres.ListenerApplicationName).Scan(&n)
	if err != nil {
		tb.Fatalf("pgtest: drop listeners: %v", err)
	}
	return n
}

// RefuseConnections makes the database databaseURL names refuse new
// connections (its open sessions carry on) until allow is called, or tb
// ends.
func RefuseConnections(tb testing.TB, databaseURL string) (allow func()) {
	tb.Helper()
	name := pgx.Identifier{databaseName(tb, databaseURL)}.Sanitize()
	set := func(allowed bool) error {
		v := "false"
		if allowed {
			v = "true"
		}
		_, err := admin.Exec(context.Background(), `ALTER DATABASE `+name+` WITH ALLOW_CONNECTIONS `+v)
		return err
	}
	if err := set(false); err != nil {
		tb.Fatalf("pgtest: refuse connections: %v", err)
	}
	allowed := false
	allow = func() {
		tb.Helper()
		if allowed {
			return
		}
		allowed = true
		if err := set(true); err != nil {
			tb.Errorf("pgtest: allow connections: %v", err)
		}
	}
	tb.Cleanup(allow)
	return allow
}

// WaitUsersVersion waits until s's UsersVersion satisfies cond, and
// returns it; it fails tb if that takes longer than any delivery should.
// Announcements and reconnections are asynchronous: a test waits for them
// as events, and asserts on what follows.
func WaitUsersVersion(tb testing.TB, s db.Store, what string, cond func(version uint64, cacheable bool) bool) (uint64, bool) {
	tb.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		v, c := s.UsersVersion()
		if cond(v, c) {
			return v, c
		}
		if time.Now().After(deadline) {
			tb.Fatalf("pgtest: still waiting after %v for %s (version %d, cacheable %v)", waitTimeout, what, v, c)
		}
		time.Sleep(time.Millisecond)
	}
}
