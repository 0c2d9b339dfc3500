package sqlite_test

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/mattn/go-sqlite3"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
)

// TestClassify maps the errors SQLite and the system return to the causes
// /healthz names. A read-only database while running cannot be produced
// here (Linux refuses to remount a file system read-only while the
// database has files open for writing), so this is where SQLITE_READONLY
// and EROFS are held to "database is read-only".
func TestClassify(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want db.Cause
	}{
		{"read-only database", sqlite3.Error{Code: sqlite3.ErrReadonly}, db.CauseReadOnly},
		{"read-only file system under an I/O error", sqlite3.Error{Code: sqlite3.ErrIoErr, SystemErrno: syscall.EROFS}, db.CauseReadOnly},
		{"EROFS from the OS", fmt.Errorf("open: %w", syscall.EROFS), db.CauseReadOnly},
		{"full database", sqlite3.Error{Code: sqlite3.ErrFull}, db.CauseDiskFull},
		{"no space under an I/O error", sqlite3.Error{Code: sqlite3.ErrIoErr, SystemErrno: syscall.ENOSPC}, db.CauseDiskFull},
		{"ENOSPC from the OS", fmt.Errorf("write: %w", syscall.ENOSPC), db.CauseDiskFull},
		{"corrupt", fmt.Errorf("query: %w", sqlite3.Error{Code: sqlite3.ErrCorrupt}), db.CauseCorrupt},
		{"not a database", sqlite3.Error{Code: sqlite3.ErrNotADB}, db.CauseCorrupt},
		{"other I/O error", sqlite3.Error{Code: sqlite3.ErrIoErr, SystemErrno: syscall.EIO}, db.CauseIOError},
		{"busy says nothing", sqlite3.Error{Code: sqlite3.ErrBusy}, db.Healthy},
		{"constraint says nothing", sqlite3.Error{Code: sqlite3.ErrConstraint}, db.Healthy},
		{"not found says nothing", db.ErrNotFound, db.Healthy},
		{"other errors say nothing", errors.New("boom"), db.Healthy},
	} {
		if got := sqlite.Classify(c.err); got != c.want {
			t.Errorf("%s: Classify = %q, want %q", c.name, got, c.want)
		}
	}
}
