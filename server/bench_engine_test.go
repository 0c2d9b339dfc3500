//go:build unix

package server_test

// The benchmarks' engine-specific parts: on a PostgreSQL run
// (ANAVARA_TEST_DATABASE set, see internal/testenv) the same benchmarks
// run on a fresh pgtest database, seeded with the same rows.

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/model"
)

// benchStore is a benchmark's store and where its database lives: a
// SQLite file (path) or a PostgreSQL database (url).
type benchStore struct {
	db.Store
	path string // SQLite: the database file
	url  string // PostgreSQL: the database's URL
}

func (s benchStore) onPostgres() bool { return s.url != "" }

// openBenchPostgres opens (migrating) the PostgreSQL database at dbURL and
// closes the store when b ends.
func openBenchPostgres(b *testing.B, dbURL string) benchStore {
	b.Helper()
	store, err := postgres.Open(context.Background(), postgres.Options{URL: dbURL})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := store.Close(); err != nil {
			b.Error(err)
		}
	})
	return benchStore{Store: store, url: dbURL}
}

// pgConn opens a plain connection to the store's PostgreSQL database, for
// what the store does not offer (settings, maintenance, sizes), closed
// when b ends.
func (s benchStore) pgConn(b *testing.B) *pgx.Conn {
	b.Helper()
	conn, err := pgx.Connect(context.Background(), s.url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// pgSetting reads a PostgreSQL setting (SHOW name) on a connection of its own.
func (s benchStore) pgSetting(b *testing.B, name string) string {
	b.Helper()
	var v string
	if err := s.pgConn(b).QueryRow(context.Background(), "SHOW "+pgx.Identifier{name}.Sanitize()).Scan(&v); err != nil {
		b.Fatal(err)
	}
	return v
}

// settle brings a freshly seeded PostgreSQL database to the state a
// running one would be in: VACUUM ANALYZE sets the visibility map (the
// index-only scans depend on it), folds the trigram index's pending list
// in, and gives the planner statistics. Without it autovacuum would do the
// same at some moment of its own during the measurements (a million
// inserts cross its insert threshold). On SQLite it indexes the trail's
// seeded events, as the background indexer would within seconds of them
// (sqlite.Store.IndexAuditTrail).
func (s benchStore) settle(b *testing.B) {
	b.Helper()
	if !s.onPostgres() {
		if lite, ok := s.Store.(*sqlite.Store); ok {
			if err := lite.IndexAuditTrail(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	start := time.Now()
	if _, err := s.pgConn(b).Exec(context.Background(), "VACUUM (ANALYZE)"); err != nil {
		b.Fatal(err)
	}
	b.Logf("VACUUM (ANALYZE) in %s", time.Since(start).Round(time.Millisecond))
}

// logSize logs how big the database is: the SQLite file, or PostgreSQL's
// pg_database_size.
func (s benchStore) logSize(b *testing.B) {
	b.Helper()
	if s.onPostgres() {
		var n int64
		if err := s.pgConn(b).QueryRow(context.Background(), "SELECT pg_database_size(current_database())").Scan(&n); err != nil {
			b.Fatal(err)
		}
		b.Logf("database size (pg_database_size): %d MiB", n>>20)
		return
	}
	if fi, err := os.Stat(s.path); err == nil {
		b.Logf("database file: %d MiB", fi.Size()>>20)
	}
}

// importBenchRows loads users and records 0 … n-1 (record(i) makes the
// i-th, in order, so that the generator draws its random numbers as on
// SQLite) through the engine's db.Importer, batches of db.ExportBatch
// rows, and sets the counters from them.
func importBenchRows(b *testing.B, store benchStore, users []db.UserRow, n int, record func(int) model.MedicalRecord) {
	b.Helper()
	im, ok := store.Store.(db.Importer)
	if !ok {
		b.Fatalf("%s store is not a db.Importer", store.Engine())
	}
	ctx := context.Background()
	err := im.Import(ctx, func(tx db.ImportTx) error {
		for lo := 0; lo < len(users); lo += db.ExportBatch {
			if err := tx.Users(ctx, users[lo:min(lo+db.ExportBatch, len(users))]); err != nil {
				return err
			}
		}
		batch := make([]model.MedicalRecord, 0, db.ExportBatch)
		for i := range n {
			batch = append(batch, record(i))
			if len(batch) == db.ExportBatch || i == n-1 {
				if err := tx.MedicalRecords(ctx, batch); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		return tx.Recount(ctx)
	})
	if err != nil {
		b.Fatal(err)
	}
}

// pgDatabase is the database name in a PostgreSQL URL.
func pgDatabase(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// clockTicks is the unit of utime and stime in /proc/<pid>/stat
// (sysconf(_SC_CLK_TCK), 100 on Linux).
const clockTicks = 100

// pgBackendCPU sums the CPU time (user + system) of the PostgreSQL backends
// connected to database dbname, found by their process titles
// ("postgres: … <user> <dbname> <host>(<port>) …") in /proc. It returns
// false where /proc does not say (not Linux, or titles hidden). The
// resolution is 10 ms per backend, which over a benchmark's second or
// more of work is fine. A backend that exits between two readings takes
// its time with it; the store's pool keeps its connections.
func pgBackendCPU(dbname string) (time.Duration, bool) {
	if dbname == "" {
		return 0, false
	}
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil || len(procs) == 0 {
		return 0, false
	}
	needle := []byte(" " + dbname + " ")
	var total int64
	found := false
	for _, p := range procs {
		cmd, err := os.ReadFile(p)
		if err != nil || !bytes.HasPrefix(cmd, []byte("postgres: ")) || !bytes.Contains(cmd, needle) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(filepath.Dir(p), "stat"))
		if err != nil {
			continue
		}
		// Fields after the parenthesised command: state is the 3rd field,
		// utime the 14th and stime the 15th.
		rest := stat[bytes.LastIndexByte(stat, ')')+1:]
		f := strings.Fields(string(rest))
		if len(f) < 13 {
			continue
		}
		ut, err1 := strconv.ParseInt(f[11], 10, 64)
		st, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		total += ut + st
		found = true
	}
	return time.Duration(total) * time.Second / clockTicks, found
}

// engineMeter measures what a benchmark costs on the database's side, per
// operation: on PostgreSQL the CPU of the store's backends (pg-cpu-ns/op,
// a separate process the Go process's cpu-ns/op does not include) and,
// for writes, the WAL the whole server generated (wal-KiB/op, read from
// pg_current_wal_lsn: other databases' writes in the same period count
// too); on SQLite the storage writes of this process (write-KiB/op,
// writes/op: reportStorageWrites).
type engineMeter struct {
	store           benchStore
	writes          bool
	pgCPU           time.Duration
	pgCPUOK         bool
	wal             string
	bytes, syscalls int64
	conn            *pgx.Conn
}

// startEngineMeter takes the starting readings; writes asks for the write
// figures too.
func startEngineMeter(b *testing.B, store benchStore, writes bool) *engineMeter {
	b.Helper()
	m := &engineMeter{store: store, writes: writes}
	if !store.onPostgres() {
		if writes {
			m.bytes, m.syscalls = storageWrites(), writeCalls()
		}
		return m
	}
	if writes {
		m.conn = store.pgConn(b)
		if err := m.conn.QueryRow(context.Background(), "SELECT pg_current_wal_lsn()::text").Scan(&m.wal); err != nil {
			b.Fatal(err)
		}
	}
	m.pgCPU, m.pgCPUOK = pgBackendCPU(pgDatabase(store.url))
	return m
}

// report reports the figures per operation since the start.
func (m *engineMeter) report(b *testing.B) {
	b.Helper()
	if b.N == 0 {
		return
	}
	if !m.store.onPostgres() {
		if m.writes {
			reportStorageWrites(b, m.bytes, m.syscalls)
		}
		return
	}
	if end, ok := pgBackendCPU(pgDatabase(m.store.url)); ok && m.pgCPUOK {
		b.ReportMetric(float64(end-m.pgCPU)/float64(b.N), "pg-cpu-ns/op")
	}
	if m.writes {
		var n float64
		if err := m.conn.QueryRow(context.Background(), "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::float8", m.wal).Scan(&n); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(n/1024/float64(b.N), "wal-KiB/op")
	}
}
