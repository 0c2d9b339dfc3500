//go:build unix && !linux

package db

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// shmLocked reports whether another process holds a lock on the deadman
// byte of the -shm file at shm. POSIX locks never conflict within one
// process, so this process's own connections are not seen.
func shmLocked(shm string) (bool, error) {
	f, err := os.Open(shm)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check %s: %w", shm, err)
	}
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: sqliteShmDeadmanByte, Len: 1}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err != nil {
		return false, fmt.Errorf("check %s: %w", shm, err)
	}
	return lk.Type != syscall.F_UNLCK, nil
}
