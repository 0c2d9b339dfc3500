package export_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/export"
)

func errorsIsNotFound(err error) bool { return errors.Is(err, db.ErrNotFound) }

// A directory sink writes into a new or empty directory only, names a
// file only once it is whole, and takes back everything on Abort.
func TestDirSink(t *testing.T) {
	parent := t.TempDir()
	full := filepath.Join(parent, "full")
	must(t, os.Mkdir(full, 0o700))
	must(t, os.WriteFile(filepath.Join(full, "x"), nil, 0o600))
	if _, err := export.NewDirSink(full); err == nil {
		t.Fatal("a non-empty directory was accepted")
	}
	empty := filepath.Join(parent, "empty")
	must(t, os.Mkdir(empty, 0o700))
	if _, err := export.NewDirSink(empty); err != nil {
		t.Fatalf("an empty directory: %v", err)
	}

	dir := filepath.Join(parent, "new")
	sink, err := export.NewDirSink(dir)
	must(t, err)
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("directory %v, %v; want mode 0700", info, err)
	}
	if _, err := sink.Create("../escape"); err == nil {
		t.Fatal("a name outside the directory was accepted")
	}
	w, err := sink.Create("a.ndjson")
	must(t, err)
	io.WriteString(w, "{}\n")
	if _, err := os.Stat(filepath.Join(dir, "a.ndjson")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an unfinished file has its name: %v", err)
	}
	must(t, w.Close())
	if data, err := os.ReadFile(filepath.Join(dir, "a.ndjson")); err != nil || string(data) != "{}\n" {
		t.Fatalf("finished file %q, %v", data, err)
	}
	w, err = sink.Create("b.ndjson")
	must(t, err)
	io.WriteString(w, "{")
	sink.Abort()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after Abort the directory remains: %v", err)
	}
}
