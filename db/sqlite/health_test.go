package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
)

// damagePage overwrites page n (1-based, 4 KiB pages) of the database file
// at path with garbage.
func damagePage(t *testing.T, path string, n int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte(strings.Repeat("\xa5", 4096)), (n-1)*4096); err != nil {
		t.Fatal(err)
	}
}

// Page 2 holds goose's version table: damaged, it used to fail with "table
// goose_db_version already exists", which sends an operator the wrong way.
func TestOpenNamesCorruption(t *testing.T) {
	path := filepath.Join(t.TempDir(), "anavara.db")
	d := open(t, sqlite.Options{Path: path})
	newUser(t, d, "ann@example.org")
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	damagePage(t, path, 2)
	_, err := sqlite.Open(context.Background(), sqlite.Options{Path: path})
	if err == nil || !strings.Contains(err.Error(), "is corrupt: restore it from a backup") {
		t.Fatalf("open of a damaged database: %v; want it named corrupt", err)
	}
}

// A read-only file system used to fail with "unable to open database file:
// no such file or directory".
func TestOpenNamesReadOnlyFileSystem(t *testing.T) {
	dir := testenv.Tmpfs(t, "4m")
	path := filepath.Join(dir, "anavara.db")
	d, err := sqlite.Open(context.Background(), sqlite.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	os.Remove(path + "-shm") // as after a clean shutdown elsewhere
	os.Remove(path + "-wal")
	testenv.RemountReadOnly(t, dir)
	_, err = sqlite.Open(context.Background(), sqlite.Options{Path: path})
	if err == nil || !strings.Contains(err.Error(), "the file system is read-only") {
		t.Fatalf("open on a read-only file system: %v; want it named read-only", err)
	}
}

func heartbeats(t *testing.T, path string) int {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRow("SELECT beats FROM health_heartbeat").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestHealthOK(t *testing.T) {
	d := open(t, sqlite.Options{})
	if h := d.Health(); h.Cause != db.Healthy {
		t.Fatalf("health of a fresh database: %v (%v)", h.Cause, h.Err)
	}
}

// Load balancers poll often: polls within one interval share one check,
// and a check writes only when nothing else has.
func TestHealthPollsDoNotEachWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "anavara.db")
	d := open(t, sqlite.Options{Path: path, HealthInterval: time.Hour})
	for range 100 {
		if h := d.Health(); h.Cause != db.Healthy {
			t.Fatalf("health: %v (%v)", h.Cause, h.Err)
		}
	}
	if n := heartbeats(t, path); n != 1 {
		t.Fatalf("100 polls wrote %d heartbeats, want 1", n)
	}
}

func TestHealthReportsDiskFull(t *testing.T) {
	dir := testenv.Tmpfs(t, "2m")
	path := filepath.Join(dir, "anavara.db")
	d := open(t, sqlite.Options{Path: path, HealthInterval: time.Millisecond})
	newUser(t, d, "ann@example.org")
	free := testenv.FillDisk(t, filepath.Join(dir, "filler"))
	// A write that needs room fails, as requests' writes would.
	big := strings.Repeat("x", 64<<10)
	err := d.Write(context.Background(), func(q db.Tx) error {
		u := newUserRow("bo@example.org")
		u.PasswordHash = big
		return q.CreateUser(context.Background(), u)
	})
	if err == nil {
		t.Fatal("a 64 KiB write on a full disk succeeded")
	}
	time.Sleep(2 * time.Millisecond)
	if h := d.Health(); h.Cause != db.CauseDiskFull || h.Cause.String() != "disk is full" {
		t.Fatalf("health on a full disk: %v (%v), want disk is full", h.Cause, h.Err)
	}
	// Room again: the next successful write makes it healthy.
	free()
	newUser(t, d, "cy@example.org")
	time.Sleep(2 * time.Millisecond)
	if h := d.Health(); h.Cause != db.Healthy {
		t.Fatalf("health after the disk was freed: %v (%v)", h.Cause, h.Err)
	}
}

// Corruption a real write meets is reported, and for good: SQLite does not
// repair a damaged file.
func TestHealthReportsCorruptionSeen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "anavara.db")
	d := open(t, sqlite.Options{Path: path, HealthInterval: time.Millisecond})
	newUser(t, d, "ann@example.org")
	// Everything into the main file, then damage the users table there.
	other, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var root int64
	if err := other.QueryRow("SELECT rootpage FROM sqlite_schema WHERE name = 'users'").Scan(&root); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	damagePage(t, path, root)
	// Another connection's commit makes the store's connections drop their
	// cached pages, as another process's would.
	if _, err := other.Exec("UPDATE health_heartbeat SET beats = beats + 1"); err != nil {
		t.Fatal(err)
	}
	err = d.Write(context.Background(), func(q db.Tx) error {
		return q.CreateUser(context.Background(), newUserRow("bo@example.org"))
	})
	if sqlite.Classify(err) != db.CauseCorrupt {
		t.Fatalf("write over a damaged table: %v, want SQLITE_CORRUPT", err)
	}
	for range 2 {
		time.Sleep(2 * time.Millisecond)
		if h := d.Health(); h.Cause != db.CauseCorrupt || h.Cause.String() != "database is corrupt" {
			t.Fatalf("health after corruption was seen: %v (%v), want database is corrupt", h.Cause, h.Err)
		}
	}
}
