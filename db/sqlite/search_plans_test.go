package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// Every way ListRecords may read a search (planSearch's lookup and probe,
// searchByDocid, searchFew) gives the same pages, which the conformance suite's small
// lists cannot show: it reaches the lookups only. Some records here are
// created out of rowid order, which searchByDocid must notice.
func TestSearchPlansAgree(t *testing.T) {
	t.Run("in order", func(t *testing.T) { testSearchPlansAgree(t, false) })
	t.Run("out of order", func(t *testing.T) { testSearchPlansAgree(t, true) })
}

func testSearchPlansAgree(t *testing.T, outOfOrder bool) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	user := db.UserRow{User: model.User{ID: uuid.NewString(), Email: "p@example.org", FirstName: "P", LastName: "Q",
		IsActive: true, Created: time.Unix(0, 0).UTC(), Updated: time.Unix(0, 0).UTC()}, PasswordHash: "x"}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var all []model.MedicalRecord
	err = s.Write(ctx, func(tx db.Tx) error {
		if err := tx.CreateUser(ctx, user); err != nil {
			return err
		}
		for i := range 400 {
			at := base.Add(time.Duration(i) * time.Minute)
			switch {
			case !outOfOrder:
			case i == 250: // inserted late, created early: out of rowid order
				at = base.Add(-time.Hour)
			case i == 6: // inserted early, created late: the newest record
				at = base.Add(2000 * time.Minute)
			case i == 390: // newer than the records inserted after it, which
				// matters to no page of newest first: they are all on it
				at = base.Add(1000 * time.Minute)
			case i%50 == 10: // the same instant as the record before it
				at = base.Add(time.Duration(i-1) * time.Minute)
			}
			diagnosis := "Cough"
			if i%3 == 0 {
				diagnosis = "Asthma"
			}
			r := model.MedicalRecord{ID: uuid.NewString(), UserID: user.ID, PatientName: fmt.Sprintf("Name N%03d", i%7),
				DateOfBirth: model.NewDate(1990, 1, 1), Diagnosis: diagnosis, DateOfTreatment: model.NewDate(2030, 1, 1+i%28),
				Doctor: "Dr. Who", Created: at, Updated: at}
			all = append(all, r)
			if err := tx.CreateRecord(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	q := s.Read().(*queries)
	for _, search := range []string{"asthma", "cough n00", "who", "n003 asth"} {
		words := db.SearchWords(search)
		var matching []model.MedicalRecord
		for _, r := range all {
			if recordHasWords(r, words) {
				matching = append(matching, r)
			}
		}
		for _, ordering := range []string{"-created", "created", "patient_name"} {
			want := sortedByOrdering(matching, ordering)
			// Keyset pages, both ways, read each plan's way.
			for _, plan := range []searchPlan{searchLookup, searchProbe} {
				if got := walkSearch(t, q, search, ordering, plan, false); !slices.Equal(got, ids(want)) {
					t.Errorf("%q %s plan %d, keyset forward:\n got  %v\n want %v", search, ordering, plan, got, ids(want))
				}
				if got := walkSearch(t, q, search, ordering, plan, true); !slices.Equal(got, ids(want)) {
					t.Errorf("%q %s plan %d, keyset backward:\n got  %v\n want %v", search, ordering, plan, got, ids(want))
				}
			}
			for _, p := range []struct{ offset, limit int }{{0, 20}, {20, 20}, {0, 1}, {95, 10}, {0, 1000}, {len(want) - 3, 20}} {
				f := db.RecordFilter{Search: search, Ordering: ordering, Offset: p.offset, Limit: p.limit}
				wantIDs := ids(want[min(p.offset, len(want)):min(p.offset+p.limit, len(want))])
				got, total, err := q.ListRecords(ctx, f)
				if err != nil || total != len(want) || !slices.Equal(ids(got), wantIDs) {
					t.Errorf("%q %s %+v: ListRecords total %d, %v:\n got  %v\n want %v", search, ordering, p, total, err, ids(got), wantIDs)
				}
				for _, plan := range []searchPlan{searchLookup, searchProbe} {
					page, _, args, _, err := recordListSQL(f, matchExpr(words), plan)
					if err != nil {
						t.Fatal(err)
					}
					rows, err := q.q.QueryContext(ctx, page, pageArgs(args, f.Limit, f.Offset)...)
					if err != nil {
						t.Fatal(err)
					}
					var gotIDs []string
					for rows.Next() {
						r, err := scanRecord(rows)
						if err != nil {
							t.Fatal(err)
						}
						gotIDs = append(gotIDs, r.ID)
					}
					rows.Close()
					if len(gotIDs) > p.limit {
						gotIDs = gotIDs[:p.limit]
					}
					if !slices.Equal(gotIDs, wantIDs) {
						t.Errorf("%q %s %+v plan %d:\n got  %v\n want %v", search, ordering, p, plan, gotIDs, wantIDs)
					}
				}
				if strings.TrimPrefix(ordering, "-") == "created" {
					page, ok, err := q.searchByDocid(ctx, matchExpr(words), f, ordering == "-created")
					if err != nil {
						t.Fatal(err)
					}
					if ok && !slices.Equal(ids(page), wantIDs) {
						t.Errorf("%q %s %+v by docid:\n got  %v\n want %v", search, ordering, p, ids(page), wantIDs)
					}
					if !ok && !outOfOrder {
						t.Errorf("%q %s %+v by docid gave up, with every record in order", search, ordering, p)
					}
					// Every match looked up and sorted.
					docids, err := q.matchDocids(ctx, matchExpr(words), "DESC", len(all))
					if err != nil {
						t.Fatal(err)
					}
					if sorted, err := q.sortedMatches(ctx, docids, f, ordering == "-created"); err != nil || !slices.Equal(ids(sorted), wantIDs) {
						t.Errorf("%q %s %+v sorted, %v:\n got  %v\n want %v", search, ordering, p, err, ids(sorted), wantIDs)
					}
					// Reading every match, or only the first few and
					// counting them in the index.
					for _, few := range []int{fewMatches, 5} {
						page, total, ok, err := q.searchFew(ctx, matchExpr(words), f, ordering == "-created", few)
						if err != nil {
							t.Fatal(err)
						}
						if total != len(want) {
							t.Errorf("%q %s %+v few=%d: %d matches; want %d", search, ordering, p, few, total, len(want))
						}
						if ok && !slices.Equal(ids(page), wantIDs) {
							t.Errorf("%q %s %+v few=%d:\n got  %v\n want %v", search, ordering, p, few, ids(page), wantIDs)
						}
						if !ok && !outOfOrder {
							t.Errorf("%q %s %+v few=%d gave up, with every record in order", search, ordering, p, few)
						}
					}
				}
			}
		}
	}
	if !outOfOrder {
		return
	}
	// The records out of rowid order make searchByDocid give up where
	// they matter.
	f := db.RecordFilter{Search: "asthma", Ordering: "-created", Limit: 20}
	if _, ok, err := q.searchByDocid(ctx, "asthma*", f, true); err != nil || ok {
		t.Errorf("newest first, record 6 newer than every other: ok %v, %v; want it to give up", ok, err)
	}
	f.Search, f.Ordering = "asthma", "created"
	if _, ok, err := q.searchByDocid(ctx, "asthma*", f, false); err != nil || ok {
		t.Errorf("oldest first, record 250 older than earlier ones: ok %v, %v; want it to give up", ok, err)
	}
	f.Search, f.Offset, f.Limit = "cough n00", 0, 5
	if _, ok, err := q.searchByDocid(ctx, "cough* n00*", f, false); err != nil || ok {
		t.Errorf("oldest first, record 250: ok %v, %v", ok, err)
	}
	for _, few := range []int{fewMatches, 5} {
		if _, _, ok, err := q.searchFew(ctx, "cough* n00*", f, false, few); err != nil || ok {
			t.Errorf("few=%d, oldest first, record 250: ok %v, %v; want it to give up", few, ok, err)
		}
	}
}

// recordHasWords is the search's meaning: every word starts a word of r.
func recordHasWords(r model.MedicalRecord, words []string) bool {
	have := strings.Fields(db.RecordSearchWords(r))
	for _, w := range words {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.HasPrefix(h, w) }) {
			return false
		}
	}
	return true
}

// sortedByOrdering sorts rs as the list orders them, id breaking ties.
func sortedByOrdering(rs []model.MedicalRecord, ordering string) []model.MedicalRecord {
	out := slices.Clone(rs)
	desc := strings.HasPrefix(ordering, "-")
	key := func(r model.MedicalRecord) string {
		switch strings.TrimPrefix(ordering, "-") {
		case "patient_name":
			return db.Fold(r.PatientName)
		default:
			return fmt.Sprintf("%020d", r.Created.UnixMicro())
		}
	}
	slices.SortFunc(out, func(a, b model.MedicalRecord) int {
		c := strings.Compare(key(a), key(b))
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		if desc {
			c = -c
		}
		return c
	})
	return out
}

// ids are the records' ids.
func ids(rs []model.MedicalRecord) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// walkSearch lists a search's matches in pages of 20 by keyset, read by
// plan: forward from the start, or backward from past the end.
func walkSearch(t *testing.T, q *queries, search, ordering string, plan searchPlan, backward bool) []string {
	t.Helper()
	var seek *db.Seek
	if backward {
		// A position past the end: after every record in the ordering.
		end := model.MedicalRecord{ID: "ffffffff-ffff-ffff-ffff-ffffffffffff", Created: time.Unix(1<<40, 0), PatientName: "\U0010ffff"}
		if strings.HasPrefix(ordering, "-") {
			end = model.MedicalRecord{ID: "", Created: time.Unix(-1<<40, 0), PatientName: ""}
		}
		seek = &db.Seek{Position: db.RecordPosition(ordering, end), Backward: true}
	}
	var walked []string
	for range 100 {
		f := db.RecordFilter{Search: search, Ordering: ordering, Limit: 20, Seek: seek}
		page, _, args, _, err := recordListSQL(f, matchExpr(db.SearchWords(search)), plan)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := q.q.QueryContext(context.Background(), page, pageArgs(args, f.Limit, 0)...)
		if err != nil {
			t.Fatal(err)
		}
		var got []model.MedicalRecord
		for rows.Next() {
			r, err := scanRecord(rows)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r)
		}
		rows.Close()
		got = got[:min(len(got), 20)]
		if len(got) == 0 {
			break
		}
		if backward {
			slices.Reverse(got) // read from the position outward
			walked = append(ids(got), walked...)
			seek = &db.Seek{Position: db.RecordPosition(ordering, got[0]), Backward: true}
		} else {
			walked = append(walked, ids(got)...)
			seek = &db.Seek{Position: db.RecordPosition(ordering, got[len(got)-1])}
		}
		if len(got) < 20 {
			break
		}
	}
	return walked
}

// searchFew sorts every match when that costs less than checking that the
// newest by rowid are the newest (sortAllMatches): at a million records and
// a page of 20, up to about 1,000 matches.
func TestSortAllMatches(t *testing.T) {
	for _, c := range []struct {
		matches, k, records int
		want                bool
	}{
		{52, 20, 1_000_000, true},
		{1_000, 20, 1_000_000, true},
		{1_100, 20, 1_000_000, false},
		{1_610, 20, 1_000_000, false},
		{21, 20, 400, false},
		{40, 1_000, 400, true},
	} {
		if got := sortAllMatches(c.matches, c.k, c.records); got != c.want {
			t.Errorf("sortAllMatches(%d, %d, %d) = %v, want %v", c.matches, c.k, c.records, got, c.want)
		}
	}
}
