package postgres_test

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pressly/goose/v3"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/dbtest"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/postgres/pgtest"
	"github.com/anavara/anavara/model"
)

// Migrations 7 and 8 link the events already in the trail, oldest first,
// with the subjects their rows still tell, as on SQLite; the trail stays
// append-only and the store goes on appending to the chain.
func TestAuditChainMigrationLinksExistingEvents(t *testing.T) {
	ctx := context.Background()
	url := pgtest.EmptyURL(t)
	conn, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, conn, postgres.Migrations(), goose.WithGoMigrations(postgres.GoMigrations()...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 6); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	a, b, staff := uuid.NewString(), uuid.NewString(), uuid.NewString()
	for _, id := range []string{a, b, staff} {
		exec(`INSERT INTO users (id, email, first_name, last_name, password_hash, created, updated) VALUES ($1, $2, 'U', 'Ser', 'x', now(), now())`, id, id+"@example.org")
	}
	recA, recB, gone := uuid.NewString(), uuid.NewString(), uuid.NewString()
	for _, r := range [][2]string{{recA, a}, {recB, b}} {
		exec(`INSERT INTO medical_records (id, user_id, patient_name, patient_name_key, date_of_birth, date_of_treatment, doctor, doctor_key, search_words, created, updated)
			VALUES ($1, $2, 'P', 'p', '1980-01-01', '2030-01-01', 'D', 'd', '', now(), now())`, r[0], r[1])
	}
	type old struct {
		sec              int
		actor, action    string
		entity, entityID string
		records          string // a uuid[] literal, '' for NULL
		wantSubjects     []string
	}
	events := []old{
		{1, staff, model.ActionRecordRead, model.EntityRecord, recA, "", []string{a}},
		{2, staff, model.ActionRecordList, model.EntityRecord, "", "{" + recB + "," + recA + "}", []string{b, a}},
		{3, staff, model.ActionRecordList, model.EntityRecord, "", "{" + recA + "," + gone + "}", []string{a}},
		{4, staff, model.ActionUserUpdate, model.EntityUser, a, "", []string{a}},
		{5, a, model.ActionLogin, model.EntityUser, a, "", nil},
	}
	for _, e := range events {
		exec(`INSERT INTO audit_events (id, at, actor_id, action, entity, entity_id, ip, record_ids)
			VALUES ($1, timestamptz '2030-01-01 00:00:00+00' + make_interval(secs => $2), $3, $4, $5, nullif($6, ''), '192.0.2.1', nullif($7, '')::uuid[])`,
			uuid.NewString(), e.sec, e.actor, e.action, e.entity, e.entityID, e.records)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `UPDATE audit_events SET ip = 'x'`); err == nil {
		t.Fatal("the trail is not append-only after the migration")
	}
	s, err := postgres.Open(ctx, postgres.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Write(ctx, func(tx db.Tx) error {
		return tx.InsertAudit(ctx, model.AuditEvent{ID: uuid.NewString(), At: time.Date(2030, 1, 1, 0, 0, 9, 0, time.UTC), ActorID: &staff, Action: model.ActionRecordRead, Entity: model.EntityRecord, EntityID: &recB, IP: "192.0.2.2", SubjectIDs: []string{b}})
	}); err != nil {
		t.Fatal(err)
	}
	var chained []model.AuditEvent
	if err := s.Snapshot(ctx, func(snap db.Snapshot) error {
		return snap.EachAudit(ctx, func(e model.AuditEvent) error { chained = append(chained, e); return nil })
	}); err != nil {
		t.Fatal(err)
	}
	if len(chained) != len(events)+1 {
		t.Fatalf("%d events in the chain, want %d", len(chained), len(events)+1)
	}
	dbtest.CheckLinks(t, chained)
	for i, e := range chained {
		if i < len(events) && (e.Via != model.ViaAPI || !slices.Equal(e.SubjectIDs, events[i].wantSubjects)) {
			t.Errorf("event %d (%s): via %q subjects %v; want api %v", i, e.Action, e.Via, e.SubjectIDs, events[i].wantSubjects)
		}
	}
	if log, n, err := s.Read().AccessLog(ctx, db.AccessLogFilter{SubjectID: a, Limit: 10}); err != nil || n != 4 || len(log) != 4 {
		t.Fatalf("a's access log after the migration: %d events, total %d, %v", len(log), n, err)
	}
}
