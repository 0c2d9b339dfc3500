// Package pgtest gives tests a fresh, migrated PostgreSQL database of their
// own. Import it from tests only.
//
// The server is named by ANAVARA_TEST_DATABASE, the URL of a database whose
// role may create databases; without it, URL skips the test. Once per
// process URL finds, or makes, a template database migrated to the schema
// the binary embeds (anavara_template_<hash of the migrations>, made once
// per schema and kept for later runs); then each call hands the test a
// clone of it (CREATE DATABASE … TEMPLATE: a copy of files, far faster
// than migrating) and drops the clone when the test ends. Clones are made
// ahead, in the background, and kept as anavara_spare_… databases that the
// next test, of this process or a later one, takes by renaming.
//
// Every test process may use it at once: the template is made under an
// advisory lock, and a spare is taken by one process only.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/anavara/anavara/db/postgres"
)

// EnvVar names the variable that holds the test server's URL.
const EnvVar = "ANAVARA_TEST_DATABASE"

// SkipMessage is why a test skips when EnvVar is not set.
const SkipMessage = "PostgreSQL tests need " + EnvVar + "=postgres://user:pass@host/db (a role that may create databases)"

// setupTimeout bounds making the template, cloneTimeout one clone or drop.
const (
	setupTimeout = 5 * time.Minute
	cloneTimeout = time.Minute
)

var (
	setupOnce sync.Once
	// admin is a pool on the database EnvVar names, from which clones are
	// made and dropped; template the template's name; setupErr why the
	// setup failed, if it did (every later URL call fails with it).
	admin    *pgxpool.Pool
	base     *url.URL
	template string
	setupErr error
)

// URL returns the URL of a new database, migrated to the embedded schema and
// used by no one else, that is dropped when tb ends. Without EnvVar, it
// skips tb. The URL has the base URL's user, password, host and parameters.
func URL(tb testing.TB) string {
	tb.Helper()
	return newDatabase(tb, true)
}

// EmptyURL is URL for a database without Anavara's schema, for tests of
// migrating one.
func EmptyURL(tb testing.TB) string {
	tb.Helper()
	return newDatabase(tb, false)
}

// newDatabase creates a database for tb, a clone of the template when
// migrated is set, else an empty one, and drops it when tb ends.
func newDatabase(tb testing.TB, migrated bool) string {
	tb.Helper()
	if os.Getenv(EnvVar) == "" {
		tb.Skip(SkipMessage)
	}
	setupOnce.Do(func() { setupErr = setup() })
	if setupErr != nil {
		tb.Fatalf("pgtest: %v", setupErr)
	}
	name := "anavara_test_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), cloneTimeout)
	defer cancel()
	var err error
	if migrated {
		err = takeSpare(ctx, name)
	} else {
		_, err = admin.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize())
	}
	if err != nil {
		tb.Fatalf("pgtest: create test database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cloneTimeout)
		defer cancel()
		if err := dropDatabase(ctx, name); err != nil {
			tb.Errorf("pgtest: drop test database %s: %v", name, err)
		}
	})
	return databaseURL(name)
}

// dropDatabase drops database name, first ending the connections a test
// left open to it (a store it did not close). Not DROP … WITH (FORCE): that
// also tries to end an autovacuum worker busy in the database, which a role
// that is not a superuser may not, and the drop fails. A plain DROP stops
// such a worker itself; it fails only while connections are still going
// away, so it is tried until they have.
func dropDatabase(ctx context.Context, name string) error {
	for {
		if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = $1 AND usename = current_user AND pid <> pg_backend_pid()`, name); err != nil {
			return err
		}
		_, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize())
		if err == nil || !inUse(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// inUse reports whether err is object_in_use (55006): a database that
// someone is connected to cannot be dropped, renamed or cloned.
func inUse(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "55006"
}

// Cloning the template costs the server a few hundred milliseconds of
// writing and syncing files, most of a short test's time. So pgtest keeps a
// few clones ready, made in the background while tests run: URL renames a
// spare to the test's database (instantly) and starts making a new one.
// Spares are named after the schema and shared by every test process:
// what one process leaves when it ends, the next one takes.
const spareTarget = 2

var (
	// sparePrefix starts the names of spares of this schema.
	sparePrefix string
	// refilling is set while this process makes spares.
	refilling atomic.Bool
)

// takeSpare makes database name a fresh clone of the template: a spare
// renamed, or a new clone when there is none to take.
func takeSpare(ctx context.Context, name string) error {
	defer refill()
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, sparePrefix)
	if err != nil {
		return err
	}
	spares, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, spare := range spares {
		// Another process may take the same spare first: then this one
		// finds it gone and tries the next.
		_, err := admin.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{spare}.Sanitize()+` RENAME TO `+pgx.Identifier{name}.Sanitize())
		if err == nil {
			return nil
		}
	}
	return cloneTemplate(ctx, name)
}

// refill makes spares in the background until there are spareTarget,
// unless this process is already at it. Failures only mean fewer spares.
func refill() {
	if !refilling.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer refilling.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), cloneTimeout)
		defer cancel()
		for {
			var n int
			if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE starts_with(datname, $1)`, sparePrefix).Scan(&n); err != nil || n >= spareTarget {
				return
			}
			if err := cloneTemplate(ctx, sparePrefix+randomHex(8)); err != nil {
				return
			}
		}
	}()
}

// dropStaleSpares drops the spares of other schemas, which no test of this
// one will take. Another process still on such a schema just makes itself
// new ones.
func dropStaleSpares(ctx context.Context) {
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_database WHERE starts_with(datname, 'anavara_spare_') AND NOT starts_with(datname, $1)`, sparePrefix)
	if err != nil {
		return
	}
	stale, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range stale {
		_, _ = admin.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize())
	}
}

// cloneTemplate creates database name from the template. A clone fails
// while anyone is connected to the template; the template allows no
// connections, but one that was open when that was set may take a moment
// to go, so a clone that fails for that reason is tried again.
func cloneTemplate(ctx context.Context, name string) error {
	for {
		_, err := admin.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()+` TEMPLATE `+pgx.Identifier{template}.Sanitize())
		if err == nil || !inUse(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// setup connects to the base database and makes sure the template exists.
func setup() error {
	raw := os.Getenv(EnvVar)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return fmt.Errorf("%s must be a postgres:// URL", EnvVar)
	}
	base = u
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	cfg, err := pgxpool.ParseConfig(raw)
	if err != nil {
		return fmt.Errorf("%s is not a valid connection URL", EnvVar)
	}
	cfg.MaxConns = 4
	if admin, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return fmt.Errorf("connect to %s: %w", postgres.Redact(raw), err)
	}
	// Per role as well as per schema: only a database's owner may clone
	// or rename it, so two roles on one server (a developer's and CI's)
	// each keep their own template and spares.
	var role string
	if err := admin.QueryRow(ctx, `SELECT current_user`).Scan(&role); err != nil {
		return fmt.Errorf("connect to %s: %w", postgres.Redact(raw), err)
	}
	hash, err := migrationsHash(role)
	if err != nil {
		return err
	}
	template = "anavara_template_" + hash
	sparePrefix = "anavara_spare_" + hash[:12] + "_"
	if err := ensureTemplate(ctx, hash); err != nil {
		return err
	}
	dropStaleSpares(ctx)
	return nil
}

// ensureTemplate makes the template unless it exists. Test processes run in
// parallel (go test runs packages at once), so the check and the making
// run under an advisory lock on the schema's hash: one process makes the
// template, the others wait and find it made.
//
// The template is built under a temporary name and renamed when it is
// complete, so a template of that name is always whole, even after a
// process died while making one.
func ensureTemplate(ctx context.Context, hash string) error {
	conn, err := admin.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Release()
	key, _ := hex.DecodeString(hash[:16])
	lockKey := int64(binary.BigEndian.Uint64(key))
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockKey); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, lockKey)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, template).Scan(&exists); err != nil {
		return fmt.Errorf("find template: %w", err)
	}
	if exists {
		return nil
	}
	building := template + "_building"
	quoted := pgx.Identifier{building}.Sanitize()
	// A leftover of a process that died while building.
	if err := dropDatabase(ctx, building); err != nil {
		return fmt.Errorf("drop unfinished template: %w", err)
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+quoted); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	s, err := postgres.Open(ctx, postgres.Options{URL: databaseURL(building)})
	if err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	if err := s.Close(); err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	// Nothing connects to a template: not a stray test, not autovacuum
	// (which skips such databases), so a clone never finds it in use.
	if _, err := conn.Exec(ctx, `ALTER DATABASE `+quoted+` WITH ALLOW_CONNECTIONS false`); err != nil {
		return fmt.Errorf("finish template: %w", err)
	}
	if err := renameWhenIdle(ctx, conn, building, template); err != nil {
		return err
	}
	return nil
}

// renameWhenIdle renames database from to to, waiting for the last
// connections to from to go away (a rename fails while there are any): the
// server ends a backend a moment after its client hung up.
func renameWhenIdle(ctx context.Context, conn *pgxpool.Conn, from, to string) error {
	for {
		_, err := conn.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{from}.Sanitize()+` RENAME TO `+pgx.Identifier{to}.Sanitize())
		if err == nil || !inUse(err) {
			if err != nil {
				return fmt.Errorf("finish template: %w", err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("finish template: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// migrationsHash is a hash of role and every embedded migration, names and
// text, and of the Go migrations' versions and SQL text: a change to the
// schema makes (and names) a new template.
func migrationsHash(role string) (string, error) {
	fsys := postgres.Migrations()
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return "", err
	}
	if len(names) == 0 {
		return "", errors.New("no embedded migrations")
	}
	sort.Strings(names)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", role)
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(b))
		h.Write(b)
	}
	fmt.Fprintf(h, "go migrations %v\x00", goVersions())
	for _, text := range postgres.GoMigrationsSQL() {
		fmt.Fprintf(h, "%d\x00%s", len(text), text)
	}
	return hex.EncodeToString(h.Sum(nil))[:24], nil
}

// databaseURL is the base URL naming database name instead.
func databaseURL(name string) string {
	u := *base
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// goVersions are the versions of the engine's Go migrations.
func goVersions() []int64 {
	var versions []int64
	for _, m := range postgres.GoMigrations() {
		versions = append(versions, m.Version)
	}
	return versions
}
