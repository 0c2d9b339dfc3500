package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/dbtest"
	"github.com/anavara/anavara/model"
)

// BenchmarkAuditIndexMerge measures what one list's event costs to commit
// as the trail grows: from a trail of 500,000 list events (20 records of
// one patient each, as audit.Writer writes them, appended in 25
// transactions, as an import leaves them) or from none, it appends b.N
// events one transaction each, as a lone client's lists write them, with
// the background merger (merger=true) and without, and reports the
// commits' p50, p99 and largest time (p50-ms, p99-ms, max-ms). audit_index
// is an FTS4 table, which merges a level's 16 segments into one inside the
// commit that adds the 17th: the commit at 16ⁿ rewrites every segment
// below level n, all the index the trail has built, unless the background
// merger (fts_merge.go) has merged them in steps before
// (BENCHMARKS.md, "Issue 14, session 10"). -benchtime=4200x crosses the
// 4,096th commit; trail=0 starts from an empty trail, where 70000x
// crosses the 65,536th.
//
//	go test -run '^$' -bench 'AuditIndexMerge/trail=500000' -benchtime=4200x -timeout 30m ./db/sqlite/
//	go test -run '^$' -bench 'AuditIndexMerge/trail=0' -benchtime=70000x -timeout 30m ./db/sqlite/
func BenchmarkAuditIndexMerge(b *testing.B) {
	for _, seeded := range []int{25, 0} {
		for _, merger := range []bool{true, false} {
			b.Run(fmt.Sprintf("trail=%d/merger=%v", seeded*20_000, merger), func(b *testing.B) { benchAuditIndexMerge(b, seeded, merger) })
		}
	}
}

// benchAuditIndexMerge is BenchmarkAuditIndexMerge after seedBatches
// transactions of seedBatch events.
func benchAuditIndexMerge(b *testing.B, seedBatches int, merger bool) {
	ctx := context.Background()
	opts := Options{Path: filepath.Join(b.TempDir(), "trail.db")}
	if !merger {
		opts.FTSMergeInterval = -1
	}
	d, err := Open(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	staff := uuid.NewString()
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	listEvent := func() model.AuditEvent {
		at = at.Add(time.Millisecond)
		return newListEvent(staff, at, 20)
	}
	start := time.Now()
	const seedBatch = 20_000
	for range seedBatches {
		es := make([]model.AuditEvent, seedBatch)
		for i := range es {
			es[i] = listEvent()
		}
		if err := d.Write(ctx, func(tx db.Tx) error { return tx.InsertAudits(ctx, es) }); err != nil {
			b.Fatal(err)
		}
	}
	if seedBatches > 0 {
		b.Logf("seeded %d list events in %s", seedBatches*seedBatch, time.Since(start).Round(time.Millisecond))
	}
	// The seed's 25 large transactions leave large segments on the lowest
	// levels, as an import does; the background merger works through them
	// at its pace, and the measurement starts once it has.
	start = time.Now()
	for merger {
		worked, err := d.mergeFTS(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if !worked {
			break
		}
	}
	if merger && seedBatches > 0 {
		b.Logf("merged in %s", time.Since(start).Round(time.Millisecond))
	}
	var lat []time.Duration
	for b.Loop() {
		es := []model.AuditEvent{listEvent()}
		t0 := time.Now()
		if err := d.Write(ctx, func(tx db.Tx) error { return tx.InsertAudits(ctx, es) }); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	dbtest.ReportLatencies(b, lat)
	b.ReportMetric(float64(lat[len(lat)-1])/float64(time.Millisecond), "max-ms")
}
