//go:build unix

package server_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// benchAuditEvents is how many events BenchmarkListAudit1M's trail holds.
const benchAuditEvents = 1_000_000

// BenchmarkListAudit1M lists the audit trail as staff over 1,000,000
// events: unfiltered (the staff audit screen's first view), a deep page,
// and filtered by a common action, by one record and by time.
func BenchmarkListAudit1M(b *testing.B) {
	store := openBenchDB(b, filepath.Join(b.TempDir(), "anavara.db"), "")
	ids := seedBenchDB(b, store, benchSeed{records: 1_000, others: 100, own: 20})
	record := seedBenchAudit(b, store, ids.staff)
	store.settle(b)
	srv := newBenchServer(b, store.Store)
	token := newBenchClient(srv).login(b, benchEmails.staff)
	benchList(b, store, srv, "/api/audit-events?page_size=20", token, []benchListCase{
		{"page=1", "", 20},
		{"page=1000", "&page=1000", 20},
		{"action=record.read", "&action=" + model.ActionRecordRead, 20}, // 70% of events
		{"entity_id=one", "&entity_id=" + record, 20},                   // ~90 events
		{"since=last-hour", "&since=2026-01-01T11:00:00Z", 20},          // ~115 events
	})
}

// seedBenchAudit appends benchAuditEvents events by one staff actor, one
// every 31.5 s through 2025 (the last at 2026-01-01 12:00 UTC), about 70%
// of them record reads spread over 10,000 record ids. It returns one of
// those ids.
func seedBenchAudit(b *testing.B, store db.Store, actor string) string {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	rng := rand.New(rand.NewPCG(2026, 11))
	records := make([]string, 10_000)
	for i := range records {
		records[i] = uuid.NewString()
	}
	actions := []string{model.ActionRecordRead, model.ActionRecordRead, model.ActionRecordRead, model.ActionRecordRead,
		model.ActionRecordRead, model.ActionRecordRead, model.ActionRecordRead,
		model.ActionRecordCreate, model.ActionRecordUpdate, model.ActionLogin}
	last := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	const every = 31500 * time.Millisecond
	const batch = 20_000
	for lo := 0; lo < benchAuditEvents; lo += batch {
		err := store.Write(ctx, func(q db.Tx) error {
			for i := lo; i < min(lo+batch, benchAuditEvents); i++ {
				action := actions[rng.IntN(len(actions))]
				entity, id := model.EntityRecord, records[rng.IntN(len(records))]
				if action == model.ActionLogin {
					entity, id = model.EntityUser, actor
				}
				e := model.AuditEvent{ID: uuid.NewString(), At: last.Add(-time.Duration(benchAuditEvents-1-i) * every),
					ActorID: &actor, Action: action, Entity: entity, EntityID: &id, IP: "192.0.2.10"}
				if err := q.InsertAudit(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d audit events in %s", benchAuditEvents, time.Since(start).Round(time.Millisecond))
	return records[0]
}
