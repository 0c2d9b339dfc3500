package sqlite

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// indexedThrough is audit_index_through's seq.
func indexedThrough(t *testing.T, d *Store) int64 {
	t.Helper()
	var seq int64
	if err := d.reader.QueryRow(`SELECT seq FROM audit_index_through`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	return seq
}

// "Who saw record X" and every account's access log, narrowed to a record
// or not, answer the same whether the events are indexed, not yet indexed,
// or some of each: the lookups read audit_index through
// audit_index_through and the trail after it, each event once.
func TestAuditLookupsAnswerTheSameWhateverTheIndexerReached(t *testing.T) {
	ctx := context.Background()
	d, staff := groupStore(t, Options{}) // the indexer is off: the test moves it
	patients := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	owner := map[string]string{}
	var recs []string
	for i := range 8 {
		id := uuid.NewString()
		owner[id] = patients[i%len(patients)]
		recs = append(recs, id)
	}
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var events []model.AuditEvent
	add := func(actor, action, entity, entityID string, records []string, subjects ...string) {
		at = at.Add(time.Second)
		e := model.AuditEvent{ID: uuid.NewString(), At: at, ActorID: &actor, Action: action, Entity: entity,
			IP: "192.0.2.1", RecordIDs: records, SubjectIDs: subjects}
		if entityID != "" {
			e.EntityID = &entityID
		}
		if len(subjects) == 0 {
			for _, r := range records {
				e.SubjectIDs = append(e.SubjectIDs, owner[r])
			}
		}
		events = append(events, e)
	}
	add(staff, model.ActionRecordCreate, model.EntityRecord, recs[0], nil, owner[recs[0]])
	add(staff, model.ActionRecordList, model.EntityRecord, "", []string{recs[0], recs[1], recs[2], recs[3]})
	add(patients[0], model.ActionRecordList, model.EntityRecord, "", []string{recs[0], recs[3]})
	add(staff, model.ActionRecordRead, model.EntityRecord, recs[4], []string{recs[4]})
	add(staff, model.ActionRecordSearch, model.EntityRecord, "", []string{recs[3], recs[4], recs[0]})
	add(patients[1], model.ActionLogin, model.EntityUser, patients[1], nil)
	add(staff, model.ActionUserUpdate, model.EntityUser, patients[2], nil, patients[2])
	add(staff, model.ActionPopulationExport, model.EntityDatabase, "", nil)
	add(staff, model.ActionRecordRead, model.EntityRecord, recs[0], []string{recs[0]})
	add(staff, model.ActionRecordList, model.EntityRecord, "", []string{recs[5], recs[6], recs[7], recs[0]})
	if err := d.Write(ctx, func(tx db.Tx) error { return tx.InsertAudits(ctx, events) }); err != nil {
		t.Fatal(err)
	}

	check := func(stage string) {
		t.Helper()
		for _, r := range recs {
			es, n, err := d.Read().ListAudit(ctx, db.AuditFilter{EntityID: r, Limit: 100})
			if want := aboutOrServed(events, r); err != nil || n != len(want) || len(es) != len(want) || !maps.Equal(eventIDs(es), want) {
				t.Errorf("%s: events of record %s: %v (%d listed, total %d, %v), want %v", stage, r, eventIDs(es), len(es), n, err, want)
			}
			// Narrowed further, and a page at a time.
			es, n, err = d.Read().ListAudit(ctx, db.AuditFilter{EntityID: r, Action: model.ActionRecordList, Limit: 1})
			want := 0
			for _, e := range events {
				if e.Action == model.ActionRecordList && slices.Contains(e.RecordIDs, r) {
					want++
				}
			}
			if err != nil || n != want || len(es) != min(want, 1) {
				t.Errorf("%s: list events of record %s: %d listed, total %d, %v; want %d", stage, r, len(es), n, err, want)
			}
		}
		for _, p := range append(slices.Clone(patients), staff) {
			for _, r := range append([]string{""}, recs...) {
				es, n, err := d.Read().AccessLog(ctx, db.AccessLogFilter{SubjectID: p, RecordID: r, Limit: 100})
				if want := accessLogOf(events, p, r); err != nil || n != len(want) || len(es) != len(want) || !maps.Equal(eventIDs(es), want) {
					t.Errorf("%s: access log of %s, record %q: %v (total %d, %v), want %v", stage, p, r, eventIDs(es), n, err, want)
				}
			}
		}
	}

	if got := indexedThrough(t, d); got != 0 {
		t.Fatalf("indexed through %d before any step", got)
	}
	check("none indexed")
	for _, step := range []int{3, 4} {
		if n, err := d.indexAuditTail(ctx, step); err != nil || n != step {
			t.Fatalf("a step of %d: %d events, %v", step, n, err)
		}
		check(fmt.Sprintf("indexed through %d", indexedThrough(t, d)))
	}
	if n, err := d.indexAuditTail(ctx, auditIndexStep); err != nil || n != len(events)-7 {
		t.Fatalf("the last step: %d events, %v; want %d", n, err, len(events)-7)
	}
	if got := indexedThrough(t, d); got != int64(len(events)) {
		t.Fatalf("indexed through %d, want the head, %d", got, len(events))
	}
	check("all indexed")
	if n, err := d.indexAuditTail(ctx, auditIndexStep); err != nil || n != 0 {
		t.Fatalf("a step with nothing to index: %d events, %v", n, err)
	}
}

// An event's ids are packed 16 bytes each, so the bytes of an id can occur
// in another event's list across two of its ids. Neither the index nor
// the lookups of the events after it take that for the id.
func TestAuditTailIgnoresBytesAcrossTwoIDs(t *testing.T) {
	ctx := context.Background()
	d, staff := groupStore(t, Options{})
	a, b := uuid.New(), uuid.New()
	var across uuid.UUID
	copy(across[:8], a[8:])
	copy(across[8:], b[:8])
	e := model.AuditEvent{ID: uuid.NewString(), At: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), ActorID: &staff,
		Action: model.ActionRecordList, Entity: model.EntityRecord, IP: "192.0.2.1",
		RecordIDs: []string{a.String(), b.String()}, SubjectIDs: []string{a.String(), b.String()}}
	if err := d.Write(ctx, func(tx db.Tx) error { return tx.InsertAudit(ctx, e) }); err != nil {
		t.Fatal(err)
	}
	for _, stage := range []string{"not indexed", "indexed"} {
		es, n, err := d.Read().ListAudit(ctx, db.AuditFilter{EntityID: across.String(), Limit: 10})
		if err != nil || n != 0 || len(es) != 0 {
			t.Errorf("%s: events of %s, the bytes across two records: %d (total %d, %v), want none", stage, across, len(es), n, err)
		}
		es, n, err = d.Read().AccessLog(ctx, db.AccessLogFilter{SubjectID: across.String(), Limit: 10})
		if err != nil || n != 0 || len(es) != 0 {
			t.Errorf("%s: access log of %s, the bytes across two accounts: %d (total %d, %v), want none", stage, across, len(es), n, err)
		}
		// The ids themselves are found.
		es, n, err = d.Read().ListAudit(ctx, db.AuditFilter{EntityID: b.String(), Limit: 10})
		if err != nil || n != 1 || len(es) != 1 {
			t.Errorf("%s: events of %s: %d (total %d, %v), want the list", stage, b, len(es), n, err)
		}
		if _, err := d.indexAuditTail(ctx, auditIndexStep); err != nil {
			t.Fatal(err)
		}
	}
}

// The store's indexer reaches the trail's head in the background, in
// steps of auditIndexStep, and Close stops it; a store opened for a backup
// runs none.
func TestAuditIndexerRunsInTheBackground(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "indexer.db")
	d, err := Open(ctx, Options{Path: path, AuditIndexInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	actor := uuid.NewString()
	events := make([]model.AuditEvent, 2*auditIndexStep+10)
	for i := range events {
		events[i] = newListEvent(actor, time.Date(2026, 1, 1, 0, 0, 0, i, time.UTC), 2)
	}
	if err := d.Write(ctx, func(tx db.Tx) error { return tx.InsertAudits(ctx, events) }); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); indexedThrough(t, d) < int64(len(events)); {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s indexed through %d of %d events", indexedThrough(t, d), len(events))
		}
		time.Sleep(5 * time.Millisecond)
	}
	// In the index itself, not only through the trail's newest events.
	for _, e := range []model.AuditEvent{events[0], events[len(events)-1]} {
		var docid int64
		if err := d.reader.QueryRow(`SELECT docid FROM audit_index WHERE records MATCH ?`, recordTerm(e.RecordIDs[1])).Scan(&docid); err != nil {
			t.Fatalf("record %s in audit_index: %v", e.RecordIDs[1], err)
		}
		if err := d.reader.QueryRow(`SELECT docid FROM audit_index WHERE subjects MATCH ?`, recordTerm(e.SubjectIDs[0])).Scan(&docid); err != nil {
			t.Fatalf("account %s in audit_index: %v", e.SubjectIDs[0], err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.indexer.done:
	default:
		t.Fatal("Close returned with the indexer running")
	}

	backup, err := Open(ctx, Options{Path: path, SkipMigrations: true})
	if err != nil {
		t.Fatal(err)
	}
	defer backup.Close()
	if backup.indexer != nil {
		t.Fatal("the indexer runs on a store opened with SkipMigrations")
	}
}

// An event whose ids do not parse, which only a trail changed behind the
// code's back holds, is passed over, not a place where the indexer stops
// for good: the events after it are indexed.
func TestAuditIndexerPassesOverIDsThatDoNotParse(t *testing.T) {
	ctx := context.Background()
	d, staff := groupStore(t, Options{})
	first := newListEvent(staff, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 2)
	if err := d.Write(ctx, func(tx db.Tx) error { return tx.InsertAudit(ctx, first) }); err != nil {
		t.Fatal(err)
	}
	// Appended as the code never writes it: subject ids in no format.
	if _, err := d.writer.ExecContext(ctx, `INSERT INTO audit_events (`+auditColumns+`)
		SELECT lower(hex(randomblob(16))), at + 1, actor_id, action, entity, entity_id, ip, detail, record_ids, via,
			x'07', seq + 1, hash, hash, token_id FROM audit_events WHERE seq = 1`); err != nil {
		t.Fatal(err)
	}
	last := newListEvent(staff, time.Date(2026, 1, 1, 0, 0, 5, 0, time.UTC), 2)
	if err := d.Write(ctx, func(tx db.Tx) error { return tx.InsertAudit(ctx, last) }); err != nil {
		t.Fatal(err)
	}
	if n, err := d.indexAuditTail(ctx, auditIndexStep); err != nil || n != 3 {
		t.Fatalf("indexed %d events, %v; want 3", n, err)
	}
	if got := indexedThrough(t, d); got != 3 {
		t.Fatalf("indexed through %d, want 3", got)
	}
	var docid int64
	if err := d.reader.QueryRow(`SELECT docid FROM audit_index WHERE subjects MATCH ?`, recordTerm(last.SubjectIDs[0])).Scan(&docid); err != nil || docid != 3 {
		t.Fatalf("the event after the malformed one in audit_index: docid %d, %v", docid, err)
	}
	// Its records parse, and are indexed.
	if err := d.reader.QueryRow(`SELECT count(*) FROM audit_index WHERE records MATCH ?`, recordTerm(first.RecordIDs[0])).Scan(&docid); err != nil || docid != 2 {
		t.Fatalf("documents of a record the malformed event served too: %d, %v; want 2", docid, err)
	}
}

// An idle store's indexer writes nothing: with every event indexed, its
// ticks commit no transaction, empty or not.
func TestAuditIndexerIsQuietWhenIdle(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "idle.db"), AuditIndexInterval: time.Millisecond, FTSMergeInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	actor := uuid.NewString()
	e := newListEvent(actor, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 2)
	if err := d.Write(ctx, func(tx db.Tx) error { return tx.InsertAudit(ctx, e) }); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); indexedThrough(t, d) < 1; {
		if time.Now().After(deadline) {
			t.Fatal("after 10 s the event is not indexed")
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // the tick that finds nothing
	before := d.commits.Load()
	time.Sleep(50 * time.Millisecond) // about 50 ticks
	if after := d.commits.Load(); after != before {
		t.Fatalf("%d commits while idle", after-before)
	}
}
