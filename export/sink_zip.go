package export

import (
	"archive/zip"
	"fmt"
	"io"
	"time"
)

// ZipSink writes an export's files as one zip archive streamed to w, for
// an HTTP response: nothing is held back but the compressor's window.
type ZipSink struct {
	zw *zip.Writer
	at time.Time
}

// NewZipSink streams a zip archive to w whose files are dated at.
func NewZipSink(w io.Writer, at time.Time) *ZipSink {
	return &ZipSink{zw: zip.NewWriter(w), at: at}
}

// Create starts the archive's file name.
func (s *ZipSink) Create(name string) (io.WriteCloser, error) {
	w, err := s.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: s.at})
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", name, err)
	}
	return zipFile{w}, nil
}

// Close writes the archive's central directory; the archive is whole only
// after it.
func (s *ZipSink) Close() error {
	if err := s.zw.Close(); err != nil {
		return fmt.Errorf("export archive: %w", err)
	}
	return nil
}

// zipFile is one file of the archive: the next Create ends it.
type zipFile struct{ io.Writer }

func (zipFile) Close() error { return nil }
