// Package walbuffer provides an SQLite VFS that hands each commit's
// write-ahead-log frames to the operating system in one write instead of
// two per page.
//
// SQLite appends a page to its WAL as two writes, a 24-byte frame header and
// the page, so a commit that dirties 16 pages makes 32 write system calls
// before its fsync. On the virtual disks Anavara is benchmarked on, those
// calls cost as much as the fsync itself (BENCHMARKS.md). This VFS wraps
// SQLite's default one and keeps the frames of the WAL file in a buffer
// while they are contiguous, writing them out before any read of the file,
// any sync, truncate, size query or file control, and whenever a write does
// not continue them. The file's contents at each of those points are
// exactly what SQLite wrote, in the same order; only the number of system
// calls changes.
//
// Safety rests on one property of WAL mode with synchronous=FULL or EXTRA:
// a commit syncs the WAL before it publishes the new frames to other
// connections (in the shared-memory index), so no connection can look for
// a frame that is still in this buffer. With synchronous=NORMAL or OFF a
// commit publishes without syncing, so connections opened with those
// settings must not use this VFS; db.Open only uses it for FULL and EXTRA.
// A process that dies with frames in the buffer loses only a transaction
// that had not committed.
package walbuffer

/*
int anavara_walbuffer_register(void);
*/
import "C"

import (
	"fmt"

	// The VFS wraps the SQLite that mattn/go-sqlite3 compiles in.
	_ "github.com/mattn/go-sqlite3"
)

// Name is the VFS name to give SQLite, as vfs=Name in a connection's URI.
const Name = "anavara-walbuffer"

// Register makes the VFS known to SQLite. It registers once per process;
// later and concurrent calls return the first call's result.
func Register() error {
	if rc := C.anavara_walbuffer_register(); rc != 0 {
		return fmt.Errorf("register SQLite VFS %s: SQLite error %d", Name, int(rc))
	}
	return nil
}
