package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/dbtest"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/export"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/model"
)

// The export benchmark's knobs: a seeded database file to reuse (seeding
// a million records takes a minute or two), and the numbers of records and
// audit events to seed.
const (
	exportBenchDBEnv      = "ANAVARA_EXPORT_BENCH_DB"
	exportBenchRecordsEnv = "ANAVARA_EXPORT_BENCH_RECORDS"
	exportBenchEventsEnv  = "ANAVARA_EXPORT_BENCH_EVENTS"
)

// BenchmarkExportPopulation runs `anavara export --out DIR` as a child
// process over a SQLite database of 1,000,000 records of 1,000 patients
// (the search benchmark's generator) and 100,000 audit events, and reports
// the child's peak resident memory beside the time per export. Seeding is
// not timed.
//
// The peak is the child's VmHWM, read from /proc while it runs, not its
// ru_maxrss: Go starts a child with vfork, and Linux carries the parent's
// high-water mark, this benchmark's after seeding, into the child's
// ru_maxrss at exec.
func BenchmarkExportPopulation(b *testing.B) {
	testenv.SQLiteOnly(b, "seeds a SQLite file through its bulk load")
	records, events := envInt(b, exportBenchRecordsEnv, 1_000_000), envInt(b, exportBenchEventsEnv, 100_000)
	path := os.Getenv(exportBenchDBEnv)
	if path == "" {
		path = filepath.Join(b.TempDir(), "anavara.db")
	}
	if _, err := os.Stat(path); err != nil {
		seedExportBench(b, path, records, events)
	}
	var peakKiB, exported int64
	var last time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := filepath.Join(b.TempDir(), fmt.Sprintf("export-%d", i))
		cmd := exec.Command("anavara", "export", "--database", "sqlite:"+path, "--out", out)
		var output bytes.Buffer
		cmd.Stdout, cmd.Stderr = &output, &output
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		peak := watchPeakRSS(cmd.Process.Pid)
		err := cmd.Wait()
		last = time.Since(start)
		if err != nil {
			b.Fatalf("anavara export: %v\n%s", err, output.String())
		}
		peakKiB = max(peakKiB, peak())
		b.Logf("%s in %v (user %v, system %v, peak RSS %d KiB):\n%s", out, last.Round(time.Millisecond),
			cmd.ProcessState.UserTime().Round(time.Millisecond), cmd.ProcessState.SystemTime().Round(time.Millisecond), peakKiB, output.String())
		exported = manifestRecords(b, out)
		b.StopTimer()
		os.RemoveAll(out)
		b.StartTimer()
	}
	b.ReportMetric(float64(peakKiB)/1024, "MiB-peak-RSS")
	b.ReportMetric(float64(exported)/last.Seconds(), "records/s")
}

// manifestRecords is the number of records (Conditions) the export in dir
// lists.
func manifestRecords(b *testing.B, dir string) int64 {
	b.Helper()
	data, err := os.ReadFile(filepath.Join(dir, export.ManifestFile))
	if err != nil {
		b.Fatal(err)
	}
	var m export.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		b.Fatal(err)
	}
	return m.Count("Condition")
}

// watchPeakRSS polls the VmHWM of process pid every 10 ms until it ends;
// the function it returns, called once the process has been waited for,
// is the highest seen, in KiB. An export's peak is its caches filled, held
// to the end, so a poll cannot miss it.
func watchPeakRSS(pid int) func() int64 {
	var mu sync.Mutex
	var peak int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			if err == nil {
				for _, line := range strings.Split(string(data), "\n") {
					if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
						kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
						mu.Lock()
						peak = max(peak, kib)
						mu.Unlock()
					}
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

func envInt(b *testing.B, name string, def int) int {
	b.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		b.Fatalf("%s=%q: %v", name, s, err)
	}
	return n
}

// seedExportBench loads records records through the bulk load and appends
// events audit events, each a staff read of a record, through the store's
// own chain.
func seedExportBench(b *testing.B, path string, records, events int) {
	b.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, sqlite.Options{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	dbtest.SeedSearchBench(b, s, records)
	start := time.Now()
	staff := model.User{ID: uuid.NewString(), Email: "bench-staff@example.org", FirstName: "Bench", LastName: "Staff",
		IsStaff: true, IsActive: true, Created: start.UTC(), Updated: start.UTC()}
	if err := s.Write(ctx, func(q db.Tx) error { return q.CreateUser(ctx, db.UserRow{User: staff, PasswordHash: "x"}) }); err != nil {
		b.Fatal(err)
	}
	page, _, err := s.Read().ListRecords(ctx, db.RecordFilter{Limit: 100, Ordering: "created"})
	if err != nil || len(page) == 0 {
		b.Fatalf("records to read: %v", err)
	}
	const batch = 5_000
	for done := 0; done < events; done += batch {
		es := make([]model.AuditEvent, 0, batch)
		for i := done; i < min(done+batch, events); i++ {
			r := page[i%len(page)]
			e := model.AuditEvent{ID: uuid.NewString(), At: start.Add(time.Duration(i) * time.Millisecond).UTC(), ActorID: &staff.ID,
				Action: model.ActionRecordRead, Entity: model.EntityRecord, EntityID: &r.ID, IP: "203.0.113.7",
				SubjectIDs: []string{r.UserID}, Via: model.ViaAPI}
			es = append(es, e)
		}
		if err := s.Write(ctx, func(q db.Tx) error { return q.InsertAudits(ctx, es) }); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d audit events in %v", events, time.Since(start).Round(time.Millisecond))
}
