package walbuffer_test

import (
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkCommit makes the same commit, shaped like a record create (a row
// in a table with seven indexes and one in a table with three, about 14
// pages), on two databases in turn: one written through the buffering VFS
// and one through SQLite's own. Alternating each iteration puts both under
// the same disk, whose fsync latency drifts by 2× within minutes on the
// benchmark machine. It reports each one's time per commit.
func BenchmarkCommit(b *testing.B) {
	type side struct {
		exec    func(args ...any)
		elapsed time.Duration
	}
	var sides [2]*side
	for i, buffered := range []bool{true, false} {
		d := openDB(b, filepath.Join(b.TempDir(), "bench.db"), buffered, "")
		for _, q := range []string{
			"CREATE TABLE r (id TEXT PRIMARY KEY, a BLOB, b BLOB, c BLOB, d BLOB, e BLOB, f BLOB, body TEXT)",
			"CREATE INDEX r_a ON r (a)", "CREATE INDEX r_b ON r (b)", "CREATE INDEX r_c ON r (c)",
			"CREATE INDEX r_d ON r (d)", "CREATE INDEX r_e ON r (e)", "CREATE INDEX r_f ON r (f)",
			"CREATE TABLE ev (at INTEGER, id TEXT, x BLOB, y BLOB, z BLOB, PRIMARY KEY (at, id)) WITHOUT ROWID",
			"CREATE INDEX ev_x ON ev (x)", "CREATE INDEX ev_y ON ev (y)", "CREATE INDEX ev_z ON ev (z)",
		} {
			exec1(b, d, q)
		}
		s := &side{}
		s.exec = func(args ...any) {
			tx, err := d.Begin()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tx.Exec("INSERT INTO r VALUES (?, ?, ?, ?, ?, ?, ?, ?)", args[:8]...); err != nil {
				b.Fatal(err)
			}
			if _, err := tx.Exec("INSERT INTO ev VALUES (?, ?, ?, ?, ?)", args[8], args[0], args[1], args[2], args[3]); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		sides[i] = s
	}
	key := func() []byte { k := make([]byte, 16); rand.Read(k); return k }
	body := string(make([]byte, 300))
	var at int64
	for b.Loop() {
		for _, s := range sides {
			at++
			args := []any{string(key()), key(), key(), key(), key(), key(), key(), body, at}
			start := time.Now()
			s.exec(args...)
			s.elapsed += time.Since(start)
		}
	}
	b.ReportMetric(float64(sides[0].elapsed.Nanoseconds())/float64(b.N), "buffered-ns/commit")
	b.ReportMetric(float64(sides[1].elapsed.Nanoseconds())/float64(b.N), "sqlite-ns/commit")
	b.ReportMetric(0, "ns/op")
}
