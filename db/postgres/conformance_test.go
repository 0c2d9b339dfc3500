package postgres_test

import (
	"testing"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/dbtest"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/postgres/pgtest"
)

// TestConformance holds the PostgreSQL engine to the storage contract
// every engine shares (package dbtest). Without ANAVARA_TEST_DATABASE its
// subtests skip.
func TestConformance(t *testing.T) {
	dbtest.Run(t, func(t *testing.T) db.Store {
		s, err := postgres.Open(t.Context(), postgres.Options{URL: pgtest.URL(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
