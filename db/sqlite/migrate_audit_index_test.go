package sqlite

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/audit/chain"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/dbtest"
	"github.com/anavara/anavara/model"
)

// The audit index's migration replaces the two full-text indexes of
// migrations 14 and 15 with audit_index, filled from the events' own
// record_ids and subject_ids: a trail written at version 17, its events in
// both old indexes, gives the same answers after it to "who saw record X"
// (db.AuditFilter.EntityID) and to every account's access log, narrowed to
// a record or not; the chain is untouched; and the migration's Down gives
// the old indexes back, holding what they held.
func TestAuditIndexMigrationKeepsAnswers(t *testing.T) {
	ctx := context.Background()
	conn, path := openAt(t, 17)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	patients := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	staff := uuid.NewString()
	for i, id := range append(slices.Clone(patients), staff) {
		exec(`INSERT INTO users (id, email, first_name, last_name, password_hash, is_staff, is_active, created, updated)
			VALUES (?, ?, 'U', 'Ser', 'x', ?, 1, 0, 0)`, id, id+"@example.org", i == len(patients))
	}
	records := map[string]string{} // record → owner
	var recs []string
	for i := range 9 {
		id := uuid.NewString()
		records[id] = patients[i%len(patients)]
		recs = append(recs, id)
	}
	served := func(ids ...string) ([]string, []string) {
		var owners []string
		for _, id := range ids {
			owners = append(owners, records[id])
		}
		return ids, owners
	}
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var events []model.AuditEvent
	add := func(actor, action, entity, entityID string, recordIDs, subjects []string) {
		at = at.Add(time.Second)
		e := model.AuditEvent{ID: uuid.NewString(), At: at, ActorID: &actor, Action: action, Entity: entity,
			IP: "192.0.2.1", Via: model.ViaAPI, RecordIDs: recordIDs, SubjectIDs: subjects}
		if entityID != "" {
			e.EntityID = &entityID
		}
		events = append(events, e)
	}
	list1, owners1 := served(recs[0], recs[1], recs[2], recs[3])
	list2, owners2 := served(recs[3], recs[4], recs[0])
	add(staff, model.ActionRecordCreate, model.EntityRecord, recs[0], nil, []string{records[recs[0]]})
	add(staff, model.ActionRecordList, model.EntityRecord, "", list1, owners1)
	add(patients[0], model.ActionRecordList, model.EntityRecord, "", []string{recs[0], recs[3]}, []string{patients[0], patients[0]})
	add(staff, model.ActionRecordRead, model.EntityRecord, recs[4], nil, []string{records[recs[4]]})
	add(staff, model.ActionRecordSearch, model.EntityRecord, "", list2, owners2)
	add(patients[1], model.ActionLogin, model.EntityUser, patients[1], nil, nil)
	add(staff, model.ActionUserUpdate, model.EntityUser, patients[2], nil, []string{patients[2]})
	add(staff, model.ActionPopulationExport, model.EntityDatabase, "", nil, nil)
	add(staff, model.ActionRecordRead, model.EntityRecord, recs[0], nil, []string{records[recs[0]]})
	// As the store wrote them at version 17: linked, in the trail, and in
	// both indexes.
	var seq int64
	prev := chain.Genesis
	for i := range events {
		seq++
		prev = chain.Link(&events[i], seq, prev)
		s, err := storedAuditOf(events[i])
		if err != nil {
			t.Fatal(err)
		}
		exec(insertAuditsSQL(1), s.values()...)
		if err := indexTerms(ctx, conn, `audit_record_index (records`, s, s.RecordIDs); err != nil {
			t.Fatal(err)
		}
		if err := indexTerms(ctx, conn, `audit_subject_index (subjects`, s, s.SubjectIDs); err != nil {
			t.Fatal(err)
		}
	}

	// The old indexes hold what the events say, so that the answers below
	// are the ones the trail gave before.
	oldIndex := func(table, column, id string) map[string]bool {
		t.Helper()
		rows, err := conn.QueryContext(ctx, `SELECT event_id FROM `+table+` WHERE `+column+` MATCH ?`, recordTerm(id))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[string]bool{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			got[id] = true
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	checkOld := func(stage string) {
		t.Helper()
		for _, r := range recs {
			want := map[string]bool{}
			for _, e := range events {
				if slices.Contains(e.RecordIDs, r) {
					want[e.ID] = true
				}
			}
			if got := oldIndex("audit_record_index", "records", r); !maps.Equal(got, want) {
				t.Errorf("%s: audit_record_index for record %s: %v, want %v", stage, r, got, want)
			}
		}
		for _, p := range append(slices.Clone(patients), staff) {
			want := map[string]bool{}
			for _, e := range events {
				if slices.Contains(e.SubjectIDs, p) {
					want[e.ID] = true
				}
			}
			if got := oldIndex("audit_subject_index", "subjects", p); !maps.Equal(got, want) {
				t.Errorf("%s: audit_subject_index for %s: %v, want %v", stage, p, got, want)
			}
		}
	}
	checkOld("at version 17")

	if _, err := migrations(t, conn).Up(ctx); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"audit_record_index", "audit_subject_index"} {
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = ?`, table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s after the migration: %d tables, %v", table, n, err)
		}
	}
	conn.Close()

	s, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkNew := func(stage string) {
		t.Helper()
		for _, r := range recs {
			es, n, err := s.Read().ListAudit(ctx, db.AuditFilter{EntityID: r, Limit: 100})
			if want := aboutOrServed(events, r); err != nil || n != len(want) || !maps.Equal(eventIDs(es), want) {
				t.Errorf("%s: events of record %s: %v (total %d, %v), want %v", stage, r, eventIDs(es), n, err, want)
			}
		}
		for _, p := range append(slices.Clone(patients), staff) {
			for _, r := range append([]string{""}, recs...) {
				es, n, err := s.Read().AccessLog(ctx, db.AccessLogFilter{SubjectID: p, RecordID: r, Limit: 100})
				if want := accessLogOf(events, p, r); err != nil || n != len(want) || !maps.Equal(eventIDs(es), want) {
					t.Errorf("%s: access log of %s, record %q: %v (total %d, %v), want %v", stage, p, r, eventIDs(es), n, err, want)
				}
			}
		}
	}
	checkNew("migrated")

	// The chain is as it was, and the store goes on indexing what it
	// appends.
	at = at.Add(time.Second)
	later := model.AuditEvent{ID: uuid.NewString(), At: at, ActorID: &staff, Action: model.ActionRecordList, Entity: model.EntityRecord,
		IP: "192.0.2.2", RecordIDs: []string{recs[5], recs[6]}, SubjectIDs: []string{records[recs[5]], records[recs[6]]}}
	if err := s.Write(ctx, func(tx db.Tx) error { return tx.InsertAudit(ctx, later) }); err != nil {
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
	for i, e := range events {
		if chained[i].Hash != e.Hash {
			t.Errorf("event %d: hash %s, want %s as before the migration", i+1, chained[i].Hash, e.Hash)
		}
	}
	events = append(events, chained[len(chained)-1])
	checkNew("appended")

	if _, err := migrations(t, s.writer).DownTo(ctx, 17); err != nil {
		t.Fatalf("down to 17: %v", err)
	}
	conn = s.writer
	checkOld("down to 17")
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'audit_index'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("audit_index after the Down: %d tables, %v", n, err)
	}
}
