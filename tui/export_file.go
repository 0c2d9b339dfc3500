package tui

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// An export holds medical records, so the file it is written to is the
// user's alone (mode 0600) and appears complete or not at all: it is
// written under a temporary name in the same folder and then moved into
// place. An existing file is replaced only when the user said so.

// exportWritten is a finished export: where, and how much.
type exportWritten struct {
	path  string
	bytes int64
	lines int64
}

// errExportExists is a file that appeared at the export's path after the
// user confirmed writing there without replacing anything.
var errExportExists = errors.New("the file exists")

// exportFileError is a failure to write the export's file (as opposed to
// one of fetching it from the server).
type exportFileError struct {
	path string
	err  error
}

func (e *exportFileError) Error() string { return "write " + e.path + ": " + e.err.Error() }
func (e *exportFileError) Unwrap() error { return e.err }

// text says what went wrong for the status line.
func (e *exportFileError) text() string {
	reason := "could not be written"
	switch {
	case errors.Is(e.err, errExportExists):
		return clean(e.path) + " was created meanwhile: export again to replace it."
	case errors.Is(e.err, fs.ErrPermission):
		reason = "permission denied"
	case errors.Is(e.err, syscall.ENOSPC):
		reason = "the disk is full"
	case errors.Is(e.err, fs.ErrNotExist):
		reason = "the folder does not exist"
	}
	return "Could not write " + clean(e.path) + ": " + reason + "."
}

// exportTarget turns the path the user typed into an absolute one: a
// leading ~ is home. problem is a sentence for the form when the path is
// empty, names a folder, or lies in a folder that does not exist; exists
// reports a file already there.
func exportTarget(typed, home string) (path string, exists bool, problem string) {
	p := strings.TrimSpace(typed)
	switch {
	case p == "":
		return "", false, "Where should the file go? Type a path."
	case p == "~" || strings.HasPrefix(p, "~/"):
		if home == "" {
			return "", false, "No home folder is known here: type the full path."
		}
		p = filepath.Join(home, strings.TrimPrefix(p[1:], "/"))
	}
	p, err := filepath.Abs(p)
	if err != nil {
		return "", false, "Cannot tell where that is: type the full path."
	}
	if dir, err := os.Stat(filepath.Dir(p)); err != nil || !dir.IsDir() {
		return "", false, "The folder " + clean(filepath.Dir(p)) + " does not exist."
	}
	fi, err := os.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return p, false, ""
	case err != nil:
		return "", false, "Cannot check " + clean(p) + ": choose another path."
	case fi.IsDir():
		return "", false, "That is a folder: add a file name."
	}
	return p, true, ""
}

// writeExport copies r into a new file at path (see above) and counts its
// bytes and lines. Without replace, a file that exists at path by the end
// is left alone and the answer is errExportExists.
func writeExport(path string, r io.Reader, replace bool) (exportWritten, error) {
	done := exportWritten{path: path}
	fail := func(err error) (exportWritten, error) { return done, &exportFileError{path: path, err: err} }
	// CreateTemp makes the file 0600, before any byte is in it.
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.part")
	if err != nil {
		return fail(err)
	}
	keep := false
	defer func() {
		if !keep {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	cw := &countingWriter{w: tmp}
	if _, err := io.Copy(cw, r); err != nil {
		// A read error is the server's or the network's, reported as such.
		if cw.err != nil {
			return fail(cw.err)
		}
		return done, fmt.Errorf("export: %w", err)
	}
	done.bytes, done.lines = cw.n, cw.lines
	if cw.n > 0 && !cw.endsInNewline {
		done.lines++
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := place(tmp.Name(), path, replace); err != nil {
		return fail(err)
	}
	keep = true
	syncDir(filepath.Dir(path))
	return done, nil
}

// place moves the finished file tmp to path. Without replace it links it
// there, which fails when the path is taken however it got taken, then
// drops the temporary name; a file system without hard links gets a check
// and a rename instead.
func place(tmp, path string, replace bool) error {
	if replace {
		return os.Rename(tmp, path)
	}
	err := os.Link(tmp, path)
	switch {
	case err == nil:
		return os.Remove(tmp)
	case errors.Is(err, fs.ErrExist):
		return errExportExists
	}
	if _, err := os.Lstat(path); err == nil {
		return errExportExists
	}
	return os.Rename(tmp, path)
}

// syncDir flushes a folder's entries, so the new name survives a crash;
// best effort, since the file's own content is already on disk.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// countingWriter counts what passes through it and keeps its own error
// apart from the reader's.
type countingWriter struct {
	w             io.Writer
	n             int64
	lines         int64
	endsInNewline bool
	err           error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.lines += int64(bytes.Count(p[:n], []byte{'\n'}))
	if n > 0 {
		c.endsInNewline = p[n-1] == '\n'
	}
	if err != nil {
		c.err = err
	}
	return n, err
}
