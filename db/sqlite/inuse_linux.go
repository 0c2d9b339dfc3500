//go:build linux

package sqlite

import (
	"os"

	"golang.org/x/sys/unix"
)

// deadmanLocked reports whether any process holds a lock on the deadman
// byte of the open -shm file f. Open-file-description locks conflict with
// the classic POSIX locks SQLite takes even within one process.
func deadmanLocked(f *os.File) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: sqliteShmDeadmanByte, Len: 1}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, &lk); err != nil {
		return false, err
	}
	return lk.Type != unix.F_UNLCK, nil
}
