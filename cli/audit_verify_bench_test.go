package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/audit/chain"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/postgres/pgtest"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/model"
)

// verifyBenchDBEnv names a variable that, set to a file path, keeps the
// seeded database there between runs (seeding a million events takes a
// minute or two); unset, each run seeds a temporary one.
// verifyBenchPostgresEnv is its PostgreSQL counterpart: a URL whose
// database (created beforehand, empty or seeded by an earlier run) keeps
// the trail. verifyBenchEventsEnv sets the number of events, 1,000,000 by
// default.
const (
	verifyBenchDBEnv       = "ANAVARA_VERIFY_BENCH_DB"
	verifyBenchPostgresEnv = "ANAVARA_VERIFY_BENCH_POSTGRES"
	verifyBenchEventsEnv   = "ANAVARA_VERIFY_BENCH_EVENTS"
)

// BenchmarkAuditVerify1M measures anavara audit verify over a trail of a
// million events on SQLite: "verify" is the whole command (open, snapshot,
// read, hash, compare), "read" the walk of the trail as events alone (the
// same snapshot and EachAudit, no hashing), "read-stored" the walk verify
// makes where the engine has one (EachStoredAudit: the rows' bytes and
// the fields' encoding, no hashing). The verifier without the database is
// BenchmarkVerifierCPU (audit/chain).
//
//	go test -run '^$' -bench AuditVerify1M -benchtime=3x -timeout 30m ./cli/
func BenchmarkAuditVerify1M(b *testing.B) {
	path := os.Getenv(verifyBenchDBEnv)
	if path == "" {
		path = filepath.Join(b.TempDir(), "anavara.db")
	}
	store, err := sqlite.Open(context.Background(), sqlite.Options{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	benchVerify(b, store, "sqlite:"+path, seedVerifyBench)
}

// BenchmarkAuditVerify1MPostgres is BenchmarkAuditVerify1M on PostgreSQL:
// the database ANAVARA_VERIFY_BENCH_POSTGRES names, or a fresh one of
// ANAVARA_TEST_DATABASE's server seeded on every run. The trail is
// linked in Go and loaded by the importer (COPY, one transaction), which
// still took 5.5 minutes for 1,000,000 events at load 7 (the indexes,
// the GIN ones most); with the persistent database that is paid once. On
// PostgreSQL each also reports the CPU of the database's backends
// (pg-cpu-ns/event: another process on the same cores), read from /proc
// where it shows it (backendMeter).
//
//	ANAVARA_TEST_DATABASE=… ANAVARA_VERIFY_BENCH_POSTGRES=… go test -run '^$' -bench AuditVerify1MPostgres -benchtime=3x -timeout 60m ./cli/
func BenchmarkAuditVerify1MPostgres(b *testing.B) {
	url := os.Getenv(verifyBenchPostgresEnv)
	if url == "" {
		url = pgtest.URL(b)
	}
	store, err := postgres.Open(context.Background(), postgres.Options{URL: url})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	benchVerify(b, store, url, importVerifyBench)
}

// benchVerify seeds store with the benchmark's trail, by seed, unless it
// holds one, and measures verify of the database setting names and the
// read alone.
func benchVerify(b *testing.B, store db.Store, setting string, seed func(*testing.B, db.Store, int64)) {
	n := int64(1_000_000)
	if s := os.Getenv(verifyBenchEventsEnv); s != "" {
		var err error
		if n, err = strconv.ParseInt(s, 10, 64); err != nil || n < 1 {
			b.Fatalf("%s=%q: want a number of events", verifyBenchEventsEnv, s)
		}
	}
	head, err := store.Read().AuditHead(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if head.Count == 0 {
		seed(b, store, n)
		if head, err = store.Read().AuditHead(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	if head.Count != n {
		b.Fatalf("the database holds %d events, want %d", head.Count, n)
	}
	// Per event, wall and CPU: the process's user and system time, the
	// collector's and SQLite's included, which moves less than wall time
	// while other processes share the cores.
	perEvent := func(b *testing.B, cpuStart time.Duration) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/event")
		b.ReportMetric(float64(verifyCPUClock(b)-cpuStart)/float64(b.N)/float64(n), "cpu-ns/event")
	}
	// And on PostgreSQL the backends' CPU per event (pg-cpu-ns/event).
	perBackendEvent := func(b *testing.B, m *backendMeter) {
		if sum, ok := m.total(); ok {
			b.ReportMetric(float64(sum)/float64(b.N)/float64(n), "pg-cpu-ns/event")
		}
	}

	b.Run("verify", func(b *testing.B) {
		want := fmt.Sprintf("checked %d events: ok, head %s\n", head.Count, head.HeadHash)
		cpu, pg := verifyCPUClock(b), startBackendMeter(setting)
		for b.Loop() {
			code, stdout, stderr := runCLI("audit", "verify", "--database", setting)
			if code != 0 || stdout != want {
				b.Fatalf("verify exited %d: %s%s", code, stdout, stderr)
			}
		}
		perEvent(b, cpu)
		perBackendEvent(b, pg)
	})
	b.Run("read", func(b *testing.B) {
		// With the collector's goal verify sets for its walk.
		defer debug.SetGCPercent(debug.SetGCPercent(400))
		ctx := context.Background()
		cpu, pg := verifyCPUClock(b), startBackendMeter(setting)
		for b.Loop() {
			var read int64
			err := store.Snapshot(ctx, func(s db.Snapshot) error {
				return s.EachAudit(ctx, func(model.AuditEvent) error { read++; return nil })
			})
			if err != nil || read != n {
				b.Fatalf("read %d events: %v", read, err)
			}
		}
		perEvent(b, cpu)
		perBackendEvent(b, pg)
	})
	b.Run("read-stored", func(b *testing.B) {
		ctx := context.Background()
		cpu, pg := verifyCPUClock(b), startBackendMeter(setting)
		for b.Loop() {
			var read int64
			err := store.Snapshot(ctx, func(s db.Snapshot) error {
				w, ok := s.(db.StoredAuditWalker)
				if !ok {
					b.Skip("the engine walks the trail as events only")
				}
				return w.EachStoredAudit(ctx, func(*chain.Stored) error { read++; return nil })
			})
			if err != nil || read != n {
				b.Fatalf("read %d events: %v", read, err)
			}
		}
		perEvent(b, cpu)
		perBackendEvent(b, pg)
	})
}

// verifyCPUClock is the process's CPU time so far.
func verifyCPUClock(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backendMeter follows the CPU time (user + system) of the PostgreSQL
// backends connected to one database, found by their process titles
// ("postgres: <user> <dbname> <host>(<port>) …") in /proc, as the server's
// benchmarks do (pgBackendCPU there). Verify opens its own pool, whose
// backends exit when it is done, taking their times with them, so the
// meter reads them every 50 ms while it runs and keeps each backend's last
// reading: a backend's last 50 ms at most go uncounted.
type backendMeter struct {
	needle []byte
	// start is each backend's time when the meter started (those that
	// started later began at 0), last its latest reading; others are the
	// processes that are not such backends.
	start, last map[int]time.Duration
	others      map[int]bool
	stop        chan struct{}
	done        chan struct{}
}

// startBackendMeter starts a meter of the backends of the database in
// the PostgreSQL URL setting; nil where /proc shows none (SQLite, not
// Linux, the titles hidden).
func startBackendMeter(setting string) *backendMeter {
	u, err := url.Parse(setting)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil
	}
	m := &backendMeter{needle: []byte(" " + strings.TrimPrefix(u.Path, "/") + " "),
		start: map[int]time.Duration{}, last: map[int]time.Duration{}, others: map[int]bool{},
		stop: make(chan struct{}), done: make(chan struct{})}
	m.read()
	if len(m.last) == 0 {
		return nil
	}
	maps.Copy(m.start, m.last)
	go func() {
		defer close(m.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-tick.C:
				m.read()
			}
		}
	}()
	return m
}

// read takes a reading of every backend, looking at the title of each
// process only the first time it is seen.
func (m *backendMeter) read() {
	dir, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, d := range dir {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || m.others[pid] {
			continue
		}
		if _, known := m.last[pid]; !known {
			cmd, err := os.ReadFile("/proc/" + d.Name() + "/cmdline")
			if err != nil || !bytes.HasPrefix(cmd, []byte("postgres: ")) || !bytes.Contains(cmd, m.needle) {
				m.others[pid] = true
				continue
			}
		}
		if cpu, ok := processCPU(pid); ok {
			m.last[pid] = cpu
		}
	}
}

// total stops the meter (nil: none) and returns the backends' CPU time
// since it started; false for no meter.
func (m *backendMeter) total() (time.Duration, bool) {
	if m == nil {
		return 0, false
	}
	close(m.stop)
	<-m.done
	m.read()
	var sum time.Duration
	for pid, cpu := range m.last {
		sum += cpu - m.start[pid]
	}
	return sum, true
}

// processCPU is the CPU time (user + system) of process pid so far, from
// /proc/<pid>/stat in clock ticks of 10 ms; false where /proc does not
// say.
func processCPU(pid int) (time.Duration, bool) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// After the parenthesised command: utime is the 12th field and
	// stime the 13th.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	const clockTicks = 100 // sysconf(_SC_CLK_TCK) on Linux
	return time.Duration(ut+st) * time.Second / clockTicks, true
}

// seedVerifyBench appends n events through the store, which links them
// as it appends, in transactions of 10,000 (verifyBenchEvents).
func seedVerifyBench(b *testing.B, store db.Store, n int64) {
	b.Helper()
	start := time.Now()
	ctx := context.Background()
	verifyBenchEvents(b, n, func(events []model.AuditEvent) {
		if err := store.Write(ctx, func(tx db.Tx) error { return tx.InsertAudits(ctx, events) }); err != nil {
			b.Fatal(err)
		}
	})
	b.Logf("seeded %d events in %v", n, time.Since(start).Round(time.Second))
}

// importVerifyBench loads the same n events into an empty store through
// its importer, in one transaction, each linked in Go (chain.Link) as the
// store would have linked it.
func importVerifyBench(b *testing.B, store db.Store, n int64) {
	b.Helper()
	start := time.Now()
	ctx := context.Background()
	im, ok := store.(db.Importer)
	if !ok {
		b.Fatal("the store has no importer")
	}
	err := im.Import(ctx, func(tx db.ImportTx) error {
		var seq int64
		prev := chain.Genesis
		var err error
		verifyBenchEvents(b, n, func(events []model.AuditEvent) {
			if err != nil {
				return
			}
			for i := range events {
				seq++
				prev = chain.Link(&events[i], seq, prev)
			}
			err = tx.AuditEvents(ctx, events)
		})
		if err != nil {
			return err
		}
		return tx.Recount(ctx)
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("imported %d events in %v", n, time.Since(start).Round(time.Second))
}

// verifyBenchEvents makes the benchmark's n events, handing them to put in
// batches of 10,000 (the slice reused): a trail shaped like a server's,
// where every read is audited (half are record reads, a quarter pages of
// 20 records with their detail, the rest sign-ins, a third of them
// failed).
func verifyBenchEvents(b *testing.B, n int64, put func([]model.AuditEvent)) {
	b.Helper()
	const batch = 10_000
	owners := make([]string, 1000)
	for i := range owners {
		owners[i] = uuid.NewString()
	}
	detail, err := json.Marshal(model.RecordListDetail{Page: 1, PageSize: 20, Count: 140, Ordering: "-date_of_treatment"})
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	events := make([]model.AuditEvent, 0, batch)
	for i := int64(0); i < n; {
		events = events[:0]
		for ; i < n && len(events) < batch; i++ {
			owner, record := owners[i%int64(len(owners))], uuid.NewString()
			e := model.AuditEvent{ID: uuid.NewString(), At: at.Add(time.Duration(i) * 10 * time.Millisecond),
				ActorID: &owner, Action: model.ActionRecordRead, Entity: model.EntityRecord, EntityID: &record,
				IP: "192.0.2." + strconv.FormatInt(i%250+1, 10), Via: model.ViaAPI, SubjectIDs: []string{owner}}
			switch i % 8 {
			case 1, 5:
				e.Action, e.EntityID, e.Detail = model.ActionRecordList, nil, detail
				e.RecordIDs, e.SubjectIDs = make([]string, 20), make([]string, 20)
				for j := range e.RecordIDs {
					e.RecordIDs[j], e.SubjectIDs[j] = uuid.NewString(), owner
				}
			case 2:
				e.Action, e.Entity, e.EntityID = model.ActionLogin, model.EntityUser, &owner
			case 6:
				e.ActorID, e.Action, e.Entity, e.EntityID, e.SubjectIDs = nil, model.ActionLoginFailed, model.EntityUser, nil, nil
			case 3:
				e.Via = model.ViaSSH
			}
			events = append(events, e)
		}
		put(events)
	}
}
