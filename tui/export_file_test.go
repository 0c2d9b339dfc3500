package tui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// The export's file is the user's alone, complete or absent, and an
// existing file is replaced only when asked.
func TestWriteExport(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "export.ndjson")
	data := "{\"resourceType\":\"Patient\"}\n{\"resourceType\":\"Condition\"}\n"

	w, err := writeExport(path, strings.NewReader(data), false)
	if err != nil {
		t.Fatal(err)
	}
	if w.path != path || w.bytes != int64(len(data)) || w.lines != 2 {
		t.Fatalf("written %+v", w)
	}
	assertFile(t, path, data)

	// Not replacing: the file stays as it was, and nothing is left over.
	_, err = writeExport(path, strings.NewReader("new\n"), false)
	var fe *exportFileError
	if !errors.As(err, &fe) || !errors.Is(err, errExportExists) || !strings.Contains(fe.text(), "export again to replace it") {
		t.Fatalf("writing over a file without replace: %v", err)
	}
	assertFile(t, path, data)
	assertOnly(t, dir, "export.ndjson")

	// Replacing a file someone made readable by all: the new one is 0600.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	w, err = writeExport(path, strings.NewReader("a,b\nc,d"), true)
	if err != nil {
		t.Fatal(err)
	}
	if w.lines != 2 || w.bytes != 7 {
		t.Fatalf("a last line without a newline counts too: %+v", w)
	}
	assertFile(t, path, "a,b\nc,d")

	// A stream that breaks off leaves no file and no temporary one.
	broken := filepath.Join(dir, "broken.ndjson")
	_, err = writeExport(broken, iotest.TimeoutReader(strings.NewReader(strings.Repeat("x", 10))), false)
	if err == nil || errors.As(err, &fe) {
		t.Fatalf("a broken stream: %v, want a read error", err)
	}
	if _, err := os.Stat(broken); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a broken stream left a file: %v", err)
	}
	assertOnly(t, dir, "export.ndjson")

	// A folder the user may not write to.
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		_, err = writeExport(filepath.Join(ro, "x.ndjson"), strings.NewReader("x"), false)
		if !errors.As(err, &fe) || !strings.Contains(fe.text(), "permission denied") {
			t.Fatalf("a read-only folder: %v", err)
		}
	}
}

func TestExportTarget(t *testing.T) {
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "taken.csv"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		typed, want string
		exists      bool
		problem     string
	}{
		{"~/out.ndjson", filepath.Join(home, "out.ndjson"), false, ""},
		{"  " + filepath.Join(home, "out.csv") + " ", filepath.Join(home, "out.csv"), false, ""},
		{"~/taken.csv", filepath.Join(home, "taken.csv"), true, ""},
		{"", "", false, "Type a path"},
		{"~", "", false, "That is a folder"},
		{home, "", false, "That is a folder"},
		{"~/nowhere/out.csv", "", false, "does not exist"},
	} {
		got, exists, problem := exportTarget(tc.typed, home)
		if got != tc.want || exists != tc.exists || (tc.problem == "") != (problem == "") || !strings.Contains(problem, tc.problem) {
			t.Errorf("exportTarget(%q) = %q, %v, %q; want %q, %v, %q", tc.typed, got, exists, problem, tc.want, tc.exists, tc.problem)
		}
	}
	if _, _, problem := exportTarget("~/x", ""); !strings.Contains(problem, "No home folder") {
		t.Errorf("~ without a home: %q", problem)
	}
}

// assertFile fails unless path holds want with mode 0600.
func assertFile(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s holds %q, want %q", path, got, want)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
}

// assertOnly fails unless dir holds exactly the names (and folders).
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if !e.IsDir() {
			got = append(got, e.Name())
		}
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("%s holds %v, want %v", dir, got, names)
	}
}
