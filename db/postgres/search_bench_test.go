package postgres_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/dbtest"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/postgres/pgtest"
)

// searchBenchPostgresEnv names a variable that, set to a URL, keeps the
// seeded million-record database there between runs (seeding and
// vacuuming take several minutes): the database, created beforehand, is
// seeded when it holds no record and used as it is otherwise. Unset, each
// run seeds a fresh database of ANAVARA_TEST_DATABASE's server.
const searchBenchPostgresEnv = "ANAVARA_SEARCH_BENCH_POSTGRES"

// BenchmarkSearch1M measures the records search over 1,000,000 records
// (dbtest.BenchSearch), seeded through the bulk load (COPY) and vacuumed,
// as a running database would be.
//
//	ANAVARA_TEST_DATABASE=… go test -run '^$' -bench Search1M -benchtime=200x -timeout 60m ./db/postgres/
//	ANAVARA_TEST_DATABASE=… ANAVARA_SEARCH_BENCH_POSTGRES=… go test -run '^$' -bench Search1M -benchtime=200x -timeout 60m ./db/postgres/
func BenchmarkSearch1M(b *testing.B) {
	url := os.Getenv(searchBenchPostgresEnv)
	if url == "" {
		url = pgtest.URL(b)
	}
	s, err := postgres.Open(b.Context(), postgres.Options{URL: url})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	_, records, err := s.Read().ListRecords(b.Context(), db.RecordFilter{Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	if records == 0 {
		seedSearchBench(b, s, url)
	} else if records != 1_000_000 {
		b.Fatalf("the database holds %d records, want none or 1,000,000", records)
	}
	dbtest.BenchSearch(b, s)
}

// seedSearchBench seeds the benchmark's records into s, the database at
// url, and vacuums it.
func seedSearchBench(b *testing.B, s *postgres.Store, url string) {
	dbtest.SeedSearchBench(b, s, 1_000_000)
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	_, err = conn.Exec(context.Background(), "VACUUM (ANALYZE)")
	conn.Close(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("VACUUM (ANALYZE) in %s", time.Since(start).Round(time.Millisecond))
}
