package postgres_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/model"
)

// A search of several words collected in one pass (collectSearch) gives
// ListRecords' page and total, and gives up, for the usual plan, when
// there are more matches than it may collect or the page is past the
// last. (Its words are too frequent together for ListRecords to collect
// them itself: 40 of 60 records hold each, and it expects 27 matches.)
func TestCollectSearchMatchesListRecords(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	kim, ann := createUser(t, s, "kim@example.org"), createUser(t, s, "ann@example.org")
	write(t, s, func(ctx context.Context, tx db.Tx) error {
		for i := range 60 {
			r := model.MedicalRecord{ID: uuid.NewString(), UserID: kim.ID, PatientName: "Kim Lee", Diagnosis: "Flu",
				DateOfBirth: model.NewDate(1980, 1, 1), DateOfTreatment: model.NewDate(2031, 1, 1+i%28), Doctor: "Dr. House",
				Created: base.Add(time.Duration(i%7) * time.Hour), Updated: base}
			switch i % 3 {
			case 1:
				r.UserID = ann.ID
			case 2:
				r.PatientName, r.Diagnosis = "Ann Berg", "Asthma"
			}
			if err := tx.CreateRecord(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	ids := func(rs []model.MedicalRecord) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.ID
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    db.RecordFilter
		most int
		ok   bool
	}{
		{"page 1", db.RecordFilter{Search: "kim flu", Limit: 5}, 100, true},
		{"a middle page, by patient name", db.RecordFilter{Search: "flu lee", Limit: 7, Offset: 21, Ordering: "-patient_name"}, 40, true},
		{"the last page", db.RecordFilter{Search: "kim flu", Limit: 5, Offset: 38}, 40, true},
		{"with the patient's own filter", db.RecordFilter{Search: "kim flu", UserID: ann.ID, Limit: 3, Offset: 2}, 20, true},
		{"more matches than it may collect", db.RecordFilter{Search: "kim flu", Limit: 5}, 39, false},
		{"past the last page", db.RecordFilter{Search: "kim flu", Limit: 5, Offset: 40}, 100, false},
		{"no match", db.RecordFilter{Search: "kim asthma", Limit: 5}, 100, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, n, ok, err := postgres.CollectSearch(ctx, s, tc.f, tc.most)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			want, total, err := s.Read().ListRecords(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if n != total || !slices.Equal(ids(page), ids(want)) {
				t.Errorf("collected %d matches, page %v; ListRecords: %d, %v", n, ids(page), total, ids(want))
			}
			if len(page) == 0 {
				t.Error("an empty page")
			}
		})
	}
}

// Every plan a search may take on the pool from the word counts (a word of
// every record left out, a one-word total from its count, several words
// collected in one pass, whole words asked for by their pairs, which a
// record of more than postgres.SearchPairWords words does not hold)
// answers what the index alone answers, which is what ListRecords does
// inside a write transaction.
func TestSearchFromTheCountsAgreesWithTheIndex(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	u := createUser(t, s, "plans@example.org")
	write(t, s, func(ctx context.Context, tx db.Tx) error {
		for i := range 90 {
			r := model.MedicalRecord{ID: uuid.NewString(), UserID: u.ID, PatientName: "Kim Lee", Diagnosis: "Flu",
				DateOfBirth: model.NewDate(1980, 1, 1), DateOfTreatment: model.NewDate(2031, 1, 1+i%28), Doctor: "Dr. House",
				Created: base.Add(time.Duration(i%11) * time.Hour), Updated: base}
			if i%9 == 0 {
				r.PatientName = "Zed Kimura"
			}
			if i%10 < 2 {
				r.Diagnosis = "Gout"
			}
			if i%15 == 0 {
				// 24 words in all: the index holds none of its pairs.
				r.Diagnosis = "Gout of the left big toe after a long flight with swelling redness heat and pain at night and fever"
			}
			if err := tx.CreateRecord(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	for _, f := range []db.RecordFilter{
		{Search: "zed gout", Limit: 5},
		{Search: "zed gout", Limit: 1, Offset: 1},
		{Search: "zed gout", Limit: 5, Offset: 5},
		{Search: "gout zed kim", Limit: 2, Ordering: "patient_name"},
		{Search: "zed", Limit: 3, Offset: 2},
		{Search: "kim", Limit: 4},
		{Search: "dr", Limit: 4, Offset: 80},
		{Search: "dr zed", Limit: 4},
		{Search: "dr nomatch", Limit: 4},
		{Search: "zed", UserID: u.ID, Limit: 3},
		{Search: "zed gout", Limit: 2, Offset: 1},
		{Search: "gout zed", Ordering: "-patient_name", Limit: 5},
		{Search: "gou gout", Limit: 5},
		{Search: "left toe", Limit: 5},
		{Search: "lee gout", Limit: 3},
		{Search: "lee gout toe", Limit: 3},
		{Search: "lee flu house", Limit: 3, Offset: 60},
		{Search: "kimura house gout", Limit: 3},
		{Search: "kim gout", Limit: 3},
		{Search: "flight gout", Limit: 3},
	} {
		got, total, err := s.Read().ListRecords(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var want []model.MedicalRecord
		var wantTotal int
		write(t, s, func(ctx context.Context, tx db.Tx) error {
			want, wantTotal, err = tx.ListRecords(ctx, f)
			return err
		})
		if total != wantTotal || !slices.EqualFunc(got, want, func(a, b model.MedicalRecord) bool { return a.ID == b.ID }) ||
			wantTotal == 0 && !strings.Contains(f.Search, "nomatch") {
			t.Errorf("%+v: %d matches, %d on the page; the index: %d, %d", f, total, len(got), wantTotal, len(want))
		}
	}
}

// A search's snapshot is a repeatable-read, read-only transaction that
// plans no parallel query, where the server's default (checked on a
// connection of its own) would.
func TestSearchSnapshotPlansNoParallelQuery(t *testing.T) {
	ctx := context.Background()
	s, url := openStore(t)
	names := []string{"transaction_isolation", "transaction_read_only", "max_parallel_workers_per_gather"}
	got, err := postgres.SearchSnapshotSettings(ctx, s, names...)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"repeatable read", "on", "0"}; !slices.Equal(got, want) {
		t.Errorf("%v in a search's snapshot: %v, want %v", names, got, want)
	}
	var workers string
	if err := connect(t, url).QueryRow(ctx, `SELECT current_setting('max_parallel_workers_per_gather')`).Scan(&workers); err != nil || workers == "0" {
		t.Errorf("max_parallel_workers_per_gather outside: %q, %v", workers, err)
	}
}
