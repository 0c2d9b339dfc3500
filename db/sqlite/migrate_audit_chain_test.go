package sqlite

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/dbtest"
	"github.com/anavara/anavara/model"
)

// Migration 15 links the events already in the trail, oldest first, and
// gives them the subjects their rows still tell: the owner of a record
// read, of each record a list served (parallel to them while every owner
// is known), the account changed, none for a sign-in. The trail stays
// append-only, and the store goes on appending to the chain.
func TestAuditChainMigrationLinksExistingEvents(t *testing.T) {
	ctx := context.Background()
	conn, path := openAt(t, 14)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	a, b, staff := uuid.NewString(), uuid.NewString(), uuid.NewString()
	for i, id := range []string{a, b, staff} {
		exec(`INSERT INTO users (id, email, first_name, last_name, password_hash, is_staff, is_active, created, updated)
			VALUES (?, ?, 'U', 'Ser', 'x', ?, 1, 0, 0)`, id, id+"@example.org", i == 2)
	}
	recA, recB, gone := uuid.NewString(), uuid.NewString(), uuid.NewString()
	for _, r := range [][2]string{{recA, a}, {recB, b}} {
		exec(`INSERT INTO medical_records (id, user_id, patient_name, date_of_birth, diagnosis, treatment, date_of_treatment, doctor, created, updated, search_words)
			VALUES (?, ?, 'P', '1980-01-01', '', '', '2030-01-01', 'D', 0, 0, '')`, r[0], r[1])
	}
	ids := func(ids ...string) []byte {
		b, err := packIDs(nil, ids)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	type old struct {
		at               int64
		actor, action    string
		entity, entityID string
		records          []byte
		wantSubjects     []string
	}
	events := []old{
		{1, staff, model.ActionRecordRead, model.EntityRecord, recA, nil, []string{a}},
		{2, staff, model.ActionRecordList, model.EntityRecord, "", ids(recB, recA), []string{b, a}},
		{3, staff, model.ActionRecordList, model.EntityRecord, "", ids(recA, gone), []string{a}}, // an owner unknown: not parallel
		{4, staff, model.ActionUserUpdate, model.EntityUser, a, nil, []string{a}},
		{5, a, model.ActionLogin, model.EntityUser, a, nil, nil},
		{6, staff, model.ActionRecordDelete, model.EntityRecord, gone, nil, nil}, // gone: owner unknown
	}
	for _, e := range events {
		var entityID any
		if e.entityID != "" {
			entityID = e.entityID
		}
		var records any
		if e.records != nil {
			records = e.records
		}
		exec(`INSERT INTO audit_events (id, at, actor_id, action, entity, entity_id, ip, record_ids) VALUES (?, ?, ?, ?, ?, ?, '192.0.2.1', ?)`,
			uuid.NewString(), e.at, e.actor, e.action, e.entity, entityID, records)
	}
	if _, err := migrations(t, conn).Up(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `UPDATE audit_events SET ip = 'x'`); err == nil {
		t.Fatal("the trail is not append-only after the migration")
	}
	conn.Close()

	s, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	appended := model.AuditEvent{ID: uuid.NewString(), At: fromMicros(7), ActorID: &staff, Action: model.ActionRecordRead, Entity: model.EntityRecord, EntityID: &recB, IP: "192.0.2.2", SubjectIDs: []string{b}}
	if err := s.Write(ctx, func(tx db.Tx) error { return tx.InsertAudit(ctx, appended) }); err != nil {
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
		if i < len(events) {
			if micros(e.At) != events[i].at || e.Via != model.ViaAPI || !slices.Equal(e.SubjectIDs, events[i].wantSubjects) {
				t.Errorf("event %d (%s): at %d via %q subjects %v; want at %d via api subjects %v", i, e.Action, micros(e.At), e.Via, e.SubjectIDs, events[i].at, events[i].wantSubjects)
			}
		}
	}
	// The subjects found are indexed: a's access log.
	log, n, err := s.Read().AccessLog(ctx, db.AccessLogFilter{SubjectID: a, Limit: 10})
	if err != nil || n != 4 || len(log) != 4 {
		t.Fatalf("a's access log after the migration: %d events, total %d, %v", len(log), n, err)
	}
	if _, err := migrations(t, s.writer).DownTo(ctx, 14); err != nil {
		t.Fatalf("down to 14: %v", err)
	}
}
