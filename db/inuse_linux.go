//go:build linux

package db

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// shmLocked reports whether any process holds a lock on the deadman byte of
// the -shm file at shm. Open-file-description locks conflict with the
// classic POSIX locks SQLite takes even within one process.
func shmLocked(shm string) (bool, error) {
	f, err := os.Open(shm)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check %s: %w", shm, err)
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: sqliteShmDeadmanByte, Len: 1}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, &lk); err != nil {
		return false, fmt.Errorf("check %s: %w", shm, err)
	}
	return lk.Type != unix.F_UNLCK, nil
}
