package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/model"
)

// wordCounts reads search_word_counts at path, and what it should hold:
// every word of the records' search_words with the number of records
// holding it.
func wordCounts(t *testing.T, path string) (stored, truth map[string]int) {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stored, truth = map[string]int{}, map[string]int{}
	rows, err := conn.Query(`SELECT word, records FROM search_word_counts`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var w string
		var n int
		if err := rows.Scan(&w, &n); err != nil {
			t.Fatal(err)
		}
		stored[w] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows, err = conn.Query(`SELECT search_words FROM medical_records`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var words string
		if err := rows.Scan(&words); err != nil {
			t.Fatal(err)
		}
		for _, w := range strings.Fields(words) {
			truth[w]++
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return stored, truth
}

// checkWordCounts fails the test unless the word counts at path are true.
func checkWordCounts(t *testing.T, when, path string) {
	t.Helper()
	stored, truth := wordCounts(t, path)
	if !maps.Equal(stored, truth) {
		for w, n := range truth {
			if stored[w] != n {
				t.Errorf("%s: word %q counted %d times, held by %d records", when, w, stored[w], n)
			}
		}
		for w, n := range stored {
			if _, ok := truth[w]; !ok {
				t.Errorf("%s: word %q counted %d times, held by none", when, w, n)
			}
		}
	}
}

// The search's word counts (search_word_counts.go) follow every write the
// code makes, rolled back or not, an import, and, through the recount at
// open, writes that bypassed the code.
func TestSearchWordCountsStayInStep(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "anavara.db")
	d := open(t, sqlite.Options{Path: path})
	u := newUser(t, d, "words@example.org")
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"Kim", "Lee", "Ann", "Élodie", "Øster", "Kimberley"}
	doctors := []string{"Dr. House", "Dr. Who", "Nurse Joy", "Dr. Dr. Kim"}
	diagnoses := []string{"Flu", "Asthma", "flu flu", "", "Kim's cough"}
	pick := func(from []string) string { return from[rng.IntN(len(from))] }
	randomRecord := func(i int) model.MedicalRecord {
		at := time.Unix(int64(i), 0).UTC()
		return model.MedicalRecord{ID: uuid.NewString(), UserID: u.ID, PatientName: pick(names) + " " + pick(names),
			DateOfBirth: model.NewDate(1990, 1, 1), Diagnosis: pick(diagnoses), DateOfTreatment: model.NewDate(2030, 1, 1),
			Doctor: pick(doctors), Created: at, Updated: at}
	}
	var live []model.MedicalRecord
	for i := range 300 {
		err := d.Write(ctx, func(tx db.Tx) error {
			switch op := rng.IntN(4); {
			case op == 0 && len(live) > 0:
				k := rng.IntN(len(live))
				if err := tx.DeleteRecord(ctx, live[k].ID); err != nil {
					return err
				}
				live = append(live[:k], live[k+1:]...)
			case op == 1 && len(live) > 0:
				k := rng.IntN(len(live))
				r := randomRecord(i)
				r.ID, r.Created = live[k].ID, live[k].Created
				if err := tx.UpdateRecord(ctx, r); err != nil {
					return err
				}
				live[k] = r
			default:
				r := randomRecord(i)
				if err := tx.CreateRecord(ctx, r); err != nil {
					return err
				}
				live = append(live, r)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			// One rolled back, which must leave no count behind.
			err := d.Write(ctx, func(tx db.Tx) error {
				if err := tx.CreateRecord(ctx, randomRecord(i)); err != nil {
					return err
				}
				if len(live) > 0 {
					if err := tx.DeleteRecord(ctx, live[0].ID); err != nil {
						return err
					}
				}
				return fmt.Errorf("roll back")
			})
			if err == nil {
				t.Fatal("the rolled-back write committed")
			}
		}
	}
	checkWordCounts(t, "after the writes", path)
	if _, truth := wordCounts(t, path); truth["kim"] == 0 || len(truth) < 10 {
		t.Fatalf("the writes left too few words to test: %v", truth)
	}

	copied := filepath.Join(dir, "copy.db")
	dst := open(t, sqlite.Options{Path: copied})
	if err := copyStore(ctx, d, dst, -1); err != nil {
		t.Fatal(err)
	}
	checkWordCounts(t, "after an import", copied)

	// An operator's sqlite3 session deletes two records and inserts one,
	// which moves the record counter too, and the next open recounts. (A
	// session that left the number of records as it was would go unseen,
	// as it leaves the search index wrong: writes to medical_records
	// belong to the code.)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	execOn(t, path, `DELETE FROM medical_records WHERE rowid IN (SELECT rowid FROM medical_records ORDER BY rowid LIMIT 2)`,
		fmt.Sprintf(`INSERT INTO medical_records (id, user_id, patient_name, date_of_birth, date_of_treatment, doctor, created, updated, search_words)
			VALUES ('outside', '%s', 'Zed', '1990-01-01', '2030-01-01', 'D', 0, 0, 'zed d')`, u.ID))
	open(t, sqlite.Options{Path: path})
	checkWordCounts(t, "after writes outside the code and a reopen", path)
}
