package sqlite

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/anavara/anavara/db/dbtest"
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
