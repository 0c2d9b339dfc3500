package dbtest_test

// TEMPORARY: adapts *db.DB to db.Store until db/sqlite lands; deleted then.

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/dbtest"
)

type sqliteStore struct{ *db.DB }

func (s sqliteStore) Read() db.Reader { return s.DB.Read() }
func (s sqliteStore) Write(ctx context.Context, fn func(db.Tx) error) error {
	return s.DB.Write(ctx, func(q *db.Queries) error { return fn(q) })
}
func (s sqliteStore) Engine() string { return "sqlite" }
func (s sqliteStore) Pools() []db.PoolStats {
	w, r := s.DB.Stats()
	return []db.PoolStats{
		{Name: "writer", Open: w.OpenConnections, InUse: w.InUse, Idle: w.Idle, MaxOpen: w.MaxOpenConnections},
		{Name: "reader", Open: r.OpenConnections, InUse: r.InUse, Idle: r.Idle, MaxOpen: r.MaxOpenConnections},
	}
}

func TestSQLite(t *testing.T) {
	dbtest.Run(t, func(t *testing.T) db.Store {
		d, err := db.Open(context.Background(), db.Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return sqliteStore{d}
	})
}
