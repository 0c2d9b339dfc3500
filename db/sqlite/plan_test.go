package sqlite

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// queryPlan returns SQLite's plan for query, one detail line per step.
func queryPlan(t *testing.T, d *Store, query string, args ...any) string {
	t.Helper()
	rows, err := d.reader.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	return strings.Join(lines, "\n")
}

// Every list the API serves reads an index in the order it returns rows:
// no step scans a whole table to filter it or sorts the matches, which on a
// million records costs hundreds of milliseconds instead of a fraction of
// one. The search reads its own index (record_search) too.
func TestListQueriesUseIndexes(t *testing.T) {
	d, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	day := model.NewDate(2026, 5, 1)
	since := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

	records := []struct {
		name string
		f    db.RecordFilter
		// sorts is true where sorting the matches is expected: one
		// patient's records in an order no index of theirs keeps.
		sorts bool
	}{
		{name: "staff, newest first", f: db.RecordFilter{}},
		{name: "staff, oldest first", f: db.RecordFilter{Ordering: "created"}},
		{name: "staff, by updated", f: db.RecordFilter{Ordering: "-updated"}},
		{name: "staff, by treatment date", f: db.RecordFilter{Ordering: "date_of_treatment"}},
		{name: "staff, by patient name", f: db.RecordFilter{Ordering: "patient_name"}},
		{name: "staff, by patient name descending", f: db.RecordFilter{Ordering: "-patient_name"}},
		{name: "patient, newest first", f: db.RecordFilter{UserID: "u"}},
		{name: "patient, oldest first", f: db.RecordFilter{UserID: "u", Ordering: "created"}},
		{name: "patient, by patient name", f: db.RecordFilter{UserID: "u", Ordering: "patient_name"}, sorts: true},
		{name: "doctor", f: db.RecordFilter{Doctor: "Dr. Who"}},
		{name: "treated after", f: db.RecordFilter{TreatedAfter: &day, Ordering: "date_of_treatment"}},
		{name: "treated between", f: db.RecordFilter{TreatedAfter: &day, TreatedBefore: &day, Ordering: "-date_of_treatment"}},
	}
	// A keyset page (db.Seek) reads the same index from its position,
	// either way: a row comparison is a range of (key, id).
	seeks := []struct {
		name string
		seek func(db.RecordFilter) *db.Seek
	}{
		{"", func(db.RecordFilter) *db.Seek { return nil }},
		{", after a position", func(f db.RecordFilter) *db.Seek {
			return &db.Seek{Position: db.RecordPosition(f.Ordering, model.MedicalRecord{ID: "r", Created: since, Updated: since, DateOfTreatment: day, PatientName: "Ann"})}
		}},
		{", before a position", func(f db.RecordFilter) *db.Seek {
			return &db.Seek{Position: db.RecordPosition(f.Ordering, model.MedicalRecord{ID: "r", Created: since, Updated: since, DateOfTreatment: day, PatientName: "Ann"}), Backward: true}
		}},
	}
	for _, tt := range records {
		for _, sk := range seeks {
			t.Run("records/"+tt.name+sk.name, func(t *testing.T) {
				tt.f.Seek = sk.seek(tt.f)
				recordPlan(t, d, tt.f, tt.sorts)
			})
		}
	}

	// A search reads the index either way planSearch chooses: looking
	// its few matches up by rowid (and sorting them), or walking the
	// ordering's index and probing the matches, which never sorts.
	for _, tt := range []struct {
		name string
		f    db.RecordFilter
		plan searchPlan
		want string
	}{
		{"lookup", db.RecordFilter{Search: "flu"}, searchLookup, "SEARCH medical_records USING INTEGER PRIMARY KEY"},
		{"probe", db.RecordFilter{Search: "flu"}, searchProbe, "SCAN medical_records USING INDEX medical_records_created"},
		{"probe by patient name", db.RecordFilter{Search: "flu", Ordering: "patient_name"}, searchProbe, "SCAN medical_records USING INDEX medical_records_patient_name"},
		{"probe a patient's", db.RecordFilter{Search: "flu", UserID: "u"}, searchProbe, "SEARCH medical_records USING INDEX medical_records_user_created"},
	} {
		t.Run("records/search "+tt.name, func(t *testing.T) {
			page, _, args, _, err := recordListSQL(tt.f, "flu*", tt.plan)
			if err != nil {
				t.Fatal(err)
			}
			plan := queryPlan(t, d, page, append(args, 20, 0)...)
			if !strings.Contains(plan, tt.want) || !strings.Contains(plan, "SCAN record_search VIRTUAL TABLE") {
				t.Errorf("page query plan, want %q and the index:\n%s", tt.want, plan)
			}
			if sorts := strings.Contains(plan, "TEMP B-TREE"); sorts != (tt.plan == searchLookup) {
				t.Errorf("page query sorts: %v:\n%s", sorts, plan)
			}
		})
	}

	audit := []struct {
		name string
		f    db.AuditFilter
	}{
		{name: "all", f: db.AuditFilter{}},
		{name: "actor", f: db.AuditFilter{ActorID: "a"}},
		{name: "entity", f: db.AuditFilter{EntityID: "6f1c2a4e-0b7d-4e1a-9c3f-2d5e8a7b9c01"}},
		{name: "action", f: db.AuditFilter{Action: model.ActionRecordRead}},
		{name: "since", f: db.AuditFilter{Since: &since}},
		{name: "entity since", f: db.AuditFilter{EntityID: "6f1c2a4e-0b7d-4e1a-9c3f-2d5e8a7b9c01", Since: &since}},
	}
	for _, tt := range audit {
		t.Run("audit/"+tt.name, func(t *testing.T) {
			count, page, args, countArgs, err := auditListSQL(tt.f)
			if err != nil {
				t.Fatal(err)
			}
			plan := queryPlan(t, d, page, append(args, 20, 0)...)
			// By entity, the events that served the record come from the
			// full-text index, unordered, and are sorted; the rest never.
			if sorts := strings.Contains(plan, "TEMP B-TREE"); sorts != (tt.f.EntityID != "") {
				t.Errorf("page query sorts: %v:\n%s", sorts, plan)
			}
			filtered := tt.f != db.AuditFilter{}
			if filtered && !strings.Contains(plan, "SEARCH e USING") {
				t.Errorf("filtered page query does not search an index:\n%s", plan)
			}
			// By entity, the events that served the record are one term of
			// audit_index, each event then found by its seq.
			if tt.f.EntityID != "" && (!strings.Contains(plan, "SCAN x VIRTUAL TABLE INDEX 2:") || !strings.Contains(plan, "SEARCH e USING INDEX audit_events_seq (seq=?")) {
				t.Errorf("page query by entity does not read the records' index:\n%s", plan)
			}
			// And the events after audit_index_through, a range of the seq
			// index.
			if tt.f.EntityID != "" && !strings.Contains(plan, "SEARCH e USING INDEX audit_events_seq (seq>?)") {
				t.Errorf("page query by entity does not read the newer events by seq:\n%s", plan)
			}
			// The whole trail and one action of it are counted in the
			// counts table; other filters count an index range.
			plan = queryPlan(t, d, count, countArgs...)
			// (FTS4's index 2 is a full-text match: one term's list.)
			rest := strings.NewReplacer("SCAN CONSTANT ROW", "", "SCAN x VIRTUAL TABLE INDEX 2:", "").Replace(plan)
			if strings.Contains(rest, "SCAN") || !strings.Contains(plan, "SEARCH") {
				t.Errorf("count query reads more than an index range:\n%s", plan)
			}
			if counted := tt.f.ActorID == "" && tt.f.EntityID == "" && tt.f.Since == nil; counted != strings.Contains(plan, "SEARCH counts") {
				t.Errorf("count query reads the counts table: %v, want %v:\n%s", !counted, counted, plan)
			}
		})
	}
}

// An account's access log is one term of audit_index's subjects, each
// event then found by its seq, and the events after audit_index_through,
// a range of the seq index, beside the population exports' range of the
// action index; narrowed to a record, the events that served it are one
// term of the records' column. Nothing scans the trail.
func TestAccessLogUsesItsIndexes(t *testing.T) {
	d, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	since := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	const subject, record = "6f1c2a4e-0b7d-4e1a-9c3f-2d5e8a7b9c01", "0b7d6f1c-2a4e-4e1a-9c3f-2d5e8a7b9c02"
	for _, f := range []db.AccessLogFilter{
		{SubjectID: subject},
		{SubjectID: subject, Since: &since},
		{SubjectID: subject, RecordID: record},
	} {
		count, page, args, countArgs, err := accessLogSQL(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{{page, append(args, 20, 0)}, {count, countArgs}} {
			plan := queryPlan(t, d, q.sql, q.args...)
			// FTS4's index 2 + n is a full-text match on column n: one
			// term's list (records are column 0, subjects 1).
			if !strings.Contains(plan, "SCAN x VIRTUAL TABLE INDEX 3:") || !strings.Contains(plan, "SEARCH e USING INDEX audit_events_seq (seq=?") {
				t.Errorf("%+v: does not read the subjects' index:\n%s", f, plan)
			}
			if f.RecordID != "" && !strings.Contains(plan, "SCAN audit_index VIRTUAL TABLE INDEX 2:") {
				t.Errorf("%+v: does not read the records' index:\n%s", f, plan)
			}
			if !strings.Contains(plan, "SEARCH e USING INDEX audit_events_seq (seq>?)") {
				t.Errorf("%+v: does not read the newer events by seq:\n%s", f, plan)
			}
			rest := strings.NewReplacer("SCAN CONSTANT ROW", "", "SCAN x VIRTUAL TABLE INDEX 3:", "", "SCAN audit_index VIRTUAL TABLE INDEX 2:", "").Replace(plan)
			if strings.Contains(rest, "SCAN") {
				t.Errorf("%+v: scans:\n%s", f, plan)
			}
		}
	}
}

// The reset-code worker's claim reads the outbox oldest first through its
// index, skipping leased rows there, rather than sorting the whole table;
// so does the poll that asks whether anything is due.
func TestResetClaimUsesItsIndex(t *testing.T) {
	d, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, q := range []struct {
		query string
		args  []any
	}{
		{`SELECT id FROM reset_requests WHERE claimed_until IS NULL OR claimed_until < ? ORDER BY requested_at LIMIT ?`, []any{1, 8}},
		{`SELECT EXISTS (SELECT 1 FROM reset_requests WHERE claimed_until IS NULL OR claimed_until < ?)`, []any{1}},
	} {
		plan := queryPlan(t, d, q.query, q.args...)
		if !strings.Contains(plan, "INDEX reset_requests_claim") || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s:\n%s", q.query, plan)
		}
	}
}

// recordPlan checks the plans of the page and count queries of f: no
// table scan, an index searched when a filter narrows the list, and a
// sort only where sorts says.
func recordPlan(t *testing.T, d *Store, f db.RecordFilter, sorts bool) {
	t.Helper()
	page, count, args, countArgs, err := recordListSQL(f, "", searchNone)
	if err != nil {
		t.Fatal(err)
	}
	plan := queryPlan(t, d, page, append(args, 20, 0)...)
	if strings.Contains(plan, "SCAN medical_records") && !strings.Contains(plan, "USING") {
		t.Errorf("page query scans the table:\n%s", plan)
	}
	if (f.UserID != "" || f.Doctor != "" || f.TreatedAfter != nil) && !strings.Contains(plan, "SEARCH medical_records USING") {
		t.Errorf("filtered page query does not search an index:\n%s", plan)
	}
	if sorted := strings.Contains(plan, "TEMP B-TREE"); sorted != sorts {
		t.Errorf("page query sorts: %v, want %v:\n%s", sorted, sorts, plan)
	}
	// A keyset page starts its index range at the position.
	if f.Seek != nil && !strings.Contains(plan, "SEARCH medical_records USING") {
		t.Errorf("keyset page query does not search an index:\n%s", plan)
	}
	if plan := queryPlan(t, d, count, countArgs...); strings.Contains(plan, "SCAN medical_records") && !strings.Contains(plan, "INDEX") {
		t.Errorf("count query scans the table:\n%s", plan)
	}
}

// A search looks each query word up in the word counts by its key's range
// (search_word_counts.go), never scanning the table.
func TestSearchTermsUseTheKey(t *testing.T) {
	d, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	plan := queryPlan(t, d, searchTermsSQL, maxAlternatives, wordsJSON([]string{"dr", "kim"}), maxRune)
	if !regexp.MustCompile(`SEARCH search_word_counts .*USING PRIMARY KEY \(word>\? AND word<\?\)`).MatchString(plan) || strings.Contains(plan, "SCAN search_word_counts") {
		t.Errorf("plan:\n%s", plan)
	}
}
