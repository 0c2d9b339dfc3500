package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/dbtest"
	"github.com/anavara/anavara/db/sqlite"
)

// TestConformance holds the SQLite engine to the storage contract every
// engine shares (package dbtest).
func TestConformance(t *testing.T) {
	dbtest.Run(t, func(t *testing.T) db.Store {
		s, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
