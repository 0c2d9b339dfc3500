package dbtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// The records search benchmark: each engine's search_bench_test.go seeds a
// store with SeedSearchBench and measures it with BenchSearch, so that
// both engines answer the same queries over the same rows.

// The benchmarks' vocabulary, which the server's list benchmarks
// (server/bench_test.go) use too, so that the figures compare: first and
// last names (last names also make the doctors) and diagnoses.
var (
	BenchFirstNames = []string{"Amara", "Bjorn", "Chen", "Dalia", "Emeka", "Fatima", "Goran", "Hana", "Ines", "Jonas",
		"Kwame", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tomas",
		"Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zofia", "Aiko", "Bruno", "Carmen", "Dmitri"}
	BenchLastNames = []string{"Okafor", "Lindqvist", "Wang", "Haddad", "Nwosu", "Rahman", "Petrovic", "Sato", "Ferreira", "Berg",
		"Mensah", "Kowalski", "Alvarez", "Novak", "Farouk", "Iyer", "Murphy", "Costa", "Eriksen", "Dvorak",
		"Tanaka", "Moreau", "Schmidt", "Rossi", "Jansen", "Keller", "Brennan", "Silva", "Horvat", "Quispe",
		"Nakamura", "Adeyemi", "Olsen", "Varga", "Lopez", "Meyer", "Nieminen", "Popescu", "Yilmaz", "Kim"}
	BenchDiagnoses = []string{"Asthma", "Type 2 diabetes", "Hypertension", "Migraine", "Sprained ankle", "Bronchitis",
		"Otitis media", "Iron-deficiency anaemia", "Gastritis", "Lower back pain", "Eczema", "Tonsillitis",
		"Urinary tract infection", "Hypothyroidism", "Seasonal allergic rhinitis", "Osteoarthritis of the knee",
		"Concussion", "Conjunctivitis", "Gout", "Sinusitis", "Plantar fasciitis", "Anxiety disorder",
		"Influenza", "Fractured wrist", "Psoriasis", "Kidney stones", "Tendinitis", "Vertigo", "Shingles", "Pneumonia"}
)

// searchBenchBatch is how many rows SeedSearchBench hands the importer at
// a time.
const searchBenchBatch = 10_000

// SeedSearchBench loads records random records, owned by 1,000 patients,
// into the empty store im through its bulk load (db.Importer, as anavara
// db copy loads a database), one record a minute from 2024-01-01, and
// logs how long that took.
func SeedSearchBench(b *testing.B, im db.Importer, records int) {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	rng := rand.New(rand.NewPCG(2026, 14))
	base := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	users := make([]db.UserRow, 1000)
	for i := range users {
		at := base.Add(time.Duration(i) * time.Second)
		users[i] = db.UserRow{User: model.User{ID: uuid.NewString(), Email: fmt.Sprintf("p%04d@example.org", i),
			FirstName: "Bench", LastName: "Patient", IsActive: true, Created: at, Updated: at}, PasswordHash: "x"}
	}
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	err := im.Import(ctx, func(tx db.ImportTx) error {
		if err := tx.Users(ctx, users); err != nil {
			return err
		}
		batch := make([]model.MedicalRecord, 0, searchBenchBatch)
		for i := 0; i < records; i++ {
			created := base.Add(time.Duration(i) * time.Minute)
			batch = append(batch, model.MedicalRecord{
				ID: uuid.NewString(), UserID: users[rng.IntN(len(users))].ID,
				PatientName: pick(BenchFirstNames) + " " + pick(BenchLastNames),
				DateOfBirth: model.NewDate(1940+rng.IntN(80), time.Month(1+rng.IntN(12)), 1+rng.IntN(28)),
				Diagnosis:   pick(BenchDiagnoses), Treatment: "Rest",
				DateOfTreatment: model.DateOf(created).AddDays(1 + rng.IntN(60)),
				Doctor:          "Dr. " + pick(BenchLastNames), Created: created, Updated: created, Version: 1,
			})
			if len(batch) == cap(batch) || i == records-1 {
				if err := tx.MedicalRecords(ctx, batch); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		return tx.Recount(ctx)
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d records in %s", records, time.Since(start).Round(time.Millisecond))
}

// BenchSearch measures ListRecords as the staff list asks it (20 a page,
// newest first) over a store seeded by SeedSearchBench: the first page
// unfiltered, and searches of one word and two; and the same searches
// oldest first (ordering=created), the other way of reading an index kept
// in one order. Besides ns/op it reports
// the median and 99th percentile of the calls (p50-ms, p99-ms): the
// targets are p50 < 5 ms, p99 < 20 ms for a search and < 1 ms for page 1.
func BenchSearch(b *testing.B, s db.Store) {
	for _, bc := range []struct {
		name, search, ordering string
		// atLeast is the fewest matches the seeded rows must give.
		atLeast int
	}{
		{"page=1", "", "", 1},
		{"search=asthma", "asthma", "", 1},                           // one diagnosis in 30: ~3.3% of rows
		{"search=okafor", "okafor", "", 1},                           // a surname in patient name or doctor: ~5%
		{"search=ast", "ast", "", 1},                                 // a prefix of one word
		{"search=okafor_asthma", "okafor asthma", "", 1},             // two words: ~0.16%
		{"search=amara_okafor", "Amara Okafor", "", 1},               // a patient's name
		{"search=amara_okafor_asthma", "Amara Okafor asthma", "", 1}, // three words: a few dozen records
		{"search=dr_kim", "dr kim", "", 1},                           // a word in every record and a rarer one
		{"search=nomatch", "xylophone", "", 0},                       // no record
		{"search=dr_nomatch", "dr xylophone", "", 0},                 // a word in every record and one in none
		{"search=a", "a", "", 1},                                     // one letter: the start of many words, ~30%
		{"search=a_okafor", "a okafor", "", 1},                       // one letter and a word
		{"search=okafor,ordering=created", "okafor", "created", 1},
		{"search=okafor_asthma,ordering=created", "okafor asthma", "created", 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			f := db.RecordFilter{Search: bc.search, Ordering: bc.ordering, Limit: 20}
			lat := make([]time.Duration, 0, b.N)
			var total int
			for b.Loop() {
				t0 := time.Now()
				rows, n, err := s.Read().ListRecords(ctx, f)
				lat = append(lat, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				if n < bc.atLeast || len(rows) != min(n, 20) {
					b.Fatalf("%d rows of %d", len(rows), n)
				}
				total = n
			}
			ReportLatencies(b, lat)
			b.ReportMetric(float64(total), "matches")
		})
	}
}

// BenchRecord is the i-th record of a stream of creates for owner at at,
// drawn from the benchmarks' vocabulary like the seeded ones.
func BenchRecord(i int, owner string, at time.Time) model.MedicalRecord {
	return model.MedicalRecord{ID: uuid.NewString(), UserID: owner,
		PatientName: BenchFirstNames[i%len(BenchFirstNames)] + " " + BenchLastNames[i%len(BenchLastNames)],
		DateOfBirth: model.NewDate(1980, 1, 1), Diagnosis: BenchDiagnoses[i%len(BenchDiagnoses)],
		Treatment: "Rest", DateOfTreatment: model.DateOf(at), Doctor: "Dr. " + BenchLastNames[(i/7)%len(BenchLastNames)],
		Created: at, Updated: at}
}

// BenchSearchUnderWrites measures the search for search, as BenchSearch
// does (p50-ms, p99-ms), while create is called with BenchRecord's records
// 200 times a second: how the index keeps up with writes. The clock starts
// 3 s after the writes do. create errors end the benchmark.
func BenchSearchUnderWrites(b *testing.B, s db.Store, search string, create func(model.MedicalRecord) error) {
	rows, _, err := s.Read().ListRecords(b.Context(), db.RecordFilter{Limit: 1})
	if err != nil || len(rows) == 0 {
		b.Fatalf("an owner for the creates: %d records, %v", len(rows), err)
	}
	owner := rows[0].UserID
	stop, stopped := make(chan struct{}), make(chan error, 1)
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				stopped <- nil
				return
			case <-tick.C:
			}
			if err := create(BenchRecord(i, owner, time.Now().UTC())); err != nil {
				stopped <- err
				return
			}
		}
	}()
	time.Sleep(3 * time.Second)
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		t0 := time.Now()
		if _, _, err := s.Read().ListRecords(b.Context(), db.RecordFilter{Search: search, Limit: 20}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	close(stop)
	if err := <-stopped; err != nil {
		b.Fatal(err)
	}
	ReportLatencies(b, lat)
}

// ReportLatencies sorts lat, a benchmark's call times, and reports their
// median and 99th percentile in milliseconds (p50-ms, p99-ms).
func ReportLatencies(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(milliseconds(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(milliseconds(lat[min(len(lat)-1, len(lat)*99/100)]), "p99-ms")
}

func milliseconds(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
