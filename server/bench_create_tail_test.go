//go:build unix

package server_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
)

// latencies collects the wall time of every request of a parallel
// benchmark: each client appends to its own slice, merged at the end, so
// that timing a request costs one time.Now and no lock.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

// add merges one client's latencies.
func (l *latencies) add(own []time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, own...)
}

// report reports the median, p99, p99.9 and maximum in microseconds
// (p50-µs, p99-µs, p99.9-µs, max-µs). The tail is what group commit and
// checkpoints trade against throughput, and ns/op, a mean, hides it.
func (l *latencies) report(b *testing.B) {
	if len(l.all) == 0 {
		return
	}
	slices.Sort(l.all)
	at := func(q float64) float64 {
		i := min(int(q*float64(len(l.all))), len(l.all)-1)
		return float64(l.all[i].Microseconds())
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
	b.ReportMetric(at(0.999), "p99.9-µs")
	b.ReportMetric(float64(l.all[len(l.all)-1].Microseconds()), "max-µs")
}

// walWatch samples the size of a database's WAL file every millisecond
// until stopped, to report the largest it grew to (wal-max-MiB): the writer
// checkpoints on its own, inside a commit, only once the WAL passes about
// 40 MiB (db/sqlite/checkpoint.go), so a maximum below that says the
// request path never checkpointed.
type walWatch struct {
	stop chan struct{}
	done chan int64
}

func watchWAL(dbPath string) *walWatch {
	w := &walWatch{stop: make(chan struct{}), done: make(chan int64, 1)}
	go func() {
		var largest int64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				w.done <- largest
				return
			case <-tick.C:
				if fi, err := os.Stat(dbPath + "-wal"); err == nil {
					largest = max(largest, fi.Size())
				}
			}
		}
	}()
	return w
}

// report stops the sampling and reports wal-max-MiB.
func (w *walWatch) report(b *testing.B) {
	close(w.stop)
	b.ReportMetric(float64(<-w.done)/(1<<20), "wal-max-MiB")
}

// BenchmarkCreateRecordTail is the create's latency under continuous writes
// that the server keeps up with: 32 writers through the Fiber app, as in
// BenchmarkCreateRecordParallel (same 100,000-record database, patient
// POSTs, synchronous=FULL, group commit on), but paced so that together
// they send rate creates per second, each writer on its own fixed
// schedule. b.N is the number of creates, so -benchtime=60000x at
// rate=1000 runs 60 s. A create's latency is counted from the time its
// schedule sent it, not from when its writer got round to it, so a stall
// counts against every create it delayed (no coordinated omission). A
// second of creates at the same pace comes first, uncounted.
//
// BenchmarkCreateRecordParallel's clients send their next create the
// moment the last is answered: there 32 are always queued, and a create's
// latency is 32 ÷ the throughput (Little's law), however short the stalls.
// Here latency is the service's own: the p99.9 of issue 14 point 4 is this
// benchmark's. synchronous=NORMAL, which syncs the WAL only at checkpoints,
// tells the disk's share of the tail from the rest.
func BenchmarkCreateRecordTail(b *testing.B) {
	if testenv.OnPostgres() {
		b.Skip("the checkpoints measured here are the SQLite engine's")
	}
	const writers = 32
	path := seedSQLiteBenchFile(b)
	body := benchCreateBody(b)
	for _, c := range []struct {
		rate int
		sync string
	}{{250, "FULL"}, {1000, "FULL"}, {1000, "NORMAL"}} {
		rate := c.rate
		b.Run(fmt.Sprintf("writers=%d/rate=%d/synchronous=%s", writers, rate, c.sync), func(b *testing.B) {
			store, err := sqlite.Open(context.Background(), sqlite.Options{Path: path, Synchronous: c.sync})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				if err := store.Close(); err != nil {
					b.Error(err)
				}
			})
			srv := newBenchServer(b, store)
			token := newBenchClient(srv).login(b, benchEmails.writer)
			// Each writer sends every writers/rate seconds, the writers
			// evenly staggered.
			every := time.Duration(writers) * time.Second / time.Duration(rate)
			// Each writer first sends warmup creates, at the same pace and not
			// counted: the first second after Open reads the database into
			// SQLite's cache and grows Go's heap, and its slow creates (up to
			// 50 ms) were the p99 of a 10 s run.
			warmup := rate / writers
			var lat latencies
			wal := watchWAL(path)
			commits, bytes, calls, cpu := store.Commits(), storageWrites(), writeCalls(), cpuClock(b)
			b.ResetTimer()
			start := time.Now()
			measured := start.Add(time.Duration(warmup) * every)
			var wg sync.WaitGroup
			for w := range writers {
				n := b.N / writers
				if w < b.N%writers {
					n++
				}
				wg.Go(func() {
					c := newBenchClient(srv)
					c.set(http.MethodPost, "/api/medical-records", token, body)
					own := make([]time.Duration, 0, n)
					defer func() { lat.add(own) }()
					first := start.Add(time.Duration(w) * every / writers)
					for i := range warmup + n {
						due := first.Add(time.Duration(i) * every)
						if d := time.Until(due); d > 0 {
							time.Sleep(d)
						}
						if status := c.do(); status != http.StatusCreated {
							b.Errorf("status %d: %s", status, c.ctx.Response.Body())
							return
						}
						if i >= warmup {
							own = append(own, time.Since(due))
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(measured)
			b.StopTimer()
			wal.report(b)
			lat.report(b)
			// The remaining metrics count the warm-up's creates too.
			all := b.N + warmup*writers
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "creates/s")
			b.ReportMetric(float64(store.Commits()-commits)/float64(all), "commits/op")
			b.ReportMetric(float64(cpuClock(b)-cpu)/float64(all), "cpu-ns/op")
			if end := storageWrites(); bytes >= 0 && end >= 0 {
				b.ReportMetric(float64(end-bytes)/1024/float64(all), "write-KiB/op")
			}
			if end := writeCalls(); calls >= 0 && end >= 0 {
				b.ReportMetric(float64(end-calls)/float64(all), "writes/op")
			}
		})
	}
}
