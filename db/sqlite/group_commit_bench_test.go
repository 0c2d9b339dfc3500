package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/model"
)

// BenchmarkGroupCommitCreate creates records, each write a record and its
// audit event in one Write, as the API's create does, with
// synchronous=FULL. writers=32 runs 32 goroutines at once (b.RunParallel);
// writers=1 one at a time, the case group commit must not slow down.
// batch=64 is group commit as Open sets it up; batch=1 turns it off, every
// write committing on its own as before group commit. Besides ns/op it
// reports cpu-ns/op (getrusage), creates/s, commits/op (each commit is one fsync of the WAL with
// FULL; the background checkpointer's syncs come on top, a few a second)
// and writes/op (write system calls of the whole process, /proc/self/io).
func BenchmarkGroupCommitCreate(b *testing.B) {
	for _, writers := range []int{32, 1} {
		for _, batch := range []int{64, 1} {
			b.Run(fmt.Sprintf("writers=%d/batch=%d", writers, batch), func(b *testing.B) {
				benchmarkCreates(b, writers, batch)
			})
		}
	}
}

func benchmarkCreates(b *testing.B, writers, batch int) {
	ctx := context.Background()
	d, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(b.TempDir(), "bench.db"), MaxBatch: batch})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	u := newUserRow("bench@example.org")
	if err := d.Write(ctx, func(q db.Tx) error { return q.CreateUser(ctx, u) }); err != nil {
		b.Fatal(err)
	}
	userID := u.ID
	create := func() error {
		now := time.Now().UTC()
		r := model.MedicalRecord{ID: uuid.NewString(), UserID: userID, PatientName: "Amara Okafor",
			DateOfBirth: model.NewDate(1984, 6, 2), DateOfTreatment: model.NewDate(2030, 1, 15), Doctor: "Dr. Lindqvist",
			Diagnosis: "Seasonal allergic rhinitis", Treatment: "Antihistamines daily through the pollen season; review in spring.",
			Created: now, Updated: now}
		return d.Write(ctx, func(q db.Tx) error {
			if err := q.CreateRecord(ctx, r); err != nil {
				return err
			}
			return q.InsertAudit(ctx, model.AuditEvent{ID: uuid.NewString(), At: now, ActorID: &userID,
				Action: model.ActionRecordCreate, Entity: "medical_record", EntityID: &r.ID, IP: "127.0.0.1"})
		})
	}
	commits, writes, cpu := d.Commits(), testenv.WriteCalls(b), cpuTime(b)
	start := time.Now()
	if writers == 1 {
		for b.Loop() {
			if err := create(); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		// RunParallel starts parallelism × GOMAXPROCS goroutines.
		procs := runtime.GOMAXPROCS(0)
		if writers%procs != 0 {
			b.Fatalf("%d writers do not divide among GOMAXPROCS=%d", writers, procs)
		}
		b.SetParallelism(writers / procs)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := create(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "creates/s")
	b.ReportMetric(float64(d.Commits()-commits)/float64(b.N), "commits/op")
	b.ReportMetric(float64(testenv.WriteCalls(b)-writes)/float64(b.N), "writes/op")
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU time this process has used, user and system, on every
// thread: steadier than wall time on a shared machine.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
