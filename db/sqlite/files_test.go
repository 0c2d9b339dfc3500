package sqlite_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/anavara/anavara/db/sqlite"
)

// The database, its write-ahead log and its shared-memory index hold
// medical records: whatever the umask allows, no one but the owner may
// read them.
func TestOpenCreatesPrivateFiles(t *testing.T) {
	// The most permissive umask, so only the modes the code asks for count.
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })
	path := filepath.Join(t.TempDir(), "anavara.db")
	d := open(t, sqlite.Options{Path: path})
	newUser(t, d, "ann@example.org") // a commit, so the WAL has frames
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(p), perm)
		}
	}
}
