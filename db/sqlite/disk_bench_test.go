//go:build unix

package sqlite_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
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
				var err error
				if off, err = walCommit(fd, frame, header, pages, off); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(frame) * pages))
		})
	}
}

// walCommit writes what one WAL commit of pages writes at off, each page
// as SQLite writes a frame (its header, then the page: frame holds both),
// and syncs the file, returning the offset after the last frame.
func walCommit(fd int, frame []byte, header, pages int, off int64) (int64, error) {
	for range pages {
		if _, err := syscall.Pwrite(fd, frame[:header], off); err != nil {
			return off, err
		}
		if _, err := syscall.Pwrite(fd, frame[header:], off+int64(header)); err != nil {
			return off, err
		}
		off += int64(len(frame))
	}
	return off, syscall.Fsync(fd)
}

// BenchmarkDiskCommitTail is the disk's own latency tail under the create
// tail's load (server's BenchmarkCreateRecordTail, rate=1000): a commit's
// WAL writes (BenchmarkDiskCommitFloor's pattern, 19 pages, what a create
// writes to the WAL) and fsync, 1,000 a second, one at a time, while
// another goroutine does what the checkpointer does to the database file:
// every pass ms, scattered 4 KiB writes of ckpt-MiB in all and an fsync
// (ckpt-MiB=0: none; at 1,000 creates a second the checkpointer copies
// about 76 KiB a create, some 19 MiB a 250 ms pass). The last case writes
// the same 64 MiB a second in passes ten times as small and frequent. It reports the commits' p50, p99, p99.9 and maximum
// in microseconds: no create can have a shorter tail than its commit.
//
//	go test -run '^$' -bench DiskCommitTail -benchtime=10000x ./db/sqlite/
func BenchmarkDiskCommitTail(b *testing.B) {
	const (
		pageSize, header = 4096, 24
		pages            = 19
		rate             = 1000
		dbFileSize       = 200 << 20
	)
	for _, c := range []struct {
		ckptKiB int
		pass    time.Duration
	}{{0, 250 * time.Millisecond}, {4 << 10, 250 * time.Millisecond}, {16 << 10, 250 * time.Millisecond}, {1638, 25 * time.Millisecond}} {
		b.Run(fmt.Sprintf("ckpt-MiB=%.1f/pass=%s", float64(c.ckptKiB)/1024, c.pass), func(b *testing.B) {
			dir := b.TempDir()
			wal, err := os.Create(filepath.Join(dir, "wal"))
			if err != nil {
				b.Fatal(err)
			}
			defer wal.Close()
			frame := make([]byte, header+pageSize)
			walSize := int64(len(frame) * pages * 2000)
			if _, err := wal.Write(make([]byte, walSize)); err != nil {
				b.Fatal(err)
			}
			if err := wal.Sync(); err != nil {
				b.Fatal(err)
			}
			stop, stopped := make(chan struct{}), make(chan error, 1)
			if c.ckptKiB == 0 {
				stopped <- nil
			} else {
				dbFile, err := os.Create(filepath.Join(dir, "db"))
				if err != nil {
					b.Fatal(err)
				}
				defer dbFile.Close()
				if _, err := dbFile.Write(make([]byte, dbFileSize)); err != nil {
					b.Fatal(err)
				}
				if err := dbFile.Sync(); err != nil {
					b.Fatal(err)
				}
				go func() { stopped <- checkpointLike(dbFile, c.ckptKiB/4, c.pass, stop) }()
			}
			lat := make([]time.Duration, 0, b.N)
			fd := int(wal.Fd())
			var off int64
			next := time.Now()
			for b.Loop() {
				next = next.Add(time.Second / rate)
				time.Sleep(time.Until(next))
				start := time.Now()
				if off >= walSize {
					off = 0
				}
				var err error
				if off, err = walCommit(fd, frame, header, pages, off); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			close(stop)
			if err := <-stopped; err != nil {
				b.Fatal(err)
			}
			slices.Sort(lat)
			at := func(q float64) float64 {
				return float64(lat[min(int(q*float64(len(lat))), len(lat)-1)].Microseconds())
			}
			b.ReportMetric(at(0.50), "p50-µs")
			b.ReportMetric(at(0.99), "p99-µs")
			b.ReportMetric(at(0.999), "p99.9-µs")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
		})
	}
}

// checkpointLike writes pages of 4 KiB scattered over f and syncs it,
// every pass until stop closes.
func checkpointLike(f *os.File, pages int, pass time.Duration, stop <-chan struct{}) error {
	page := make([]byte, 4096)
	size, _ := f.Seek(0, 2)
	tick := time.NewTicker(pass)
	defer tick.Stop()
	var off int64
	for {
		select {
		case <-stop:
			return nil
		case <-tick.C:
			for range pages {
				// A stride of 37 pages scatters the writes as a
				// checkpoint of index pages does.
				off = (off + 37*4096) % size
				if _, err := f.WriteAt(page, off); err != nil {
					return err
				}
			}
			if err := f.Sync(); err != nil {
				return err
			}
		}
	}
}
