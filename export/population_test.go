package export_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/export"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/model"
)

// manyRecords seeds n records of three patients, more than the NDJSON
// writer's buffer holds.
func manyRecords(t *testing.T, n int) db.Store {
	t.Helper()
	store, _ := testenv.OpenStore(t, sqlite.Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var owners []string
	err := store.Write(ctx, func(q db.Tx) error {
		for i := range 3 {
			u := model.User{ID: uuid.NewString(), Email: uuid.NewString()[:8] + "@example.org", FirstName: "P", LastName: "Q",
				IsActive: true, Created: base.Add(time.Duration(i) * time.Second), Updated: base}
			if err := q.CreateUser(ctx, db.UserRow{User: u, PasswordHash: "x"}); err != nil {
				return err
			}
			owners = append(owners, u.ID)
		}
		for i := range n {
			at := base.Add(time.Duration(i) * time.Second)
			r := model.MedicalRecord{ID: uuid.NewString(), UserID: owners[i%3], PatientName: "P Q", DateOfBirth: model.NewDate(1990, 1, 1),
				Diagnosis: "Flu", Treatment: "Rest", DateOfTreatment: model.NewDate(2030, 1, 1), Doctor: "Dr. Osei", Created: at, Updated: at}
			if err := q.CreateRecord(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return store
}

// The records reach the files whole and in the walk's order, on both
// kinds of sink: one walk writing two files, or a walk per file.
func TestPopulationAcrossBatches(t *testing.T) {
	const n = 1300
	store := manyRecords(t, n)
	ctx := context.Background()
	err := store.Snapshot(ctx, func(snap db.Snapshot) error {
		var want []string
		if err := snap.EachRecord(ctx, "", func(r model.MedicalRecord) error { want = append(want, r.ID); return nil }); err != nil {
			return err
		}
		var buf bytes.Buffer
		zs := export.NewZipSink(&buf, snap.At())
		files := &memorySink{files: map[string]*bytes.Buffer{}}
		for _, sink := range []export.Sink{files, zs} {
			m, err := export.Population(ctx, snap, sink, "test", nil)
			if err != nil {
				return err
			}
			if m.Count("Condition") != n || m.Count("Procedure") != n {
				t.Errorf("%T: manifest %+v", sink, m.Output)
			}
		}
		for _, name := range []string{"Condition.ndjson", "Procedure.ndjson"} {
			var got []string
			sc := bufio.NewScanner(files.files[name])
			for sc.Scan() {
				var r struct {
					Identifier []export.Identifier
				}
				must(t, json.Unmarshal(sc.Bytes(), &r))
				got = append(got, r.Identifier[0].Value)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: %d records, not in the walk's order", name, len(got))
			}
		}
		return zs.Close()
	})
	must(t, err)
}

// A file that cannot be written ends the export with its error, at the
// first file or later.
func TestPopulationStopsAtAWriteError(t *testing.T) {
	store := manyRecords(t, 1300)
	ctx := context.Background()
	for _, limit := range []int{0, 1 << 10, 100 << 10} {
		err := store.Snapshot(ctx, func(snap db.Snapshot) error {
			_, err := export.Population(ctx, snap, &failingSink{limit: limit}, "test", nil)
			return err
		})
		if !errors.Is(err, errDiskFull) {
			t.Errorf("after %d bytes: %v, want the write's error", limit, err)
		}
	}
}

var errDiskFull = errors.New("disk full")

// memorySink keeps the files in memory; it can hold several open at once.
type memorySink struct{ files map[string]*bytes.Buffer }

func (s *memorySink) Create(name string) (io.WriteCloser, error) {
	b := &bytes.Buffer{}
	s.files[name] = b
	return nopCloser{b}, nil
}

func (s *memorySink) Together() {}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// failingSink's files fail once limit bytes are written to them in all.
type failingSink struct{ limit, written int }

func (s *failingSink) Create(string) (io.WriteCloser, error) { return nopCloser{s}, nil }

func (s *failingSink) Write(p []byte) (int, error) {
	if s.written+len(p) > s.limit {
		return 0, errDiskFull
	}
	s.written += len(p)
	return len(p), nil
}
