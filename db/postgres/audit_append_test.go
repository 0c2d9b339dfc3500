package postgres_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/postgres/pgtest"
	"github.com/anavara/anavara/model"
)

// TestAppendAuditsIsAtomicOverEitherProtocol: AppendAudits sends no BEGIN
// and relies on PostgreSQL running what comes before one Sync as one
// implicit transaction. pgx sends a batch as an extended-protocol pipeline
// with one Sync, or, with default_query_exec_mode=simple_protocol (as some
// poolers need), as one multi-statement query, which is one implicit
// transaction too. Either way a batch whose second event the database
// refuses (an event already stored) must leave its first out as well, and
// the chain must go on from the last batch that landed.
func TestAppendAuditsIsAtomicOverEitherProtocol(t *testing.T) {
	for _, mode := range []string{"extended protocol", "simple protocol"} {
		t.Run(mode, func(t *testing.T) {
			url := pgtest.URL(t)
			if mode == "simple protocol" {
				url += "&default_query_exec_mode=simple_protocol"
			}
			s, err := postgres.Open(t.Context(), postgres.Options{URL: url})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx := t.Context()
			base := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
			ev := func(d time.Duration) model.AuditEvent {
				return model.AuditEvent{ID: uuid.NewString(), At: base.Add(d), Action: model.ActionRecordList, Entity: model.EntityRecord,
					IP: "192.0.2.20", Detail: []byte(`{"page":1}`), RecordIDs: []string{uuid.NewString()}, SubjectIDs: []string{uuid.NewString()}}
			}
			stored := ev(time.Second)
			if err := s.AppendAudits(ctx, []model.AuditEvent{stored}); err != nil {
				t.Fatal(err)
			}
			if err := s.AppendAudits(ctx, []model.AuditEvent{ev(2 * time.Second), stored}); err == nil {
				t.Fatal("a batch repeating a stored event was stored")
			}
			if _, n, err := s.Read().ListAudit(ctx, db.AuditFilter{Limit: 10}); err != nil || n != 1 {
				t.Fatalf("after the refused batch the trail holds %d events (%v), want 1", n, err)
			}
			if err := s.AppendAudits(ctx, []model.AuditEvent{ev(3 * time.Second), ev(4 * time.Second)}); err != nil {
				t.Fatal(err)
			}
			head, err := s.Read().AuditHead(ctx)
			if err != nil || head.Count != 3 {
				t.Fatalf("AuditHead = %+v, %v; want 3 events", head, err)
			}
		})
	}
}
