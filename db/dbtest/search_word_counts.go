package dbtest

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// WriteRandomRecords makes writes random creates, updates and deletes of
// userID's records in s, one a transaction, and every 50th write a
// transaction that creates and deletes and then rolls back: the workload
// of each engine's test that its search word counts stay in step. Its
// words repeat, within a record and across records ("Kim", "Dr. Dr.
// Kim", "Kimberley"), and some records have none from the diagnosis.
func WriteRandomRecords(t testing.TB, s db.Store, userID string, writes int) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"Kim", "Lee", "Ann", "Élodie", "Øster", "Kimberley"}
	doctors := []string{"Dr. House", "Dr. Who", "Nurse Joy", "Dr. Dr. Kim"}
	diagnoses := []string{"Flu", "Asthma", "flu flu", "", "Kim's cough"}
	pick := func(from []string) string { return from[rng.IntN(len(from))] }
	randomRecord := func(i int) model.MedicalRecord {
		at := time.Unix(int64(i), 0).UTC()
		return model.MedicalRecord{ID: uuid.NewString(), UserID: userID, PatientName: pick(names) + " " + pick(names),
			DateOfBirth: model.NewDate(1990, 1, 1), Diagnosis: pick(diagnoses), DateOfTreatment: model.NewDate(2030, 1, 1),
			Doctor: pick(doctors), Created: at, Updated: at}
	}
	var live []model.MedicalRecord
	errRollBack := errors.New("roll back")
	for i := range writes {
		err := s.Write(ctx, func(tx db.Tx) error {
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
			err := s.Write(ctx, func(tx db.Tx) error {
				if err := tx.CreateRecord(ctx, randomRecord(i)); err != nil {
					return err
				}
				if len(live) > 0 {
					if err := tx.DeleteRecord(ctx, live[0].ID); err != nil {
						return err
					}
				}
				return errRollBack
			})
			if !errors.Is(err, errRollBack) {
				t.Fatalf("the rolled-back write: %v", err)
			}
		}
	}
}

// TrueWordCounts is what an engine's search word counts should hold for
// records whose search_words are searchWords: each word with the number
// of records holding it.
func TrueWordCounts(searchWords []string) map[string]int {
	truth := map[string]int{}
	for _, words := range searchWords {
		for _, w := range strings.Fields(words) {
			truth[w]++
		}
	}
	return truth
}

// CheckWordCounts fails t unless stored, an engine's search word counts
// without the words at 0, equals truth (TrueWordCounts).
func CheckWordCounts(t testing.TB, when string, stored, truth map[string]int) {
	t.Helper()
	if maps.Equal(stored, truth) {
		return
	}
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
	if len(truth) < 10 || truth["kim"] == 0 {
		t.Errorf("%s: too few words to test: %v", when, truth)
	}
}
