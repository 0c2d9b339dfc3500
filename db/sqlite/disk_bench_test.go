//go:build unix

package sqlite_test

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// BenchmarkDiskCommitFloor writes what one WAL commit writes, without
// SQLite: for each page a 24-byte frame header and a 4 KiB page, as two
// writes (SQLite's pattern), then one fsync (synchronous=FULL). It
// overwrites a preallocated file, as SQLite reuses its WAL after a
// checkpoint. It measures the disk, not Anavara: the floor under
// BenchmarkCreateRecord/synchronous=FULL (see BENCHMARKS.md).
func BenchmarkDiskCommitFloor(b *testing.B) {
	const pageSize, header = 4096, 24
	for _, pages := range []int{1, 8, 15} {
		b.Run(fmt.Sprintf("pages=%d", pages), func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "wal"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			const commits = 200 // the file holds this many commits, then wraps
			frame := make([]byte, header+pageSize)
			if _, err := f.Write(make([]byte, len(frame)*pages*commits)); err != nil {
				b.Fatal(err)
			}
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
			fd := int(f.Fd())
			var off int64
			for b.Loop() {
				if off >= int64(len(frame)*pages*commits) {
					off = 0
				}
				for range pages {
					if _, err := syscall.Pwrite(fd, frame[:header], off); err != nil {
						b.Fatal(err)
					}
					if _, err := syscall.Pwrite(fd, frame[header:], off+header); err != nil {
						b.Fatal(err)
					}
					off += int64(len(frame))
				}
				if err := syscall.Fsync(fd); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(frame) * pages))
		})
	}
}
