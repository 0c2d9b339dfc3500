//go:build unix

package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/model"
)

// seedSQLiteBenchFile writes the 100,000-record benchmark database
// (seedBenchDB) to a SQLite file in b's temp dir and closes it, for
// benchmarks that reopen it with options of their own.
func seedSQLiteBenchFile(b *testing.B) string {
	path := filepath.Join(b.TempDir(), "anavara.db")
	store, err := sqlite.Open(context.Background(), sqlite.Options{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	seedBenchDB(b, benchStore{Store: store, path: path}, benchSeed{records: 100_000, others: 1_000, own: 20})
	return path
}

// BenchmarkCreateRecordParallel is BenchmarkCreateRecord/synchronous=FULL
// with 32 clients at once (b.RunParallel, one reused RequestCtx each, one
// shared access token), on the same 100,000-record database: the load
// SQLite's group commit is for. batch=64 is group commit as the server runs
// it; batch=1 turns it off (sqlite.Options.MaxBatch), each create then
// committing on its own as before group commit. It reports creates/s,
// commits/op (one fsync of the WAL each; the background checkpointer's
// syncs come on top) and, as BenchmarkCreateRecord does, cpu-ns/op,
// write-KiB/op and writes/op. SQLite only: PostgreSQL keeps a transaction
// per request.
//
// It also reports each create's latency as the client sees it (p50-µs,
// p99-µs, p99.9-µs, max-µs) and the largest the WAL grew (wal-max-MiB): run
// with -benchtime=60s for the tail under continuous writes (BENCHMARKS.md,
// issue 14 point 4).
func BenchmarkCreateRecordParallel(b *testing.B) {
	if testenv.OnPostgres() {
		b.Skip("group commit is the SQLite engine's; PostgreSQL commits each request on its own")
	}
	const clients = 32
	procs := runtime.GOMAXPROCS(0)
	if clients%procs != 0 {
		b.Skipf("%d clients do not divide among GOMAXPROCS=%d", clients, procs)
	}
	path := seedSQLiteBenchFile(b)
	body := benchCreateBody(b)
	for _, batch := range []int{64, 1} {
		b.Run(fmt.Sprintf("clients=%d/batch=%d", clients, batch), func(b *testing.B) {
			store, err := sqlite.Open(context.Background(), sqlite.Options{Path: path, MaxBatch: batch})
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
			b.ReportAllocs()
			b.SetParallelism(clients / procs)
			var lat latencies
			wal := watchWAL(path)
			commits, bytes, calls, cpu := store.Commits(), storageWrites(), writeCalls(), cpuClock(b)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				c := newBenchClient(srv)
				c.set(http.MethodPost, "/api/medical-records", token, body)
				own := make([]time.Duration, 0, 1024)
				defer func() { lat.add(own) }()
				for pb.Next() {
					t := time.Now()
					if status := c.do(); status != http.StatusCreated {
						b.Errorf("status %d: %s", status, c.ctx.Response.Body())
						return
					}
					own = append(own, time.Since(t))
				}
			})
			elapsed := time.Since(start)
			wal.report(b)
			lat.report(b)
			if b.N > 0 {
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "creates/s")
				b.ReportMetric(float64(store.Commits()-commits)/float64(b.N), "commits/op")
			}
			reportCPU(b, cpu)
			reportStorageWrites(b, bytes, calls)
		})
	}
}

// benchCreateBody is the JSON body of the parallel create benchmarks' POSTs.
func benchCreateBody(b *testing.B) []byte {
	body, err := json.Marshal(map[string]string{
		"patient_name":      "Amara Okafor",
		"date_of_birth":     "1984-06-02",
		"diagnosis":         "Seasonal allergic rhinitis",
		"treatment":         "Antihistamines daily through the pollen season; review in spring.",
		"date_of_treatment": model.DateOf(time.Now()).AddDays(30).String(),
		"doctor":            "Dr. Lindqvist",
	})
	if err != nil {
		b.Fatal(err)
	}
	return body
}
