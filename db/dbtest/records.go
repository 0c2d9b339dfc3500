package dbtest

import (
	"cmp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

var recordTests = []test{
	{"RoundTrip", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "patient@example.org")
		r := model.MedicalRecord{ID: uuid.NewString(), UserID: u.ID, PatientName: "Zoë O'Brien",
			DateOfBirth: model.NewDate(1904, time.February, 29), Diagnosis: "Line one\nline two\ttabbed — «ü» 🩺",
			Treatment: "", DateOfTreatment: model.NewDate(2099, time.December, 31), Doctor: "Dr. Müller",
			Created: sec(1), Updated: sec(2)}
		createRecords(t, s, r)
		got, err := s.Read().RecordByID(ctx, r.ID)
		mustErr(t, "RecordByID", err, nil)
		checkRecord(t, "RecordByID", got, r)
		list, total, err := s.Read().ListRecords(ctx, db.RecordFilter{UserID: u.ID, Limit: 10})
		mustErr(t, "ListRecords", err, nil)
		if len(list) != 1 || total != 1 {
			t.Fatalf("ListRecords: %d records, total %d; want 1", len(list), total)
		}
		checkRecord(t, "ListRecords", list[0], r)
		write(t, s, func(tx db.Tx) error {
			got, err := tx.RecordByID(ctx, r.ID)
			mustErr(t, "Tx RecordByID", err, nil)
			checkRecord(t, "Tx RecordByID", got, r)
			return nil
		})
		_, err = s.Read().RecordByID(ctx, uuid.NewString())
		wantErr(t, "RecordByID of a missing record", err, db.ErrNotFound)
	}},
	{"ControlCharacters", func(t *testing.T, s db.Store) {
		// The API stores text as sent, control characters included (the
		// terminal UI shows them inert), but for NUL, which it refuses
		// (model.ValidateText): PostgreSQL's text type cannot hold it.
		ctx := t.Context()
		u := createUser(t, s, "ctl@example.org")
		for name, text := range map[string]string{
			"escape sequence": "\x1b[2J\x1b]0;title\x07red\x1b[31m",
			"C0 and DEL":      "\x01\x02\r\n\x7f\u0085\u2028",
		} {
			r := newRecord(u.ID, at(0))
			r.Diagnosis, r.Treatment = text, text
			err := s.Write(ctx, func(tx db.Tx) error { return tx.CreateRecord(ctx, r) })
			if err != nil {
				t.Errorf("%s: CreateRecord: %v", name, err)
				continue
			}
			got, err := s.Read().RecordByID(ctx, r.ID)
			if err != nil {
				t.Errorf("%s: RecordByID: %v", name, err)
				continue
			}
			checkRecord(t, name, got, r)
		}
	}},
	{"UpdateRecord", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		a, b := createUser(t, s, "a@example.org"), createUser(t, s, "b@example.org")
		r := newRecord(a.ID, sec(1))
		createRecords(t, s, r)
		want := model.MedicalRecord{ID: r.ID, UserID: b.ID, PatientName: "Élodie Martin", DateOfBirth: model.NewDate(1999, time.January, 2),
			Diagnosis: "Migraine", Treatment: "Dark room", DateOfTreatment: model.NewDate(2032, time.March, 4), Doctor: "Dr. Who",
			Created: r.Created, Updated: at(time.Hour)}
		change := want
		change.Created = at(-time.Hour) // not a writable field
		write(t, s, func(tx db.Tx) error { return tx.UpdateRecord(ctx, change) })
		got, err := s.Read().RecordByID(ctx, r.ID)
		mustErr(t, "RecordByID", err, nil)
		checkRecord(t, "updated record", got, want)
		// The search follows the new text.
		for search, n := range map[string]int{"ÉLODIE": 1, "migraine": 1, "who": 1, "flu": 0, "house": 0} {
			if _, total, err := s.Read().ListRecords(ctx, db.RecordFilter{Search: search, Limit: 10}); err != nil || total != n {
				t.Errorf("Search %q after UpdateRecord: total %d, %v; want %d", search, total, err, n)
			}
		}
		// And the owner filter the new owner.
		for owner, n := range map[string]int{a.ID: 0, b.ID: 1} {
			if _, total, err := s.Read().ListRecords(ctx, db.RecordFilter{UserID: owner, Limit: 10}); err != nil || total != n {
				t.Errorf("UserID filter after UpdateRecord: total %d, %v; want %d", total, err, n)
			}
		}
		missing := newRecord(a.ID, at(0))
		err = s.Write(ctx, func(tx db.Tx) error { return tx.UpdateRecord(ctx, missing) })
		wantErr(t, "UpdateRecord of a missing record", err, db.ErrNotFound)
	}},
	{"DeleteRecord", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		u := createUser(t, s, "del@example.org")
		r1, r2 := newRecord(u.ID, sec(1)), newRecord(u.ID, sec(2))
		createRecords(t, s, r1, r2)
		write(t, s, func(tx db.Tx) error { return tx.DeleteRecord(ctx, r1.ID) })
		_, err := s.Read().RecordByID(ctx, r1.ID)
		wantErr(t, "RecordByID of a deleted record", err, db.ErrNotFound)
		err = s.Write(ctx, func(tx db.Tx) error { return tx.DeleteRecord(ctx, r1.ID) })
		wantErr(t, "DeleteRecord twice", err, db.ErrNotFound)
		if _, err := s.Read().RecordByID(ctx, r2.ID); err != nil {
			t.Errorf("the other record: %v", err)
		}
		checkRecordTotals(t, s, db.RecordFilter{}, 1)
	}},
	{"ListFilters", testListRecordsFilters},
	{"Orderings", testRecordOrderings},
	{"OrderByPatientNameWithSpaces", testPatientNameOrderWithSpaces},
	{"FoldingBeyondASCII", testRecordFoldingBeyondASCII},
	{"SearchWords", testRecordSearchWords},
	{"SearchFollowsWrites", testRecordSearchFollowsWrites},
	{"SearchWordOfEveryRecord", testSearchWordOfEveryRecord},
	{"UnknownOrdering", func(t *testing.T, s db.Store) {
		u := createUser(t, s, "o@example.org")
		createRecords(t, s, newRecord(u.ID, at(0)))
		for _, o := range []string{"bogus", "-", "--created", "id", "created; DROP TABLE users --", "patient_name COLLATE \"C\""} {
			if _, _, err := s.Read().ListRecords(t.Context(), db.RecordFilter{Ordering: o, Limit: 10}); err == nil {
				t.Errorf("ListRecords with ordering %q: no error", o)
			}
		}
		if _, err := s.Read().UserByID(t.Context(), u.ID); err != nil {
			t.Errorf("user after the unknown orderings: %v", err)
		}
	}},
	{"TotalsAfterDeletes", func(t *testing.T, s db.Store) {
		ctx := t.Context()
		a, b := createUser(t, s, "a@example.org"), createUser(t, s, "b@example.org")
		var ra, rb []model.MedicalRecord
		for i := range 4 {
			ra = append(ra, newRecord(a.ID, sec(i)))
			rb = append(rb, newRecord(b.ID, sec(i)))
		}
		rb[0].Doctor, rb[1].Doctor = "Dr. Who", "Dr. Who"
		createRecords(t, s, append(slices.Clone(ra), rb...)...)
		checkRecordTotals(t, s, db.RecordFilter{}, 8)
		write(t, s, func(tx db.Tx) error {
			for _, r := range []model.MedicalRecord{ra[0], rb[0], rb[2]} {
				if err := tx.DeleteRecord(ctx, r.ID); err != nil {
					return err
				}
			}
			return nil
		})
		checkRecordTotals(t, s, db.RecordFilter{}, 5)
		checkRecordTotals(t, s, db.RecordFilter{UserID: a.ID}, 3)
		checkRecordTotals(t, s, db.RecordFilter{UserID: b.ID}, 2)
		checkRecordTotals(t, s, db.RecordFilter{Doctor: "dr. who"}, 1)
		checkRecordTotals(t, s, db.RecordFilter{Search: "house"}, 4)
		// A rolled-back delete changes no total.
		err := s.Write(ctx, func(tx db.Tx) error {
			if err := tx.DeleteRecord(ctx, ra[1].ID); err != nil {
				return err
			}
			return tx.DeleteRecord(ctx, ra[0].ID) // gone already: ErrNotFound
		})
		wantErr(t, "Write deleting a deleted record", err, db.ErrNotFound)
		checkRecordTotals(t, s, db.RecordFilter{}, 5)
		checkRecordTotals(t, s, db.RecordFilter{UserID: a.ID}, 3)
	}},
}

// checkRecordTotals fails the test unless ListRecords reports want records
// matching f on every page: the first of one record, a page holding them
// all, and a page past the end (the first and last are counted, not
// known from the page).
func checkRecordTotals(t *testing.T, s db.Store, f db.RecordFilter, want int) {
	t.Helper()
	for _, p := range []struct{ limit, offset int }{{1, 0}, {want + 10, 0}, {10, want + 10}} {
		f.Limit, f.Offset = p.limit, p.offset
		rows, total, err := s.Read().ListRecords(t.Context(), f)
		switch {
		case err != nil:
			t.Errorf("ListRecords %+v: %v", f, err)
		case total != want:
			t.Errorf("ListRecords %+v: total %d, want %d", f, total, want)
		case len(rows) != min(p.limit, max(0, want-p.offset)):
			t.Errorf("ListRecords %+v: %d rows, want %d", f, len(rows), min(p.limit, max(0, want-p.offset)))
		}
	}
}

// testRecordFoldingBeyondASCII holds the doctor filter and the patient
// name ordering to Unicode case folding (db.Fold) on every engine. SQLite's
// NOCASE folds ASCII only: it missed "Dr. Öz" for "dr. öz", and put
// "Élodie" before "élise"; PostgreSQL gave the other answers.
func testRecordFoldingBeyondASCII(t *testing.T, s db.Store) {
	ctx := t.Context()
	u := createUser(t, s, "fold@example.org")
	var all []model.MedicalRecord
	for i, p := range []struct{ patient, doctor string }{
		{"Élodie Martin", "Dr. Öz"},
		{"élise Roy", "DR. ÖZ"},
		{"Zoë Adams", "dr. öz"},
		{"adam Ng", "Dr. Oz"},
	} {
		r := newRecord(u.ID, sec(i))
		r.PatientName, r.Doctor = p.patient, p.doctor
		all = append(all, r)
	}
	createRecords(t, s, all...)
	list := func(f db.RecordFilter) []string {
		t.Helper()
		f.Limit = 100
		got, total, err := s.Read().ListRecords(ctx, f)
		if err != nil || total != len(got) {
			t.Fatalf("ListRecords %+v: %d of %d, %v", f, len(got), total, err)
		}
		var names []string
		for _, r := range got {
			names = append(names, r.PatientName)
		}
		return names
	}
	byName := db.RecordFilter{Ordering: "patient_name"}
	// The folded keys in byte order: "adam ng" < "zoë adams" < "élise roy" < "élodie martin".
	checkIDs(t, "patient_name ordering", list(byName), []string{"adam Ng", "Zoë Adams", "élise Roy", "Élodie Martin"})
	byName.Doctor = "dr. öz"
	checkIDs(t, "doctor dr. öz", list(byName), []string{"Zoë Adams", "élise Roy", "Élodie Martin"})
	byName.Doctor = "DR. ÖZ"
	checkIDs(t, "doctor DR. ÖZ", list(byName), []string{"Zoë Adams", "élise Roy", "Élodie Martin"})
	byName.Doctor = "dr. oz"
	checkIDs(t, "doctor dr. oz", list(byName), []string{"adam Ng"})
}

func testListRecordsFilters(t *testing.T, s db.Store) {
	ctx := t.Context()
	pa, pb := createUser(t, s, "pa@example.org"), createUser(t, s, "pb@example.org")
	mk := func(owner db.UserRow, created int, patient, doctor, diagnosis, treatment string, treated model.Date) model.MedicalRecord {
		r := newRecord(owner.ID, sec(created))
		r.PatientName, r.Doctor, r.Diagnosis, r.Treatment, r.DateOfTreatment = patient, doctor, diagnosis, treatment, treated
		return r
	}
	june := func(day int) model.Date { return model.NewDate(2031, time.June, day) }
	rs := map[string]model.MedicalRecord{
		"r1": mk(pa, 1, "Élodie Martin", "Dr. Müller", "Migraine", "Rest", june(1)),
		"r2": mk(pa, 2, "Bob Stone", "Dr. House", "100% recovered", "None", june(10)),
		"r3": mk(pb, 3, "Carol King", "dr. house", "Dose 1000 mg", "Ibuprofen", june(20)),
		"r4": mk(pb, 4, "Dave a_b", "Dr. House Jr.", "Fracture", "Cast", model.NewDate(2031, time.July, 1)),
		"r5": mk(pb, 5, "Eve axb", "Dr. Who", `back\slash`, "x", june(10)),
	}
	var all []model.MedicalRecord
	for _, r := range rs {
		all = append(all, r)
	}
	createRecords(t, s, all...)
	for _, tc := range []struct {
		name string
		f    db.RecordFilter
		want []string
	}{
		{"none", db.RecordFilter{}, []string{"r1", "r2", "r3", "r4", "r5"}},
		{"user a", db.RecordFilter{UserID: pa.ID}, []string{"r1", "r2"}},
		{"user b", db.RecordFilter{UserID: pb.ID}, []string{"r3", "r4", "r5"}},
		{"user without records", db.RecordFilter{UserID: uuid.NewString()}, nil},
		{"search patient", db.RecordFilter{Search: "carol"}, []string{"r3"}},
		{"search doctor", db.RecordFilter{Search: "HOUSE"}, []string{"r2", "r3", "r4"}},
		{"search diagnosis", db.RecordFilter{Search: "migr"}, []string{"r1"}},
		{"search misses treatment", db.RecordFilter{Search: "ibuprofen"}, nil},
		{"search across fields", db.RecordFilter{Search: "martindr"}, nil},
		{"search lower-case accent", db.RecordFilter{Search: "élodie"}, []string{"r1"}},
		{"search upper-case accent", db.RecordFilter{Search: "ÉLODIE"}, []string{"r1"}},
		{"search upper-case umlaut", db.RecordFilter{Search: "MÜLLER"}, []string{"r1"}},
		{"search lower-case umlaut", db.RecordFilter{Search: "müller"}, []string{"r1"}},
		// The search matches the starts of words (search.go has the
		// whole table): % _ \ separate words, and "100" starts "1000".
		{"search percent separates words", db.RecordFilter{Search: "100%"}, []string{"r2", "r3"}},
		{"search underscore separates words", db.RecordFilter{Search: "a_b"}, []string{"r4", "r5"}},
		{"search backslash separates words", db.RecordFilter{Search: `back\s`}, []string{"r5"}},
		{"search is not a substring", db.RecordFilter{Search: "ouse"}, nil},
		{"doctor exact", db.RecordFilter{Doctor: "Dr. House"}, []string{"r2", "r3"}},
		{"doctor ignoring case", db.RecordFilter{Doctor: "DR. HOUSE"}, []string{"r2", "r3"}},
		{"doctor is not a substring", db.RecordFilter{Doctor: "Dr. Hous"}, nil},
		{"treated after, inclusive", db.RecordFilter{TreatedAfter: ptr(june(10))}, []string{"r2", "r3", "r4", "r5"}},
		{"treated before, inclusive", db.RecordFilter{TreatedBefore: ptr(june(10))}, []string{"r1", "r2", "r5"}},
		{"treated on one day", db.RecordFilter{TreatedAfter: ptr(june(10)), TreatedBefore: ptr(june(10))}, []string{"r2", "r5"}},
		{"treated between", db.RecordFilter{TreatedAfter: ptr(june(11)), TreatedBefore: ptr(june(30))}, []string{"r3"}},
		{"treated in an empty range", db.RecordFilter{TreatedAfter: ptr(june(11)), TreatedBefore: ptr(june(10))}, nil},
		{"user and search", db.RecordFilter{UserID: pb.ID, Search: "house"}, []string{"r3", "r4"}},
		{"everything", db.RecordFilter{UserID: pb.ID, Search: "car", Doctor: "dr. HOUSE", TreatedAfter: ptr(june(20)), TreatedBefore: ptr(june(20))}, []string{"r3"}},
	} {
		var want []model.MedicalRecord
		for _, l := range tc.want {
			want = append(want, rs[l])
		}
		// The default ordering is newest first.
		wantIDs := ids(sortRecords(want, model.DefaultRecordOrdering), recordID)
		f := tc.f
		f.Limit = 100
		got, total, err := s.Read().ListRecords(ctx, f)
		if err != nil {
			t.Errorf("%s: ListRecords: %v", tc.name, err)
			continue
		}
		checkIDs(t, tc.name, ids(got, recordID), wantIDs)
		if total != len(wantIDs) {
			t.Errorf("%s: total %d, want %d", tc.name, total, len(wantIDs))
		}
		for _, r := range got {
			checkRecord(t, tc.name, r, rs[labelOf(rs, r.ID)])
		}
		f.Limit = 1
		var paged []string
		for f.Offset = 0; f.Offset <= len(wantIDs)+1; f.Offset++ {
			got, total, err := s.Read().ListRecords(ctx, f)
			if err != nil || total != len(wantIDs) {
				t.Errorf("%s: page at %d: total %d, %v; want %d", tc.name, f.Offset, total, err, len(wantIDs))
			}
			paged = append(paged, ids(got, recordID)...)
		}
		checkIDs(t, tc.name+", one record a page", paged, wantIDs)
		recordKeyset(t, s, tc.name, tc.f, wantIDs, 2)
	}
}

// labelOf returns the label of the record with id in rs.
func labelOf(rs map[string]model.MedicalRecord, id string) string {
	for l, r := range rs {
		if r.ID == id {
			return l
		}
	}
	return ""
}

// sortRecords sorts rs as ListRecords does for ordering: by its column,
// patient names ignoring (ASCII) case, then by id, the whole descending
// when ordering starts with "-".
func sortRecords(rs []model.MedicalRecord, ordering string) []model.MedicalRecord {
	desc := strings.HasPrefix(ordering, "-")
	col := strings.TrimPrefix(ordering, "-")
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b model.MedicalRecord) int {
		var c int
		switch col {
		case "created":
			c = a.Created.Compare(b.Created)
		case "updated":
			c = a.Updated.Compare(b.Updated)
		case "date_of_treatment":
			c = cmp.Compare(a.DateOfTreatment.String(), b.DateOfTreatment.String())
		case "patient_name":
			c = cmp.Compare(strings.ToLower(a.PatientName), strings.ToLower(b.PatientName))
		default:
			panic("unknown ordering " + ordering)
		}
		c = cmp.Or(c, cmp.Compare(a.ID, b.ID))
		if desc {
			c = -c
		}
		return c
	})
	return rs
}

// checkOrderings fails the test unless every ordering of ListRecords, both
// ways, lists all of rs as sortRecords does, whole and in pages.
func checkOrderings(t *testing.T, s db.Store, rs []model.MedicalRecord, orderings []string) {
	t.Helper()
	ctx := t.Context()
	for _, o := range orderings {
		for _, ordering := range []string{o, "-" + o} {
			want := ids(sortRecords(rs, ordering), recordID)
			got, total, err := s.Read().ListRecords(ctx, db.RecordFilter{Ordering: ordering, Limit: 100})
			if err != nil {
				t.Errorf("%s: %v", ordering, err)
				continue
			}
			checkIDs(t, ordering, ids(got, recordID), want)
			if total != len(want) {
				t.Errorf("%s: total %d, want %d", ordering, total, len(want))
			}
			// Pages split ties: the id keeps them apart.
			var paged []string
			for off := 0; off < len(want)+5; off += 5 {
				page, total, err := s.Read().ListRecords(ctx, db.RecordFilter{Ordering: ordering, Limit: 5, Offset: off})
				if err != nil || total != len(want) {
					t.Errorf("%s at %d: total %d, %v; want %d", ordering, off, total, err, len(want))
				}
				paged = append(paged, ids(page, recordID)...)
			}
			checkIDs(t, ordering+" in pages of 5", paged, want)
			for _, size := range []int{1, 5} {
				recordKeyset(t, s, ordering, db.RecordFilter{Ordering: ordering}, want, size)
			}
		}
	}
}

func testRecordOrderings(t *testing.T, s db.Store) {
	u := createUser(t, s, "order@example.org")
	names := []string{"alice", "Bob", "carol", "Dave", "eve", "Frank"}
	var rs []model.MedicalRecord
	for i := range 12 {
		r := newRecord(u.ID, at(time.Duration(i/2)*time.Second)) // created: pairs tie
		r.Updated = at(time.Duration((i*7)%5) * time.Minute)     // updated: ties, another order
		r.PatientName = names[i%len(names)]                      // names: pairs tie, mixed case
		r.DateOfTreatment = model.NewDate(2031, time.June, 1+(i*5)%4)
		rs = append(rs, r)
	}
	createRecords(t, s, rs...)
	checkOrderings(t, s, rs, model.RecordOrderings)
	// No ordering is the default one.
	want := ids(sortRecords(rs, model.DefaultRecordOrdering), recordID)
	got, _, err := s.Read().ListRecords(t.Context(), db.RecordFilter{Limit: 100})
	mustErr(t, "ListRecords", err, nil)
	checkIDs(t, "no ordering", ids(got, recordID), want)
}

// Patient names are ordered character by character, ignoring case: a
// space sorts before letters, so "Ann Lee" comes before "Anna Bell", as on
// SQLite (NOCASE), whatever a locale's collation would do with spaces and
// punctuation.
func testPatientNameOrderWithSpaces(t *testing.T, s db.Store) {
	u := createUser(t, s, "names@example.org")
	var rs []model.MedicalRecord
	for i, name := range []string{"Annabel", "anna bell", "Ann Lee", "ann-marie", "Anne", "ann"} {
		r := newRecord(u.ID, sec(i))
		r.PatientName = name
		rs = append(rs, r)
	}
	createRecords(t, s, rs...)
	checkOrderings(t, s, rs, []string{"patient_name"})
}
