//go:build unix

package sqlite

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// diskFull reports whether the file system holding dir has no block left
// that this process may use (root may use the blocks reserved for it).
func diskFull(dir string) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false, fmt.Errorf("statfs %s: %w", dir, err)
	}
	free := uint64(st.Bavail)
	if os.Geteuid() == 0 {
		free = uint64(st.Bfree)
	}
	return free == 0, nil
}

// checkWritable fails, naming the reason, when the database at path could
// not be written: its file system is mounted read-only, or its directory
// or the file refuses this process's writes. SQLite would otherwise fail
// with "unable to open database file: no such file or directory" (it
// cannot create the -shm file), or open the file read-only and fail only
// at the first write.
func checkWritable(path, dir string) error {
	for _, p := range []string{dir, path} {
		err := unix.Access(p, unix.W_OK)
		switch {
		case err == nil, err == unix.ENOENT && p == path:
			continue
		case err == unix.EROFS:
			return fmt.Errorf("open database %s: the file system is read-only (mounted read-only?): %w", path, err)
		case err == unix.EACCES || err == unix.EPERM:
			return fmt.Errorf("open database %s: %s is read-only for this user: %w", path, p, err)
		default:
			return fmt.Errorf("open database %s: %w", path, err)
		}
	}
	return nil
}
