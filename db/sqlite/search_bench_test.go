package sqlite

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/dbtest"
	"github.com/anavara/anavara/model"
)

// searchBenchDBEnv names a variable that, set to a file path, keeps the
// seeded million-record database there between runs (seeding takes a
// minute or two); unset, each run seeds a temporary one.
const searchBenchDBEnv = "ANAVARA_SEARCH_BENCH_DB"

// BenchmarkSearch1M measures the records search over 1,000,000 records
// (dbtest.BenchSearch).
//
//	go test -run '^$' -bench Search1M -benchtime=200x -timeout 30m ./db/sqlite/
func BenchmarkSearch1M(b *testing.B) {
	path := os.Getenv(searchBenchDBEnv)
	if path == "" {
		path = filepath.Join(b.TempDir(), "anavara.db")
	}
	_, err := os.Stat(path)
	seeded := err == nil
	s, err := Open(b.Context(), Options{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if !seeded {
		dbtest.SeedSearchBench(b, s, 1_000_000)
	}
	dbtest.BenchSearch(b, s)
}

// BenchmarkSearch1MUnderWrites measures three searches over the seeded
// million while 200 records a second are created and committed
// (dbtest.BenchSearchUnderWrites): every commit adds a segment to the
// search index, which the background merger (fts_merge.go) folds into
// larger ones, and a search reads every segment the index holds. Besides
// the latencies it reports the index's segments at the end (segments).
// The creates are committed, so it runs on a copy of the database that
// ANAVARA_SEARCH_BENCH_DB keeps, which it needs.
//
//	ANAVARA_SEARCH_BENCH_DB=… go test -run '^$' -bench Search1MUnderWrites -benchtime=2000x ./db/sqlite/
func BenchmarkSearch1MUnderWrites(b *testing.B) {
	seeded := os.Getenv(searchBenchDBEnv)
	if seeded == "" {
		b.Skip(searchBenchDBEnv + " names no seeded database")
	}
	for _, search := range []string{"okafor asthma", "okafor", "xylophone"} {
		b.Run("search="+search, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "anavara.db")
			copyFile(b, seeded, path)
			s, err := Open(b.Context(), Options{Path: path})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			dbtest.BenchSearchUnderWrites(b, s, search, func(r model.MedicalRecord) error {
				return s.Write(context.Background(), func(tx db.Tx) error { return tx.CreateRecord(context.Background(), r) })
			})
			var segments int
			if err := s.reader.QueryRow(`SELECT count(*) FROM record_search_segdir`).Scan(&segments); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(segments), "segments")
		})
	}
}

// copyFile copies the database file at from to to (its WAL must have been
// checkpointed, as Close does).
func copyFile(b *testing.B, from, to string) {
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}
