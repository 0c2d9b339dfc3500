package postgres_test

import (
	"context"
	"log/slog"
	neturl "net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/postgres/pgtest"
	"github.com/anavara/anavara/internal/testenv"
)

// poolerEnv names the host:port of a PgBouncer in transaction mode in
// front of the test database's server, that lets the test role connect
// to any database (.ci/run starts one).
const poolerEnv = "ANAVARA_TEST_PGBOUNCER"

// Behind a pooler in transaction mode a LISTEN succeeds and then hears
// nothing: it stays with a server connection the pooler hands to other
// clients. The listener's probe, announced from another connection, never
// comes back, so the store never vouches for cached rows (the cache would
// otherwise serve a deactivated account for up to 2 s); a store on the
// same database without the pooler does. The log says why, once.
func TestListenerBehindATransactionPoolerNeverCaches(t *testing.T) {
	pooler := os.Getenv(poolerEnv)
	if pooler == "" {
		t.Skipf("set %s to the host:port of a PgBouncer in transaction mode in front of %s's server", poolerEnv, pgtest.EnvVar)
	}
	url := pgtest.URL(t)
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = pooler
	q := u.Query()
	q.Set("default_query_exec_mode", "simple_protocol") // no prepared statements through the pooler
	u.RawQuery = q.Encode()
	const probeWait = 300 * time.Millisecond
	var log testenv.LockedBuffer
	pooled, err := postgres.Open(context.Background(), postgres.Options{URL: u.String(), SkipMigrations: true,
		ListenerProbeWait: probeWait, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pooled.Close() })
	direct := openAgain(t, url)
	if _, cacheable := direct.UsersVersion(); !cacheable {
		t.Fatal("the store without the pooler reports rows not cacheable")
	}
	if err := pooled.Ping(context.Background()); err != nil {
		t.Fatalf("queries through the pooler: %v", err)
	}
	// Over several of the listener's attempts, never listening.
	for deadline := time.Now().Add(4 * probeWait); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, cacheable := pooled.UsersVersion(); cacheable || pooled.UsersListener().Connected {
			t.Fatalf("behind the pooler: listener %+v, rows cacheable %v; want neither", pooled.UsersListener(), cacheable)
		}
	}
	if got := log.String(); strings.Count(got, "heard nothing") != 1 || !strings.Contains(got, "pool_mode = transaction") {
		t.Errorf("the log, after several failed probes: %q; want one warning naming the pooler's transaction mode", got)
	}
}
