package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anavara/anavara/db/sqlite"
)

// backupOf writes a backup of a fresh database holding one user and
// returns its path.
func backupOf(t *testing.T) string {
	t.Helper()
	d := open(t, sqlite.Options{})
	newUser(t, d, "inspect@example.org")
	out := filepath.Join(t.TempDir(), "copy.db")
	if err := d.Backup(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	return out
}

// execOn runs statements on the file at path through a plain connection.
func execOn(t *testing.T, path string, stmts ...string) {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range stmts {
		if _, err := conn.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestInspectAcceptsABackup(t *testing.T) {
	path := backupOf(t)
	info, err := sqlite.Inspect(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	latest, err := sqlite.LatestVersion()
	if err != nil {
		t.Fatal(err)
	}
	if latest < 2 || info.SchemaVersion != latest || info.LatestVersion != latest {
		t.Fatalf("info %+v, latest %d: want both at the latest (≥ 2)", info, latest)
	}
	// Inspecting leaves nothing behind.
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if _, err := os.Stat(path + suffix); err == nil {
			t.Errorf("Inspect left %s%s", path, suffix)
		}
	}
}

func TestInspectRejectsWhatIsNotAnAnavaraDatabase(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("not a database at all, just some text that is long enough"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.db")
	execOn(t, empty, "CREATE TABLE t (x)")
	noVersions := backupOf(t)
	execOn(t, noVersions, "DELETE FROM goose_db_version")
	newer := backupOf(t)
	execOn(t, newer, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, 1)")
	orphan := backupOf(t)
	execOn(t, orphan, "PRAGMA foreign_keys = OFF",
		`INSERT INTO medical_records (id, user_id, patient_name, date_of_birth, date_of_treatment, doctor, created, updated)
		 VALUES ('r1', 'nobody', 'P', '1990-01-01', '2030-01-01', 'D', 0, 0)`)
	damaged := backupOf(t)
	corruptPages(t, damaged)
	withWAL := backupOf(t)
	if err := os.WriteFile(withWAL+"-wal", []byte("frames"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, path, want string
		notAnavara       bool
	}{
		{"text file", text, "not a SQLite database", true},
		{"other SQLite database", empty, "has no goose_db_version table", true},
		{"no applied migrations", noVersions, "no migration was ever applied", true},
		{"newer schema", newer, "newer than this anavara knows", false},
		{"broken foreign keys", orphan, "break foreign keys", true},
		{"damaged pages", damaged, "", true},
		{"log beside it", withWAL, "write-ahead log", true},
		{"missing file", filepath.Join(dir, "nope.db"), "no such file", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sqlite.Inspect(context.Background(), tc.path)
			if err == nil {
				t.Fatal("Inspect accepted it")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
			if got := errors.Is(err, sqlite.ErrNotAnavaraDatabase); got != tc.notAnavara {
				t.Errorf("errors.Is(err, ErrNotAnavaraDatabase) = %v, want %v (%v)", got, tc.notAnavara, err)
			}
		})
	}
}

// corruptPages overwrites the middle of every page after the first, where
// b-tree cells live, leaving the header intact.
func corruptPages(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	if len(data) < 3*page {
		t.Fatalf("backup is only %d bytes", len(data))
	}
	for off := page; off+page <= len(data); off += page {
		for i := off + 8; i < off+64; i++ {
			data[i] = 0xA5
		}
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestInUseSeesOpenConnections(t *testing.T) {
	path := filepath.Join(t.TempDir(), "anavara.db")
	if busy, err := sqlite.InUse(path); err != nil || busy {
		t.Fatalf("before the database exists: InUse = %v, %v; want false", busy, err)
	}
	d, err := sqlite.Open(context.Background(), sqlite.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	busy, err := sqlite.InUse(path)
	if err != nil || !busy {
		d.Close()
		t.Fatalf("while open: InUse = %v, %v; want true", busy, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if busy, err := sqlite.InUse(path); err != nil || busy {
		t.Fatalf("after Close: InUse = %v, %v; want false", busy, err)
	}
}
