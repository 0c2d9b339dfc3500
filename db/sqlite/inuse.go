package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// sqliteShmDeadmanByte is the byte of a database's -shm file on which every
// SQLite connection using the write-ahead log holds a shared POSIX lock for
// as long as it is open (UNIX_SHM_DMS in SQLite's os_unix.c:
// (22+SQLITE_SHM_NLOCK)*4 + SQLITE_SHM_NLOCK with SQLITE_SHM_NLOCK = 8).
const sqliteShmDeadmanByte = 128

// InUse reports whether some connection, in this process or another, has
// the database at path open: a running `anavara serve`, a migration, a
// backup. It asks whether a write lock could be taken on the deadman byte of
// path's -shm file, which SQLite itself uses to tell whether it is the only
// user of the write-ahead log; no lock is taken. A missing -shm file means
// nobody has the database open.
//
// On Linux, open-file-description locks make the check see this process's
// own connections too; on other Unix systems it sees only other processes,
// and elsewhere it always answers false.
func InUse(path string) (bool, error) {
	shm := path + "-shm"
	f, err := os.Open(shm)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check %s: %w", shm, err)
	}
	defer f.Close()
	locked, err := deadmanLocked(f)
	if err != nil {
		return false, fmt.Errorf("check %s: %w", shm, err)
	}
	return locked, nil
}
