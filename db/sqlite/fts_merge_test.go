package sqlite

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// The merger's list is every FTS4 table of a migrated database: an index it
// did not know would merge inline again.
func TestFTSMergerKnowsEveryFullTextIndex(t *testing.T) {
	d, _ := groupStore(t, Options{})
	rows, err := d.reader.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%USING fts4%' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(slices.Values(ftsTables))
	if !slices.Equal(names, want) {
		t.Fatalf("FTS4 tables %v, the merger knows %v", names, want)
	}
}

// mostSegments is the most segments a level of the FTS4 table t holds.
func mostSegments(t *testing.T, d *Store, table string) int {
	t.Helper()
	n, _, err := d.ftsMergeWork(context.Background(), table)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// newListEvent is the event of a list by actor, at at, that served records
// new records of one patient, as audit.Writer writes them.
func newListEvent(actor string, at time.Time, records int) model.AuditEvent {
	owner := uuid.NewString()
	e := model.AuditEvent{ID: uuid.NewString(), At: at, ActorID: &actor, Entity: model.EntityRecord, IP: "192.0.2.1",
		Action: model.ActionRecordList, Detail: []byte(`{"page":1,"page_size":20}`)}
	for range records {
		e.RecordIDs = append(e.RecordIDs, uuid.NewString())
		e.SubjectIDs = append(e.SubjectIDs, owner)
	}
	return e
}

// appendListEvent appends one event of a list that served a new record of
// its own, in a transaction of its own, indexes it as the audit indexer's
// step does, in another, and returns the record's id: every call adds a
// segment to audit_index.
func appendListEvent(t *testing.T, d *Store, actor string, i int) string {
	t.Helper()
	ctx := context.Background()
	e := newListEvent(actor, time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC), 1)
	if err := d.Write(ctx, func(tx db.Tx) error { return tx.InsertAudits(ctx, []model.AuditEvent{e}) }); err != nil {
		t.Fatal(err)
	}
	if n, err := d.indexAuditTail(ctx, auditIndexStep); err != nil || n != 1 {
		t.Fatalf("indexing the event: %d events, %v", n, err)
	}
	return e.RecordIDs[0]
}

// Merging between commits keeps every level of the trail's index below the
// merge threshold, where FTS4 never merges inside a commit, and the index
// answers as before: every record served is found with its one event. The
// same commits without merging pile up a level's segments.
func TestFTSMergerKeepsLevelsBelowTheInlineMerge(t *testing.T) {
	d, actor := groupStore(t, Options{})
	ctx := context.Background()
	const commits = 60
	var served []string
	for i := range commits {
		served = append(served, appendListEvent(t, d, actor, i))
		for {
			worked, err := d.mergeFTS(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !worked {
				break
			}
		}
		for _, table := range ftsTables {
			if n := mostSegments(t, d, table); n >= ftsMergeSegments {
				t.Fatalf("after commit %d, a level of %s holds %d segments, want fewer than %d", i, table, n, ftsMergeSegments)
			}
		}
	}
	for _, id := range served {
		events, n, err := d.Read().ListAudit(ctx, db.AuditFilter{EntityID: id, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 || len(events) != 1 || !slices.Contains(events[0].RecordIDs, id) {
			t.Fatalf("record %s: %d events (%d listed), want its one list event", id, n, len(events))
		}
	}

	control, actor := groupStore(t, Options{})
	for i := range ftsMergeSegments + 1 {
		appendListEvent(t, control, actor, i)
	}
	if n := mostSegments(t, control, "audit_index"); n < ftsMergeSegments {
		t.Fatalf("without merging a level holds %d segments after %d commits: the check above cannot fail", n, ftsMergeSegments+1)
	}
}

// The store's own merger does that work in the background, and Close stops
// it.
func TestFTSMergerRunsInTheBackground(t *testing.T) {
	d, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "merge.db"), FTSMergeInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	actor := uuid.NewString()
	for i := range 3 * ftsMergeSegments {
		appendListEvent(t, d, actor, i)
	}
	for deadline := time.Now().Add(10 * time.Second); mostSegments(t, d, "audit_index") >= ftsMergeSegments; {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s a level still holds %d segments", mostSegments(t, d, "audit_index"))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.merger.done:
	default:
		t.Fatal("Close returned with the merger running")
	}
}

// A store opened to take a backup changes nothing, merges included.
func TestFTSMergerDoesNotRunWithSkipMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "merge.db")
	d, err := Open(context.Background(), Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	backup, err := Open(context.Background(), Options{Path: path, SkipMigrations: true})
	if err != nil {
		t.Fatal(err)
	}
	defer backup.Close()
	if backup.merger != nil {
		t.Fatal("the merger runs on a store opened with SkipMigrations")
	}
}

// totalSegments is how many segments the FTS4 table t holds on all its
// levels.
func totalSegments(t *testing.T, d *Store, table string) int {
	t.Helper()
	var n int
	if err := d.reader.QueryRow(`SELECT count(*) FROM ` + table + `_segdir`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A bulk load (anavara db copy) leaves the records' full-text index in
// one segment, not in the several a load of that size writes, which the
// merger would otherwise rewrite among the first requests and every
// search read until then; and the index still finds every record. (The
// trail's index goes through the same optimize; events to import need a
// chain of hashes, which this test does not build.)
func TestImportLeavesTheSearchIndexInOneSegment(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "copy.db"), FTSMergeInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	owner := db.UserRow{User: model.User{ID: uuid.NewString(), Email: "p@example.org", FirstName: "Pat", LastName: "Ient",
		IsActive: true, Created: time.Unix(0, 0).UTC(), Updated: time.Unix(0, 0).UTC()}, PasswordHash: "x"}
	// Words of their own for every record: enough terms to fill FTS4's
	// pending buffer several times over.
	const n = 3000
	words := func(k int) string {
		w := make([]string, k)
		for i := range w {
			w[i] = "w" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
		}
		return strings.Join(w, " ")
	}
	records := make([]model.MedicalRecord, n)
	for i := range records {
		at := time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC)
		records[i] = model.MedicalRecord{ID: uuid.NewString(), UserID: owner.ID,
			PatientName: "Pat " + words(4), DateOfBirth: model.NewDate(1980, 1, 1),
			Diagnosis: words(12), Treatment: "Rest", DateOfTreatment: model.NewDate(2026, 1, 1),
			Doctor: "Dr. " + words(4), Created: at, Updated: at, Version: 1}
	}
	err = d.Import(ctx, func(tx db.ImportTx) error {
		if err := tx.Users(ctx, []db.UserRow{owner}); err != nil {
			return err
		}
		if err := tx.MedicalRecords(ctx, records); err != nil {
			return err
		}
		return tx.Recount(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := totalSegments(t, d, "record_search"); got != 1 {
		t.Errorf("record_search holds %d segments after the import, want 1", got)
	}
	for _, i := range []int{0, n / 2, n - 1} {
		r := records[i]
		q := strings.Fields(r.Diagnosis)[7]
		rows, total, err := d.Read().ListRecords(ctx, db.RecordFilter{Search: q, Limit: 20})
		if err != nil || total != 1 || len(rows) != 1 || rows[0].ID != r.ID {
			t.Errorf("search %q: %d rows, total %d, %v; want record %d", q, len(rows), total, err, i)
		}
	}
}
