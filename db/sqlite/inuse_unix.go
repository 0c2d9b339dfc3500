//go:build unix && !linux

package sqlite

import (
	"os"
	"syscall"
)

// deadmanLocked reports whether another process holds a lock on the
// deadman byte of the open -shm file f. POSIX locks never conflict within
// one process, so this process's own connections are not seen.
func deadmanLocked(f *os.File) (bool, error) {
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: sqliteShmDeadmanByte, Len: 1}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err != nil {
		return false, err
	}
	return lk.Type != syscall.F_UNLCK, nil
}
