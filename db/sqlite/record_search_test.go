package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// searchTotal is the total of a records search on q.
func searchTotal(t *testing.T, q *queries, search string) int {
	t.Helper()
	_, total, err := q.ListRecords(context.Background(), db.RecordFilter{Search: search, Limit: 10})
	if err != nil {
		t.Fatalf("search %q: %v", search, err)
	}
	return total
}

// Migration 13 indexes the records an existing database holds, more than
// one batch of them and with gaps in their rowids, and can be undone.
func TestRecordSearchMigrationIndexesExistingRecords(t *testing.T) {
	ctx := context.Background()
	conn, exec := openAtWithUser(t, 12)
	n := searchWordsBatch + 5
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		diagnosis := "Flu"
		if i%1000 == 7 {
			diagnosis = "Asthme SÉVÈRE"
		}
		name := fmt.Sprintf("Élodie N%06d", i)
		if _, err := tx.ExecContext(ctx, `INSERT INTO medical_records (id, user_id, patient_name, date_of_birth, diagnosis, date_of_treatment, doctor, created, updated, patient_name_key, doctor_key, search_text)
			VALUES (?, 'u', ?, '1990-01-01', ?, '2030-01-01', 'Dr. Öz', ?, ?, ?, 'dr. öz', ?)`,
			fmt.Sprintf("r%06d", i), name, diagnosis, i, i, db.Fold(name), db.Fold(name+"\x1fDr. Öz\x1f"+diagnosis)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	exec(`DELETE FROM medical_records WHERE id IN ('r000003', 'r000500')`) // gaps in the rowids
	p := migrations(t, conn)
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	q := &queries{q: conn}
	for search, want := range map[string]int{"elodie": n - 2, "SEVERE asth": 10, "oz": n - 2, "n010004": 1, "n000003": 0, "flu": n - 2 - 10} {
		if got := searchTotal(t, q, search); got != want {
			t.Errorf("after migrating, search %q: %d, want %d", search, got, want)
		}
	}
	var words string
	if err := conn.QueryRowContext(ctx, `SELECT search_words FROM medical_records WHERE id = 'r010004'`).Scan(&words); err != nil || words != "elodie n010004 dr oz flu" {
		t.Fatalf("the last batch's words are %q, %v", words, err)
	}
	// The index follows writes made after the migration.
	if err := q.DeleteRecord(ctx, "r010004"); err != nil {
		t.Fatal(err)
	}
	if got := searchTotal(t, q, "n010004"); got != 0 {
		t.Errorf("after a delete: %d found", got)
	}
	if _, err := p.DownTo(ctx, 12); err != nil {
		t.Fatal(err)
	}
	var text string
	if err := conn.QueryRowContext(ctx, `SELECT search_text FROM medical_records WHERE id = 'r000007'`).Scan(&text); err != nil || text != "élodie n000007\x1fdr. öz\x1fasthme sévère" {
		t.Fatalf("back at version 12, search_text %q, %v", text, err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if got := searchTotal(t, q, "sévère"); got != 10 {
		t.Errorf("migrated again: %d found, want 10", got)
	}
}

// A backup (VACUUM INTO) keeps every record found by its words: the index
// is keyed by rowid, which VACUUM must not renumber.
func TestRecordSearchSurvivesBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, Options{Path: filepath.Join(dir, "anavara.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	user := db.UserRow{User: model.User{ID: uuid.NewString(), Email: "b@example.org", FirstName: "B", LastName: "C",
		IsActive: true, Created: time.Unix(0, 0).UTC(), Updated: time.Unix(0, 0).UTC()}, PasswordHash: "x"}
	var ids []string
	err = s.Write(ctx, func(tx db.Tx) error {
		if err := tx.CreateUser(ctx, user); err != nil {
			return err
		}
		for i := range 50 {
			at := time.Unix(int64(i), 0).UTC()
			r := model.MedicalRecord{ID: uuid.NewString(), UserID: user.ID, PatientName: fmt.Sprintf("Patient W%02d", i),
				DateOfBirth: model.NewDate(1990, 1, 1), Diagnosis: "Cough", DateOfTreatment: model.NewDate(2030, 1, 1),
				Doctor: "Dr. Who", Created: at, Updated: at}
			ids = append(ids, r.ID)
			if err := tx.CreateRecord(ctx, r); err != nil {
				return err
			}
		}
		// Gaps, which a VACUUM that renumbered rowids would close.
		for _, id := range ids[:10] {
			if err := tx.DeleteRecord(ctx, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	if err := s.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, Options{Path: backup})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	q := b.Read().(*queries)
	for i := range 50 {
		want := 1
		if i < 10 {
			want = 0
		}
		if got := searchTotal(t, q, fmt.Sprintf("w%02d who", i)); got != want {
			t.Errorf("search w%02d: %d found, want %d", i, got, want)
		}
	}
	if got := searchTotal(t, q, "cough"); got != 40 {
		t.Errorf("search cough: %d, want 40", got)
	}
}

// The largest MATCH expression a search makes (matchTerms): 16 query
// words, each the start of maxAlternatives indexed words, which the index
// is asked for as alternatives. FTS4 refuses an expression nested deeper
// than 12; this one must be taken and find every record.
func TestMatchTermsAtTheirLargest(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	user := db.UserRow{User: model.User{ID: uuid.NewString(), Email: "m@example.org", FirstName: "M", LastName: "T",
		IsActive: true, Created: time.Unix(0, 0).UTC(), Updated: time.Unix(0, 0).UTC()}, PasswordHash: "x"}
	var query []string
	err = s.Write(ctx, func(tx db.Tx) error {
		if err := tx.CreateUser(ctx, user); err != nil {
			return err
		}
		for j := range maxAlternatives {
			var words []string
			for i := range 16 {
				words = append(words, fmt.Sprintf("p%02d%c", i, 'a'+j))
			}
			at := time.Unix(int64(j), 0).UTC()
			if err := tx.CreateRecord(ctx, model.MedicalRecord{ID: uuid.NewString(), UserID: user.ID, PatientName: "Max Terms",
				DateOfBirth: model.NewDate(1990, 1, 1), Diagnosis: strings.Join(words, " "), DateOfTreatment: model.NewDate(2030, 1, 1),
				Doctor: "Dr. Deep", Created: at, Updated: at}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 16 {
		query = append(query, fmt.Sprintf("p%02d", i))
	}
	q := s.Read().(*queries)
	terms, _, err := q.searchTerms(ctx, db.QueryWords(strings.Join(query, " ")))
	if err != nil {
		t.Fatal(err)
	}
	if len(terms) != 16 || len(terms[15].alternatives) != maxAlternatives {
		t.Fatalf("terms: %+v", terms)
	}
	for _, ordering := range []string{"-created", "created", "patient_name"} {
		page, total, err := q.ListRecords(ctx, db.RecordFilter{Search: strings.Join(query, " "), Ordering: ordering, Limit: 5})
		if err != nil || total != maxAlternatives || len(page) != 5 {
			t.Errorf("%s: %d records of %d, %v", ordering, len(page), total, err)
		}
	}
	// One alternative fewer in one word: a record that holds only it no
	// longer matches.
	page, total, err := q.ListRecords(ctx, db.RecordFilter{Search: strings.Join(query[:15], " ") + " p15a", Limit: 20})
	if err != nil || total != 1 || len(page) != 1 || !strings.Contains(page[0].Diagnosis, "p15a") {
		t.Errorf("one alternative: %v of %d, %v", page, total, err)
	}
}
