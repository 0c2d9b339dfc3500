package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/model"
)

// BenchmarkAuditWrite is what the audit trail costs the writer, without
// HTTP or the records: a trail of 20,000 events (1,000 patients of 20
// records each, lists of a patient's 20 records and single reads), then
// list=8 appends 8 list events in one transaction, as audit.Writer gathers
// 32 clients' lists, and one=1 one event concerning one account in a
// transaction of its own, a create's share. Besides ns/op (which holds the
// fsync of synchronous=FULL) it reports cpu-ns/op (getrusage) and
// write-KiB/op, what the process sent to storage (/proc/self/io: WAL
// frames and their checkpoints), which the host's load does not move.
func BenchmarkAuditWrite(b *testing.B) {
	ctx := context.Background()
	d := open(b, sqlite.Options{})
	const patients, records = 1000, 20
	owners, served := benchPatients(patients, records)
	staff := uuid.NewString()
	rng := rand.New(rand.NewPCG(1, 2))
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	event := func(list bool) model.AuditEvent {
		at = at.Add(time.Millisecond)
		p := rng.IntN(patients)
		e := model.AuditEvent{ID: uuid.NewString(), At: at, ActorID: &staff, Entity: model.EntityRecord, IP: "192.0.2.1"}
		if !list {
			e.Action, e.EntityID, e.SubjectIDs = model.ActionRecordRead, &served[p][0], []string{owners[p]}
			return e
		}
		e.Action, e.Detail, e.RecordIDs = model.ActionRecordList, []byte(`{"page":1,"page_size":20}`), served[p]
		for range records {
			e.SubjectIDs = append(e.SubjectIDs, owners[p])
		}
		return e
	}
	for range 100 {
		es := make([]model.AuditEvent, 200)
		for i := range es {
			es[i] = event(i%3 != 0)
		}
		if err := d.Write(ctx, func(tx db.Tx) error { return tx.InsertAudits(ctx, es) }); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name string
		n    int
		list bool
	}{{"list=8", 8, true}, {"one=1", 1, false}} {
		b.Run(bc.name, func(b *testing.B) {
			written, _ := testenv.ProcessIO("write_bytes")
			cpu := cpuTime(b)
			for b.Loop() {
				es := make([]model.AuditEvent, bc.n)
				for i := range es {
					es[i] = event(bc.list)
				}
				if err := d.Write(ctx, func(tx db.Tx) error { return tx.InsertAudits(ctx, es) }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
			if end, ok := testenv.ProcessIO("write_bytes"); ok {
				b.ReportMetric(float64(end-written)/1024/float64(b.N), "write-KiB/op")
			}
		})
	}
}

// BenchmarkAuditLookupTail is what the events the background indexer has
// not reached yet cost the lookups, which read them from the trail: "who
// saw record X" (ListAudit by record) and an account's access log, over a
// trail of 20,000 list events of 1,000 patients' 20 records (20 events a
// record), with tail=0, 256 and 1,024 more list events after
// audit_index_through. The indexer runs every 50 ms, so a server's tail is
// what its lists append in that time: 325 events at 6,500 lists a second.
func BenchmarkAuditLookupTail(b *testing.B) {
	ctx := context.Background()
	d := open(b, sqlite.Options{AuditIndexInterval: -1})
	const patients, records = 1000, 20
	owners, served := benchPatients(patients, records)
	staff := uuid.NewString()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	next := 0
	appendLists := func(n int) {
		b.Helper()
		es := make([]model.AuditEvent, n)
		for i := range es {
			at = at.Add(time.Millisecond)
			p := next % patients
			next++
			es[i] = model.AuditEvent{ID: uuid.NewString(), At: at, ActorID: &staff, Entity: model.EntityRecord, IP: "192.0.2.1",
				Action: model.ActionRecordList, Detail: []byte(`{"page":1,"page_size":20}`), RecordIDs: served[p]}
			for range records {
				es[i].SubjectIDs = append(es[i].SubjectIDs, owners[p])
			}
		}
		if err := d.Write(ctx, func(tx db.Tx) error { return tx.InsertAudits(ctx, es) }); err != nil {
			b.Fatal(err)
		}
	}
	appendLists(patients * records)
	for _, tail := range []int{0, 256, 1024} {
		if err := d.IndexAuditTrail(ctx); err != nil {
			b.Fatal(err)
		}
		appendLists(tail)
		b.Run(fmt.Sprintf("tail=%d/record", tail), func(b *testing.B) {
			for b.Loop() {
				if _, n, err := d.Read().ListAudit(ctx, db.AuditFilter{EntityID: served[0][3], Limit: 20}); err != nil || n < records {
					b.Fatalf("%d events, %v", n, err)
				}
			}
		})
		b.Run(fmt.Sprintf("tail=%d/access-log", tail), func(b *testing.B) {
			for b.Loop() {
				if _, n, err := d.Read().AccessLog(ctx, db.AccessLogFilter{SubjectID: owners[0], Limit: 20}); err != nil || n < records {
					b.Fatalf("%d events, %v", n, err)
				}
			}
		})
	}
}

// benchPatients makes the ids of patients accounts, and of records
// records of each: served[i] are owners[i]'s.
func benchPatients(patients, records int) (owners []string, served [][]string) {
	owners = make([]string, patients)
	served = make([][]string, patients)
	for i := range owners {
		owners[i] = uuid.NewString()
		for range records {
			served[i] = append(served[i], uuid.NewString())
		}
	}
	return owners, served
}
