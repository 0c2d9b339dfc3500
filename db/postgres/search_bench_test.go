package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db/dbtest"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/postgres/pgtest"
)

// BenchmarkSearch1M measures the records search over 1,000,000 records
// (dbtest.BenchSearch) in a fresh database, seeded through the bulk load
// (COPY) and vacuumed, as a running database would be.
//
//	ANAVARA_TEST_DATABASE=… go test -run '^$' -bench Search1M -benchtime=200x -timeout 60m ./db/postgres/
func BenchmarkSearch1M(b *testing.B) {
	url := pgtest.URL(b)
	s, err := postgres.Open(b.Context(), postgres.Options{URL: url})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
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
	dbtest.BenchSearch(b, s)
}
