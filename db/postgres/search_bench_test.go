package postgres_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/dbtest"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/postgres/pgtest"
	"github.com/anavara/anavara/model"
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

// BenchmarkSearch1MUnderWrites measures two searches over the million
// records of BenchmarkSearch1M while a writer creates 200 records a
// second, each in a transaction it rolls back (the database keeps its
// million; GIN has queued each record's entries all the same), with the
// search index's pending list at migration 13's 128 kB and at the server's
// default 4 MB: every search reads the whole list until a write finds it
// full and merges it. It needs the seeded database of
// ANAVARA_SEARCH_BENCH_POSTGRES, and sets the index's limit back to 128 kB.
//
//	ANAVARA_TEST_DATABASE=… ANAVARA_SEARCH_BENCH_POSTGRES=… go test -run '^$' -bench Search1MUnderWrites -benchtime=2000x ./db/postgres/
func BenchmarkSearch1MUnderWrites(b *testing.B) {
	url := os.Getenv(searchBenchPostgresEnv)
	if url == "" {
		b.Skip(searchBenchPostgresEnv + " names no seeded database")
	}
	ctx := b.Context()
	s, err := postgres.Open(ctx, postgres.Options{URL: url})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	setLimit := func(kB int) {
		if _, err := conn.Exec(context.Background(), `ALTER INDEX medical_records_search SET (gin_pending_list_limit = `+strconv.Itoa(kB)+`)`); err != nil {
			b.Fatal(err)
		}
	}
	defer setLimit(128)
	errRollBack := errors.New("roll back")
	for _, limit := range []int{128, 4096} {
		for _, search := range []string{"okafor asthma", "xylophone"} {
			b.Run("pending="+strconv.Itoa(limit)+"kB/search="+search, func(b *testing.B) {
				setLimit(limit)
				dbtest.BenchSearchUnderWrites(b, s, search, func(r model.MedicalRecord) error {
					err := s.Write(context.Background(), func(tx db.Tx) error {
						if err := tx.CreateRecord(context.Background(), r); err != nil {
							return err
						}
						return errRollBack
					})
					if errors.Is(err, errRollBack) {
						return nil
					}
					return err
				})
			})
		}
	}
}
