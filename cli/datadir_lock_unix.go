//go:build unix

package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// serveLockFile is the file in the data directory that a running serve
// holds an exclusive flock on, and writes its pid into.
const serveLockFile = "serve.lock"

// lockDataDir makes this process the one `anavara serve` of dir, failing
// at once, with the holder's pid, when another serve holds it: two servers
// on one database would each keep their own rate limits and caches. The
// lock is the kernel's (flock), so it goes away with the process however
// that ends, and a crashed serve never blocks a restart. Other commands
// (createsuperuser, migrate, backup) do not take it: they share the
// database with a running server through SQLite's own locks. release
// drops the lock; the file stays, since removing it could race with a
// serve that has just opened it.
func lockDataDir(dir string) (release func(), err error) {
	path := filepath.Join(dir, serveLockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		holder := lockHolder(f)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("data directory %s is in use by another anavara serve (pid %s): stop that one first, or give this one another --data-dir", dir, holder)
		}
		return nil, fmt.Errorf("lock data directory %s: %w", dir, err)
	}
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt(pid, 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock data directory: write %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// lockHolder reads the pid the holder of the lock file f wrote into it,
// or "unknown" if it has not written one yet.
func lockHolder(f *os.File) string {
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 32))
	if err != nil {
		return "unknown"
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pid > 0 {
		return strconv.Itoa(pid)
	}
	return "unknown"
}
