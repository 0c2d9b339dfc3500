package dbtest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// testRecordSearchWords holds both engines to the records search's
// semantics (db.SearchWords): every word of the query must start a word of
// the patient name, doctor or diagnosis, ignoring case and accents; other
// characters only separate words, so FTS, tsquery and LIKE syntax is
// inert; a query without words matches nothing. The default ordering and
// paging apply to the matches as to any list.
func testRecordSearchWords(t *testing.T, s db.Store) {
	ctx := t.Context()
	pa, pb := createUser(t, s, "sa@example.org"), createUser(t, s, "sb@example.org")
	mk := func(owner db.UserRow, created int, patient, doctor, diagnosis string) model.MedicalRecord {
		r := newRecord(owner.ID, sec(created))
		r.PatientName, r.Doctor, r.Diagnosis, r.Treatment = patient, doctor, diagnosis, "paracetamol"
		r.DateOfTreatment = model.NewDate(2031, time.June, created)
		return r
	}
	rs := map[string]model.MedicalRecord{
		"s1": mk(pa, 1, "Élodie Martin", "Dr. Müller", "Migraine with aura"),
		"s2": mk(pa, 2, "Bob O'Brien", "Dr. House", "100% recovered; 50_50 chance"),
		"s3": mk(pb, 3, "Carol King", "dr. house", `Asthma "severe" *acute*`),
		"s4": mk(pb, 4, "Zoë Ærø", "Dr. Straße", `back\slash`),
		"s5": mk(pb, 5, "İsmail Şahin", "DR. WHO", "Bronchitis"),
		// More than 16 words: PostgreSQL indexes no pairs of them.
		"s6": mk(pa, 6, "Amara Okafor", "Dr. Kim", "Gout of the left big toe after a long flight with swelling redness heat and pain at night"),
		"s7": mk(pa, 7, "Amara Li", "Dr. Kim", "Gout"),
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
		{"a word", db.RecordFilter{Search: "migraine"}, []string{"s1"}},
		{"the start of a word", db.RecordFilter{Search: "mig"}, []string{"s1"}},
		{"one letter", db.RecordFilter{Search: "b"}, []string{"s2", "s4", "s5", "s6"}},
		{"not inside a word", db.RecordFilter{Search: "graine"}, nil},
		{"not a longer word", db.RecordFilter{Search: "migraines"}, nil},
		// Starts of a longer word: PostgreSQL indexes the starts of up to
		// eight characters as lexemes, and asks for a longer one as a prefix.
		{"seven letters of ten", db.RecordFilter{Search: "bronchi"}, []string{"s5"}},
		{"eight letters of ten", db.RecordFilter{Search: "bronchit"}, []string{"s5"}},
		{"nine letters of ten", db.RecordFilter{Search: "bronchiti"}, []string{"s5"}},
		{"a ten-letter word", db.RecordFilter{Search: "bronchitis"}, []string{"s5"}},
		{"not a longer ten-letter word", db.RecordFilter{Search: "bronchitiz"}, nil},
		{"a long start and a short one", db.RecordFilter{Search: "bronchiti sa"}, []string{"s5"}},
		{"a long word, not inside", db.RecordFilter{Search: "ronchitis"}, nil},
		{"upper case", db.RecordFilter{Search: "MIGRAINE"}, []string{"s1"}},
		{"mixed case", db.RecordFilter{Search: "hOuSe"}, []string{"s2", "s3"}},
		{"accent in the query", db.RecordFilter{Search: "élo"}, []string{"s1"}},
		{"accent in the record only", db.RecordFilter{Search: "ELODIE"}, []string{"s1"}},
		{"umlaut", db.RecordFilter{Search: "MÜLL"}, []string{"s1"}},
		{"umlaut dropped", db.RecordFilter{Search: "muller"}, []string{"s1"}},
		{"diaeresis", db.RecordFilter{Search: "zoe"}, []string{"s4"}},
		{"dotted capital I", db.RecordFilter{Search: "ismail"}, []string{"s5"}},
		{"cedilla", db.RecordFilter{Search: "SAHIN"}, []string{"s5"}},
		{"sharp s", db.RecordFilter{Search: "STRASSE"}, []string{"s4"}},
		{"sharp s in the query", db.RecordFilter{Search: "straß"}, []string{"s4"}},
		{"a letter of its own", db.RecordFilter{Search: "ærø"}, []string{"s4"}},
		{"not folded to another letter", db.RecordFilter{Search: "aero"}, nil},
		{"doctor", db.RecordFilter{Search: "who"}, []string{"s5"}},
		{"every record", db.RecordFilter{Search: "dr"}, []string{"s1", "s2", "s3", "s4", "s5", "s6", "s7"}},
		// Whole words, which PostgreSQL asks for by their pairs when it can.
		{"two whole words", db.RecordFilter{Search: "amara gout"}, []string{"s6", "s7"}},
		{"two whole words of a record of many words", db.RecordFilter{Search: "toe flight"}, []string{"s6"}},
		{"three whole words", db.RecordFilter{Search: "kim gout okafor"}, []string{"s6"}},
		{"a whole word of two letters", db.RecordFilter{Search: "li gout"}, []string{"s7"}},
		{"two words that start one word", db.RecordFilter{Search: "gou gout amara"}, []string{"s6", "s7"}},
		{"whole words that no record holds together", db.RecordFilter{Search: "carol gout"}, nil},
		{"two words", db.RecordFilter{Search: "house carol"}, []string{"s3"}},
		{"two words in two fields", db.RecordFilter{Search: "King asth"}, []string{"s3"}},
		{"three words, any order", db.RecordFilter{Search: "sev king house"}, []string{"s3"}},
		{"all words must match", db.RecordFilter{Search: "carol bob"}, nil},
		{"a word twice", db.RecordFilter{Search: "house HOUSE"}, []string{"s2", "s3"}},
		{"treatment is not searched", db.RecordFilter{Search: "paracetamol"}, nil},
		{"no match", db.RecordFilter{Search: "xylophone"}, nil},
		{"digits", db.RecordFilter{Search: "100"}, []string{"s2"}},
		{"percent", db.RecordFilter{Search: "100%"}, []string{"s2"}},
		{"percent alone", db.RecordFilter{Search: "%"}, nil},
		{"percent as a wildcard", db.RecordFilter{Search: "%ouse"}, nil},
		{"underscore", db.RecordFilter{Search: "50_50"}, []string{"s2"}},
		{"underscore alone", db.RecordFilter{Search: "_"}, nil},
		{"underscore as a wildcard", db.RecordFilter{Search: "h_use"}, nil},
		{"backslash", db.RecordFilter{Search: `back\slash`}, []string{"s4"}},
		{"backslash alone", db.RecordFilter{Search: `\`}, nil},
		{"quotes", db.RecordFilter{Search: `"severe"`}, []string{"s3"}},
		{"a quote alone", db.RecordFilter{Search: `"`}, nil},
		{"an unbalanced quote", db.RecordFilter{Search: `"sev`}, []string{"s3"}},
		{"asterisks", db.RecordFilter{Search: "*acute*"}, []string{"s3"}},
		{"an asterisk alone", db.RecordFilter{Search: "*"}, nil},
		{"an asterisk as a wildcard", db.RecordFilter{Search: "*ute"}, nil},
		{"apostrophe", db.RecordFilter{Search: "o'brien"}, []string{"s2"}},
		{"only punctuation", db.RecordFilter{Search: `% _ \ " * ' : ( ) - ^`}, nil},
		{"FTS operators", db.RecordFilter{Search: "house OR carol"}, nil},
		{"FTS NOT", db.RecordFilter{Search: "NOT house"}, nil},
		{"FTS column filter", db.RecordFilter{Search: "search_words:house"}, nil},
		{"tsquery syntax", db.RecordFilter{Search: "house & !carol | bob:*"}, nil},
		{"tsquery prefix", db.RecordFilter{Search: "hou:*"}, []string{"s2", "s3"}},
		{"SQL", db.RecordFilter{Search: "'; DROP TABLE medical_records; --"}, nil},
		// Sixteen distinct words that all start words of s3, then more.
		{"the first 16 words count", db.RecordFilter{Search: "c ca car caro carol k ki kin king d dr h ho hou hous house zzz"}, []string{"s3"}},
		{"a 16th word counts", db.RecordFilter{Search: "c ca car caro carol k ki kin king d dr h ho hou hous zzz"}, nil},
		{"thousands of words", db.RecordFilter{Search: strings.Repeat("house w ", 3000) + strings.Repeat("x", 5000)}, nil},
		{"with the owner", db.RecordFilter{UserID: pb.ID, Search: "house"}, []string{"s3"}},
		{"with the doctor", db.RecordFilter{Doctor: "dr. who", Search: "b"}, []string{"s5"}},
		{"with dates", db.RecordFilter{TreatedAfter: ptr(model.NewDate(2031, time.June, 3)), Search: "house"}, []string{"s3"}},
	} {
		var want []model.MedicalRecord
		for _, l := range tc.want {
			want = append(want, rs[l])
		}
		for _, ordering := range []string{model.DefaultRecordOrdering, "patient_name", "-date_of_treatment"} {
			wantIDs := ids(sortRecords(want, ordering), recordID)
			f := tc.f
			f.Ordering, f.Limit = ordering, 100
			got, total, err := s.Read().ListRecords(ctx, f)
			if err != nil {
				t.Errorf("%s, %s: ListRecords: %v", tc.name, ordering, err)
				continue
			}
			checkIDs(t, tc.name+", "+ordering, ids(got, recordID), wantIDs)
			if total != len(wantIDs) {
				t.Errorf("%s, %s: total %d, want %d", tc.name, ordering, total, len(wantIDs))
			}
			f.Limit = 2
			var paged []string
			for f.Offset = 0; f.Offset <= len(wantIDs)+2; f.Offset += 2 {
				got, total, err := s.Read().ListRecords(ctx, f)
				if err != nil || total != len(wantIDs) {
					t.Errorf("%s, %s: page at %d: total %d, %v; want %d", tc.name, ordering, f.Offset, total, err, len(wantIDs))
				}
				paged = append(paged, ids(got, recordID)...)
			}
			checkIDs(t, tc.name+", "+ordering+", two records a page", paged, wantIDs)
		}
	}
}

// testRecordSearchFollowsWrites holds the index to the records' writes:
// a created record is found at once, an updated one by its new words only,
// a deleted one no more, and a rolled-back write leaves the index as it
// was.
func testRecordSearchFollowsWrites(t *testing.T, s db.Store) {
	ctx := t.Context()
	u := createUser(t, s, "sw@example.org")
	r := newRecord(u.ID, sec(1))
	r.PatientName, r.Doctor, r.Diagnosis = "Quentin Blake", "Dr. Ink", "Sketchy cough"
	createRecords(t, s, r)
	found := func(search string) int {
		t.Helper()
		_, total, err := s.Read().ListRecords(ctx, db.RecordFilter{Search: search, Limit: 10})
		if err != nil {
			t.Fatalf("search %q: %v", search, err)
		}
		return total
	}
	if n := found("quentin sketch"); n != 1 {
		t.Errorf("after create: %d found, want 1", n)
	}
	// An update that keeps the words (a new treatment) keeps them found.
	r.Treatment, r.Updated = "Honey", sec(2)
	write(t, s, func(tx db.Tx) error { return tx.UpdateRecord(ctx, r) })
	if n := found("quentin"); n != 1 {
		t.Errorf("after an update of the treatment: %d found, want 1", n)
	}
	r.Diagnosis, r.Updated = "Fever", sec(3)
	write(t, s, func(tx db.Tx) error { return tx.UpdateRecord(ctx, r) })
	if n, m := found("sketch"), found("fever quentin"); n != 0 || m != 1 {
		t.Errorf("after an update of the diagnosis: old words %d found, new %d; want 0 and 1", n, m)
	}
	rollback := errors.New("roll back")
	other := newRecord(u.ID, sec(4))
	other.PatientName = "Rolled Back"
	err := s.Write(ctx, func(tx db.Tx) error {
		if err := tx.CreateRecord(ctx, other); err != nil {
			return err
		}
		r.Diagnosis = "Undone"
		if err := tx.UpdateRecord(ctx, r); err != nil {
			return err
		}
		if err := tx.DeleteRecord(ctx, r.ID); err != nil {
			return err
		}
		return rollback
	})
	wantErr(t, "rolled-back Write", err, rollback)
	if n, m, k := found("rolled"), found("undone"), found("fever"); n != 0 || m != 0 || k != 1 {
		t.Errorf("after a rolled-back write: %d, %d, %d found; want 0, 0, 1", n, m, k)
	}
	write(t, s, func(tx db.Tx) error { return tx.DeleteRecord(ctx, r.ID) })
	if n := found("quentin"); n != 0 {
		t.Errorf("after delete: %d found, want 0", n)
	}
	// A new record where the deleted one was is found by its own words.
	again := newRecord(u.ID, sec(5))
	again.PatientName = "Another Name"
	createRecords(t, s, again)
	if n, m := found("quentin"), found("another"); n != 0 || m != 1 {
		t.Errorf("after a new create: %d, %d found; want 0, 1", n, m)
	}
}

// testSearchWordOfEveryRecord holds a search to its words when one of them
// starts a word every record holds (the "dr" of "Dr." in every doctor's
// name), which the SQLite engine leaves out of the index's query as
// filtering nothing: the answers must stay those of every word required,
// through creates, updates, deletes and a rolled-back write that each
// make the word universal or not. An engine whose knowledge of "every
// record" lagged a write would let a record without the word through.
func testSearchWordOfEveryRecord(t *testing.T, s db.Store) {
	ctx := t.Context()
	u, other := createUser(t, s, "every@example.org"), createUser(t, s, "other@example.org")
	record := func(owner string, second int, name, doctor string) model.MedicalRecord {
		r := newRecord(owner, sec(second))
		r.PatientName, r.Doctor, r.Diagnosis = name, doctor, "Flu"
		return r
	}
	kimLee, annKim, bob := record(u.ID, 1, "Kim Lee", "Dr. House"), record(u.ID, 2, "Ann Kim", "Dr. Who"), record(other.ID, 3, "Bob Stone", "Dr. House")
	createRecords(t, s, kimLee, annKim, bob)
	check := func(when string, want map[string][]string) {
		t.Helper()
		for search, ids := range want {
			got, total, err := s.Read().ListRecords(ctx, db.RecordFilter{Search: search, Ordering: "created", Limit: 10})
			if err != nil {
				t.Fatalf("%s: search %q: %v", when, search, err)
			}
			var gotIDs []string
			for _, r := range got {
				gotIDs = append(gotIDs, r.ID)
			}
			if !slices.Equal(gotIDs, ids) || total != len(ids) {
				t.Errorf("%s: search %q: %v (total %d), want %v", when, search, gotIDs, total, ids)
			}
		}
	}
	check("every record a Dr.", map[string][]string{
		"dr kim": {kimLee.ID, annKim.ID}, "d kim": {kimLee.ID, annKim.ID}, "DR": {kimLee.ID, annKim.ID, bob.ID},
		"dr": {kimLee.ID, annKim.ID, bob.ID}, "dr nobody": nil, "dr flu": {kimLee.ID, annKim.ID, bob.ID},
	})
	checkRecordTotals(t, s, db.RecordFilter{Search: "dr", UserID: u.ID}, 2)
	checkRecordTotals(t, s, db.RecordFilter{Search: "dr flu", Doctor: "dr. house"}, 2)

	nurse := record(u.ID, 4, "Kim Park", "Nurse Joy")
	createRecords(t, s, nurse)
	check("a record without Dr.", map[string][]string{
		"dr kim": {kimLee.ID, annKim.ID}, "kim": {kimLee.ID, annKim.ID, nurse.ID}, "dr": {kimLee.ID, annKim.ID, bob.ID},
	})
	write(t, s, func(tx db.Tx) error { return tx.DeleteRecord(ctx, nurse.ID) })
	check("that record deleted", map[string][]string{"dr kim": {kimLee.ID, annKim.ID}, "kim": {kimLee.ID, annKim.ID}})

	// A deleted Dr. leaves fewer records with the word, and fewer records:
	// a record without it is then not one of every record's.
	write(t, s, func(tx db.Tx) error { return tx.DeleteRecord(ctx, bob.ID) })
	nurse2 := record(u.ID, 5, "Kim Nurse", "Nurse Joy")
	createRecords(t, s, nurse2)
	check("a Dr. deleted, a nurse created", map[string][]string{"dr kim": {kimLee.ID, annKim.ID}, "dr": {kimLee.ID, annKim.ID}})
	write(t, s, func(tx db.Tx) error { return tx.DeleteRecord(ctx, nurse2.ID) })

	// An update that takes the word away, and one that gives it back.
	kimLee.Doctor, kimLee.Updated = "Nurse Joy", sec(6)
	write(t, s, func(tx db.Tx) error { return tx.UpdateRecord(ctx, kimLee) })
	check("a Dr. updated to a nurse", map[string][]string{"dr kim": {annKim.ID}, "dr": {annKim.ID}, "kim": {kimLee.ID, annKim.ID}})
	kimLee.Doctor, kimLee.Updated = "Dr. House", sec(7)
	write(t, s, func(tx db.Tx) error { return tx.UpdateRecord(ctx, kimLee) })
	check("the nurse a Dr. again", map[string][]string{"dr kim": {kimLee.ID, annKim.ID}, "dr": {kimLee.ID, annKim.ID}})

	// A rolled-back write leaves the word as universal as it was.
	rollback := errors.New("roll back")
	err := s.Write(ctx, func(tx db.Tx) error {
		if err := tx.CreateRecord(ctx, record(u.ID, 8, "Kim Gone", "Dr. Gone")); err != nil {
			return err
		}
		if err := tx.DeleteRecord(ctx, annKim.ID); err != nil {
			return err
		}
		return rollback
	})
	wantErr(t, "rolled-back Write", err, rollback)
	nurse3 := record(u.ID, 9, "Kim Three", "Nurse Joy")
	createRecords(t, s, nurse3)
	check("after a rolled-back write", map[string][]string{"dr kim": {kimLee.ID, annKim.ID}, "gone": nil, "kim": {kimLee.ID, annKim.ID, nurse3.ID}})
}
