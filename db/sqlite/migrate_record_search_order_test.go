package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// Migration 20 rebuilds the records search index newest first and without
// %_docsize, which changes neither what a search finds nor the order of
// its pages, either way; undone, the index is oldest first again, with
// %_docsize, and still finds the same.
func TestNewestFirstRecordSearchMigration(t *testing.T) {
	ctx := context.Background()
	conn, _ := openAtWithUser(t, 20)
	q := &queries{q: conn}
	for i := range 60 {
		diagnosis := []string{"Asthma", "Flu", "Astigmatism"}[i%3]
		name := []string{"Amara Okafor", "Élodie Martin"}[i%2]
		at := time.Unix(int64(1_000+i), 0).UTC()
		if err := q.CreateRecord(ctx, model.MedicalRecord{ID: fmt.Sprintf("r%02d", i), UserID: "u", PatientName: name,
			DateOfBirth: model.NewDate(1990, 1, 1), Diagnosis: diagnosis, DateOfTreatment: model.NewDate(2030, 1, 1),
			Doctor: "Dr. Kim", Created: at, Updated: at}); err != nil {
			t.Fatal(err)
		}
	}
	type result struct {
		ids   string
		total int
	}
	searches := []db.RecordFilter{
		{Search: "asthma", Limit: 5},
		{Search: "asthma", Limit: 5, Ordering: "created"},
		{Search: "ast", Limit: 5, Offset: 3},
		{Search: "okafor asthma", Limit: 4},
		{Search: "okafor asthma", Limit: 4, Ordering: "created"},
		{Search: "amara okaf", Limit: 50},
		{Search: "dr elodie flu", Limit: 3, Ordering: "-created", Offset: 2},
		{Search: "kim nothing", Limit: 3},
	}
	results := func(when string) []result {
		t.Helper()
		var got []result
		for _, f := range searches {
			page, total, err := q.ListRecords(ctx, f)
			if err != nil {
				t.Fatalf("%s: search %q: %v", when, f.Search, err)
			}
			var ids []string
			for _, r := range page {
				ids = append(ids, r.ID)
			}
			got = append(got, result{strings.Join(ids, " "), total})
		}
		return got
	}
	newestFirst := func() bool {
		t.Helper()
		var create string
		if err := conn.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE name = 'record_search'`).Scan(&create); err != nil {
			t.Fatal(err)
		}
		newest := strings.Contains(create, "order=desc")
		var docsize int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'record_search_docsize'`).Scan(&docsize); err != nil {
			t.Fatal(err)
		}
		if newest != (docsize == 0) {
			t.Fatalf("newest first %v, with %d docsize tables", newest, docsize)
		}
		return newest
	}
	want := results("at version 20")
	if !newestFirst() {
		t.Fatal("at version 20 the index is oldest first")
	}
	if want[0] != (result{"r57 r54 r51 r48 r45", 20}) || want[3] != (result{"r54 r48 r42 r36", 10}) || want[4] != (result{"r00 r06 r12 r18", 10}) ||
		want[7].total != 0 {
		t.Fatalf("searches at version 20: %v", want)
	}
	p := migrations(t, conn)
	if _, err := p.DownTo(ctx, 19); err != nil {
		t.Fatal(err)
	}
	if newestFirst() {
		t.Error("undone, the index is still newest first")
	}
	if got := results("at version 19"); !slices.Equal(got, want) {
		t.Errorf("at version 19:\n%v\nwant\n%v", got, want)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if !newestFirst() {
		t.Error("migrated again, the index is oldest first")
	}
	if got := results("migrated again"); !slices.Equal(got, want) {
		t.Errorf("migrated again:\n%v\nwant\n%v", got, want)
	}
	// The rebuilt index follows writes.
	if err := q.DeleteRecord(ctx, "r57"); err != nil {
		t.Fatal(err)
	}
	if got := results("after a delete"); got[0] != (result{"r54 r51 r48 r45 r42", 19}) {
		t.Errorf("after a delete: %v", got[0])
	}
}
