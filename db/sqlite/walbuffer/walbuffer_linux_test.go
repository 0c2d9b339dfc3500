package walbuffer_test

import (
	"path/filepath"
	"testing"

	"github.com/anavara/anavara/internal/testenv"
)

// The point of the package: a commit of many pages reaches the WAL in one
// write, where SQLite alone makes two per page.
func TestCommitWritesItsFramesOnce(t *testing.T) {
	writes := map[bool]int64{}
	for _, buffered := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "count.db")
		d := openDB(t, path, buffered, "")
		// Nothing but this connection's commits writes during the count.
		exec1(t, d, "PRAGMA wal_autocheckpoint=0")
		exec1(t, d, "CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
		exec1(t, d, "INSERT INTO t VALUES (0, x'00')")
		before := testenv.WriteCalls(t)
		// About 20 pages: 10 rows of 8 KB, each spread over two pages.
		exec1(t, d, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) INSERT INTO t (id, body) SELECT i, randomblob(8000) FROM n")
		writes[buffered] = testenv.WriteCalls(t) - before
	}
	if writes[false] < 40 {
		t.Fatalf("SQLite alone made %d writes for about 20 pages; the test no longer measures what it should", writes[false])
	}
	if writes[true] > 1 {
		t.Fatalf("buffered commit made %d writes, want 1 (unbuffered: %d)", writes[true], writes[false])
	}
}
