package testenv

import (
	"context"
	"database/sql"
	"sync"
	"testing"
)

// HoldWriteLock takes the write lock of the SQLite database at path on a
// connection of its own, as another process's write in progress would, and
// returns the function that releases it (also run when the test ends).
func HoldWriteLock(tb testing.TB, path string) (release func()) {
	tb.Helper()
	ctx := context.Background()
	conn, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := conn.Conn(ctx)
	if err != nil {
		conn.Close()
		tb.Fatal(err)
	}
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		c.Close()
		conn.Close()
		tb.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if _, err := c.ExecContext(ctx, "ROLLBACK"); err != nil {
				tb.Error(err)
			}
			c.Close()
			conn.Close()
		})
	}
	tb.Cleanup(release)
	return release
}
