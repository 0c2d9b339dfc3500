package export

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// DirSink writes an export's files into a directory of their own. Each
// file is written under a temporary name and renamed once complete and on
// disk, so a name in the directory is always a whole file; manifest.json,
// written last, marks a whole export.
type DirSink struct {
	dir     string
	made    bool
	created []string
	// writing are the files being written, under their temporary names.
	writing map[string]bool
}

// NewDirSink makes dir (mode 0700: an export holds medical records) or
// takes it if it exists and is empty; anything else is an error, so an
// export never mixes with or overwrites other files.
func NewDirSink(dir string) (*DirSink, error) {
	s := &DirSink{dir: dir, writing: map[string]bool{}}
	err := os.Mkdir(dir, 0o700)
	switch {
	case err == nil:
		s.made = true
	case errors.Is(err, fs.ErrExist):
		entries, rerr := os.ReadDir(dir)
		if rerr != nil {
			return nil, fmt.Errorf("export directory: %w", rerr)
		}
		if len(entries) > 0 {
			return nil, fmt.Errorf("export directory %s is not empty: an export is written to a new or empty directory", dir)
		}
	default:
		return nil, fmt.Errorf("export directory: %w", err)
	}
	return s, nil
}

// Together is DirSink's mark as a TogetherSink.
func (s *DirSink) Together() {}

// Create starts file name, readable by its owner only.
func (s *DirSink) Create(name string) (io.WriteCloser, error) {
	if name != filepath.Base(name) || name == "." || name == ".." {
		return nil, fmt.Errorf("export file name %q", name)
	}
	temp := filepath.Join(s.dir, "."+name+".partial")
	f, err := os.OpenFile(temp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", name, err)
	}
	s.writing[temp] = true
	return &dirFile{sink: s, f: f, temp: temp, final: filepath.Join(s.dir, name)}, nil
}

// Abort removes what the sink wrote: the file being written, the files
// finished, and the directory if the sink made it.
func (s *DirSink) Abort() {
	for p := range s.writing {
		os.Remove(p)
	}
	for _, p := range s.created {
		os.Remove(p)
	}
	if s.made {
		os.Remove(s.dir)
	}
}

// Finish makes the renames of the finished files durable.
func (s *DirSink) Finish() error {
	d, err := os.Open(s.dir)
	if err != nil {
		return fmt.Errorf("export directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("export directory: %w", err)
	}
	return nil
}

// dirFile is one file of a DirSink being written.
type dirFile struct {
	sink  *DirSink
	f     *os.File
	temp  string
	final string
}

func (d *dirFile) Write(p []byte) (int, error) { return d.f.Write(p) }

// Close makes the file durable and gives it its name.
func (d *dirFile) Close() error {
	if err := d.f.Sync(); err != nil {
		d.f.Close()
		return fmt.Errorf("export %s: %w", filepath.Base(d.final), err)
	}
	if err := d.f.Close(); err != nil {
		return fmt.Errorf("export %s: %w", filepath.Base(d.final), err)
	}
	if err := os.Rename(d.temp, d.final); err != nil {
		return fmt.Errorf("export %s: %w", filepath.Base(d.final), err)
	}
	delete(d.sink.writing, d.temp)
	d.sink.created = append(d.sink.created, d.final)
	return nil
}
