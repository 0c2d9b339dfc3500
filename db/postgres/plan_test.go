package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/model"
)

// A keyset page (db.Seek) reads the ordering's index from its position:
// the row comparison (key, id) > (…) is the index scan's condition, and
// nothing is sorted, either way, for the records' orderings and the audit
// trail's (at, id).
func TestKeysetPagesReadAnIndexRange(t *testing.T) {
	s, url := openStore(t)
	ctx := context.Background()
	u := createUser(t, s, "plans@example.org")
	write(t, s, func(ctx context.Context, tx db.Tx) error {
		for i := range 3000 {
			r := model.MedicalRecord{ID: uuid.NewString(), UserID: u.ID, PatientName: "Patient " + uuid.NewString()[:8],
				DateOfBirth: model.NewDate(1980, 1, 1), Diagnosis: "Flu", DateOfTreatment: model.NewDate(2031, 1, 1+i%28),
				Doctor: "Dr. House", Created: base.Add(time.Duration(i) * time.Second), Updated: base.Add(time.Duration(3000-i) * time.Second)}
			if err := tx.CreateRecord(ctx, r); err != nil {
				return err
			}
		}
		es := make([]model.AuditEvent, 3000)
		for i := range es {
			es[i] = model.AuditEvent{ID: uuid.NewString(), At: base.Add(time.Duration(i) * time.Millisecond), ActorID: &u.ID,
				Action: model.ActionRecordRead, Entity: model.EntityRecord, IP: "192.0.2.1"}
		}
		return tx.InsertAudits(ctx, es)
	})
	c := connect(t, url)
	if _, err := c.Exec(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, plan string) {
		t.Helper()
		if !strings.Contains(plan, "Index Cond: (ROW(") || strings.Contains(plan, "Sort") || strings.Contains(plan, "Seq Scan") {
			t.Errorf("keyset page does not read an index range:\n%s", plan)
		}
	}
	mid := model.MedicalRecord{ID: uuid.NewString(), Created: base.Add(time.Hour), Updated: base.Add(time.Hour),
		DateOfTreatment: model.NewDate(2031, 1, 14), PatientName: "Patient 8"}
	for _, ordering := range model.RecordOrderings {
		for _, o := range []string{ordering, "-" + ordering} {
			for _, backward := range []bool{false, true} {
				f := db.RecordFilter{Ordering: o, Limit: 20, Seek: &db.Seek{Position: db.RecordPosition(o, mid), Backward: backward}}
				query, args, err := postgres.RecordPageSQL(f)
				if err != nil {
					t.Fatal(err)
				}
				t.Run(o, func(t *testing.T) { check(t, explainPlan(t, c, query, args...)) })
			}
		}
	}
	for _, f := range []db.AuditFilter{{}, {ActorID: u.ID}} {
		for _, backward := range []bool{false, true} {
			f.Limit, f.Seek = 20, &db.Seek{Position: db.Position{Key: base.Add(time.Second), ID: uuid.NewString()}, Backward: backward}
			query, args, err := postgres.AuditPageSQL(f)
			if err != nil {
				t.Fatal(err)
			}
			t.Run("audit", func(t *testing.T) { check(t, explainPlan(t, c, query, args...)) })
		}
	}
}

// A search reads each query word's statistics from one range of
// search_word_counts' key (search_word_counts.go), never the whole table,
// however many words it holds.
func TestSearchWordStatsReadAKeyRange(t *testing.T) {
	_, url := openStore(t)
	ctx := context.Background()
	c := connect(t, url)
	if _, err := c.Exec(ctx, `INSERT INTO search_word_counts (word, records)
		SELECT 'w' || i, i FROM generate_series(1, 20000) AS i`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `ANALYZE search_word_counts`); err != nil {
		t.Fatal(err)
	}
	plan := explainPlan(t, c, postgres.SearchWordStatsSQL, []string{"w12", "kim"}, postgres.MaxRune)
	if !strings.Contains(plan, "search_word_counts_pkey") || !strings.Contains(plan, "Index Cond: ((word >= q.w) AND (word < (q.w ||") ||
		strings.Contains(plan, "Seq Scan on search_word_counts") {
		t.Errorf("the word statistics do not read a range of the key:\n%s", plan)
	}
}

// A search by pairs of whole words (addIndexSearch) reads the GIN index
// twice, the pairs and the records of many words, and ORs the two
// bitmaps, planned for its parameters or generically: never one scan of
// every word's posting list, nor a scan of the table.
func TestSearchByPairsReadsTwoBitmaps(t *testing.T) {
	s, url := openStore(t)
	ctx := context.Background()
	u := createUser(t, s, "pairs@example.org")
	c := connect(t, url)
	// Enough records that reading the table would cost more than the
	// index: written here as db.RecordSearchWords writes them.
	if _, err := c.Exec(ctx, `INSERT INTO medical_records (id, user_id, patient_name, date_of_birth, diagnosis, treatment,
			date_of_treatment, doctor, patient_name_key, doctor_key, search_words, created, updated)
		SELECT gen_random_uuid(), $1, 'Patient P' || i, '1980-01-01', d, '', '2031-01-01', doctor, 'patient p' || i,
			lower(doctor), 'patient p' || i || ' dr ' || lower(substr(doctor, 5)) || ' ' || lower(d), now(), now()
		FROM generate_series(1, 50000) AS i,
			LATERAL (SELECT CASE WHEN i % 100 = 0 THEN 'Gout' ELSE 'Flu' END AS d,
				CASE WHEN i % 2 = 0 THEN 'Dr. Okafor' ELSE 'Dr. House' END AS doctor) AS v`, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	cond, args := postgres.IndexSearchWhere([]string{"okaf", "gout"}, []string{"okafor", "gout"})
	query := `SELECT id FROM medical_records` + cond
	for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
		t.Run(mode, func(t *testing.T) {
			tx, err := c.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = `+mode); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, `PREPARE paired (tsquery, tsquery) AS `+query); err != nil {
				t.Fatal(err)
			}
			defer c.Exec(ctx, `DEALLOCATE paired`)
			literal := func(a any) string { return `'` + strings.ReplaceAll(a.(string), `'`, `''`) + `'` }
			plan := explainPlan(t, tx, `EXECUTE paired (`+literal(args[0])+`, `+literal(args[1])+`)`)
			if !strings.Contains(plan, "BitmapOr") || strings.Count(plan, "Bitmap Index Scan on medical_records_search") != 2 ||
				strings.Contains(plan, "Seq Scan") {
				t.Errorf("a search by pairs does not OR two bitmaps of the search index:\n%s", plan)
			}
			var found int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM medical_records`+cond, args...).Scan(&found); err != nil || found != 500 {
				t.Errorf("%d records found by pairs, %v; want 500", found, err)
			}
		})
	}
}

// explainPlan is EXPLAIN's plan of query with args on q, a line a node.
func explainPlan(t *testing.T, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, query string, args ...any) string {
	t.Helper()
	rows, err := q.Query(context.Background(), "EXPLAIN "+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	return strings.Join(lines, "\n")
}
