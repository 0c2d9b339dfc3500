package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
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
// verifyBenchEventsEnv sets the number of events, 1,000,000 by default.
const (
	verifyBenchDBEnv     = "ANAVARA_VERIFY_BENCH_DB"
	verifyBenchEventsEnv = "ANAVARA_VERIFY_BENCH_EVENTS"
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
	benchVerify(b, store, "sqlite:"+path)
}

// BenchmarkAuditVerify1MPostgres is BenchmarkAuditVerify1M on a fresh
// PostgreSQL database (ANAVARA_TEST_DATABASE), seeded on every run.
//
//	ANAVARA_TEST_DATABASE=… go test -run '^$' -bench AuditVerify1MPostgres -benchtime=3x -timeout 60m ./cli/
func BenchmarkAuditVerify1MPostgres(b *testing.B) {
	url := pgtest.URL(b)
	store, err := postgres.Open(context.Background(), postgres.Options{URL: url})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	benchVerify(b, store, url)
}

// benchVerify seeds store with the benchmark's trail unless it holds one,
// and measures verify of the database setting names and the read alone.
func benchVerify(b *testing.B, store db.Store, setting string) {
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
		seedVerifyBench(b, store, n)
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

	b.Run("verify", func(b *testing.B) {
		want := fmt.Sprintf("checked %d events: ok, head %s\n", head.Count, head.HeadHash)
		cpu := verifyCPUClock(b)
		for b.Loop() {
			code, stdout, stderr := runCLI("audit", "verify", "--database", setting)
			if code != 0 || stdout != want {
				b.Fatalf("verify exited %d: %s%s", code, stdout, stderr)
			}
		}
		perEvent(b, cpu)
	})
	b.Run("read", func(b *testing.B) {
		// With the collector's goal verify sets for its walk.
		defer debug.SetGCPercent(debug.SetGCPercent(400))
		ctx := context.Background()
		cpu := verifyCPUClock(b)
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
	})
	b.Run("read-stored", func(b *testing.B) {
		ctx := context.Background()
		cpu := verifyCPUClock(b)
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

// seedVerifyBench appends n events through the store, which links them
// as it appends, in transactions of 10,000: a trail shaped like a
// server's, where every read is audited (half are record reads, a
// quarter pages of 20 records with their detail, the rest sign-ins, a
// third of them failed).
func seedVerifyBench(b *testing.B, store db.Store, n int64) {
	b.Helper()
	start := time.Now()
	ctx := context.Background()
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
		if err := store.Write(ctx, func(tx db.Tx) error { return tx.InsertAudits(ctx, events) }); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d events in %v", n, time.Since(start).Round(time.Second))
}
