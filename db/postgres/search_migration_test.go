package postgres_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql's pgx driver, for goose
	"github.com/pressly/goose/v3"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/postgres"
	"github.com/anavara/anavara/db/postgres/pgtest"
)

// atVersion4WithRecords makes a database at migration 4 holding n
// records: what migration 5 and Open's fill find on an upgrade.
func atVersion4WithRecords(t *testing.T) (url string, conn *sql.DB, p *goose.Provider) {
	t.Helper()
	ctx := context.Background()
	url, conn, p = emptyAtVersion(t, 4)
	for _, stmt := range []string{
		`INSERT INTO users (id, email, first_name, last_name, password_hash, created, updated)
			VALUES ('00000000-0000-4000-8000-000000000001', 'u@example.org', 'U', 'Ser', 'x', now(), now())`,
		`INSERT INTO medical_records (id, user_id, patient_name, date_of_birth, diagnosis, treatment, date_of_treatment, doctor,
			patient_name_key, doctor_key, search_text, created, updated)
		SELECT gen_random_uuid(), '00000000-0000-4000-8000-000000000001', 'Élodie N' || lpad(i::text, 6, '0'), '1990-01-01',
			CASE WHEN i % 1000 = 7 THEN 'Asthme SÉVÈRE' ELSE 'Flu' END, '', '2030-01-01', 'Dr. Öz',
			'élodie n' || lpad(i::text, 6, '0'), 'dr. öz', 'stale', now(), now()
		FROM generate_series(0, 10004) AS i`,
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	return url, conn, p
}

// Migration 5 leaves the words of existing records to Open, which writes
// them (in more than one batch here) before anything searches: the
// records of a database migrated from version 4 are found by their words.
func TestSearchMigrationFillsExistingRecords(t *testing.T) {
	ctx := context.Background()
	const n = 10_005
	url, conn, p := atVersion4WithRecords(t)
	s, err := postgres.Open(ctx, postgres.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for search, want := range map[string]int{"elodie": n, "SEVERE asth": 10, "oz": n, "n010004": 1, "flu": n - 10, "stale": 0} {
		_, total, err := s.Read().ListRecords(ctx, db.RecordFilter{Search: search, Limit: 10})
		if err != nil || total != want {
			t.Errorf("search %q: %d, %v; want %d", search, total, err, want)
		}
	}
	var pending int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM medical_records WHERE search_words IS NULL`).Scan(&pending); err != nil || pending != 0 {
		t.Errorf("%d records without words, %v", pending, err)
	}
	if _, err := p.DownTo(ctx, 4); err != nil {
		t.Fatal(err)
	}
	var text string
	if err := conn.QueryRowContext(ctx, `SELECT search_text FROM medical_records WHERE patient_name = 'Élodie N000007'`).Scan(&text); err != nil || text != "élodie n000007\x1fdr. öz\x1fasthme sévère" {
		t.Errorf("back at version 4, search_text %q, %v", text, err)
	}
}

// Servers upgraded together start together: their fills take turns (an
// advisory lock per batch), every start succeeds and every record gets its
// words once.
func TestSearchFillConcurrentStarts(t *testing.T) {
	ctx := context.Background()
	url, conn, _ := atVersion4WithRecords(t)
	const starts = 3
	errs := make(chan error, starts)
	for i := 0; i < starts; i++ {
		go func() {
			s, err := postgres.Open(ctx, postgres.Options{URL: url})
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for i := 0; i < starts; i++ {
		if err := <-errs; err != nil {
			t.Errorf("a concurrent start failed: %v", err)
		}
	}
	var pending int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM medical_records WHERE search_words IS NULL`).Scan(&pending); err != nil || pending != 0 {
		t.Errorf("%d records without words, %v", pending, err)
	}
}

// anavara_search_lexemes (migrations 11 and 13), whose result the index
// holds, gives each word and its starts of one to SearchPrefixRunes
// characters (not bytes), the lexemes a query word of up to
// SearchPrefixRunes characters is asked for whole (searchQuery), and each
// pair of the words in byte order, joined by a space, when there are at
// most SearchPairWords words, otherwise SearchManyWordsLexeme, and
// nothing else.
func TestSearchLexemes(t *testing.T) {
	ctx := context.Background()
	conn, err := sql.Open("pgx", pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if postgres.SearchPrefixRunes != 8 || postgres.SearchPairWords != 16 || postgres.SearchPairRunes != 3 ||
		postgres.SearchManyWordsLexeme != "+many" {
		t.Fatalf("SearchPrefixRunes %d, SearchPairWords %d, SearchPairRunes %d, SearchManyWordsLexeme %q: "+
			"migration 13's function has 8, 16, 3 and +many",
			postgres.SearchPrefixRunes, postgres.SearchPairWords, postgres.SearchPairRunes, postgres.SearchManyWordsLexeme)
	}
	sixteen := "a11 a12 a13 a14 a15 a16 a17 a18 a19 b11 b12 b13 b14 b15 b16 b1"
	var sixteenLexemes []string
	ws := strings.Fields(sixteen)
	for i, w := range ws {
		sixteenLexemes = append(sixteenLexemes, w, w[:1], w[:2])
		for _, v := range ws[i+1:] {
			if len(w) >= 3 && len(v) >= 3 {
				a, b := min(w, v), max(w, v)
				sixteenLexemes = append(sixteenLexemes, a+" "+b)
			}
		}
	}
	for _, tc := range []struct {
		words string
		want  []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"dr okafor", []string{"d", "dr", "o", "ok", "oka", "okaf", "okafo", "okafor"}},
		{"amara okafor", []string{"a", "am", "ama", "amar", "amara", "o", "ok", "oka", "okaf", "okafo", "okafor", "amara okafor"}},
		{"okafor amara", []string{"a", "am", "ama", "amar", "amara", "o", "ok", "oka", "okaf", "okafo", "okafor", "amara okafor"}},
		{"élodie", []string{"é", "él", "élo", "élod", "élodi", "élodie"}},
		{"osteoarthritis", []string{"o", "os", "ost", "oste", "osteo", "osteoa", "osteoar", "osteoart", "osteoarthritis"}},
		{"bronchitis", []string{"b", "br", "bro", "bron", "bronc", "bronch", "bronchi", "bronchit", "bronchitis"}},
		{"dr d okafor oka", []string{"d", "dr", "o", "ok", "oka", "okaf", "okafo", "okafor", "oka okafor"}},
		{"éééééééééé", []string{"é", "éé", "ééé", "éééé", "ééééé", "éééééé", "ééééééé", "éééééééé", "éééééééééé"}},
		// Byte order, not the database's collation: "z" (0x7a) before "é" (0xc3).
		{"élan zed", []string{"é", "él", "éla", "élan", "z", "ze", "zed", "zed élan"}},
		// Characters, not bytes: 王小明 is three letters, nine bytes.
		{"王小明 abc", []string{"a", "ab", "abc", "王", "王小", "王小明", "abc 王小明"}},
		{"王小 abc", []string{"a", "ab", "abc", "王", "王小"}},
		{sixteen, sixteenLexemes},
		{sixteen + " c11", append(strings.Fields(sixteen+" c11 a b c a1 b1 c1"), postgres.SearchManyWordsLexeme)},
	} {
		var got string
		if err := conn.QueryRowContext(ctx, `SELECT array_to_string(tsvector_to_array(array_to_tsvector(anavara_search_lexemes($1))), ',')`,
			tc.words).Scan(&got); err != nil {
			t.Fatalf("anavara_search_lexemes(%q): %v", tc.words, err)
		}
		// tsvector_to_array lists the lexemes sorted bytewise, once each.
		want := slices.Compact(slices.Sorted(slices.Values(tc.want)))
		if got != strings.Join(want, ",") {
			t.Errorf("anavara_search_lexemes(%q) = %q, want %q", tc.words, got, strings.Join(want, ","))
		}
	}
	var null bool
	if err := conn.QueryRowContext(ctx, `SELECT anavara_search_lexemes(NULL) IS NULL`).Scan(&null); err != nil || !null {
		t.Errorf("anavara_search_lexemes(NULL) IS NULL: %v, %v", null, err)
	}
}

// Migration 11 builds the index of the words and their starts over the
// records a database at version 10 holds, whose words the code wrote:
// they are found by a start of a word (asked for as a lexeme), by a
// longer start (a prefix) and by a whole word, and going back to version
// 10 they still are (as prefixes).
func TestSearchLexemesMigrationIndexesExistingRecords(t *testing.T) {
	ctx := context.Background()
	url, conn, p := emptyAtVersion(t, 10)
	const n = 10_005
	for _, stmt := range []string{
		`INSERT INTO users (id, email, first_name, last_name, password_hash, created, updated)
			VALUES ('00000000-0000-4000-8000-000000000001', 'u@example.org', 'U', 'Ser', 'x', now(), now())`,
		// The words as db.RecordSearchWords writes them: folded, distinct.
		`INSERT INTO medical_records (id, user_id, patient_name, date_of_birth, diagnosis, treatment, date_of_treatment, doctor,
			patient_name_key, doctor_key, search_words, created, updated)
		SELECT gen_random_uuid(), '00000000-0000-4000-8000-000000000001', 'Élodie N' || lpad(i::text, 6, '0'), '1990-01-01',
			CASE WHEN i % 1000 = 7 THEN 'Bronchitis' ELSE 'Flu' END, '', '2030-01-01', 'Dr. Öz',
			'élodie n' || lpad(i::text, 6, '0'), 'dr. öz',
			'elodie n' || lpad(i::text, 6, '0') || ' dr oz ' || CASE WHEN i % 1000 = 7 THEN 'bronchitis' ELSE 'flu' END, now(), now()
		FROM generate_series(0, 10004) AS i`,
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.UpTo(ctx, 11); err != nil {
		t.Fatal(err)
	}
	var indexed bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_get_indexdef('medical_records_search'::regclass) LIKE '%anavara_search_lexemes(search_words)%'`).Scan(&indexed); err != nil || !indexed {
		t.Fatalf("medical_records_search over anavara_search_lexemes: %v, %v", indexed, err)
	}
	searches := map[string]int{"elo": n, "élodie": n, "bronch": 10, "bronchit": 10, "bronchiti": 10, "BRONCHITIS": 10,
		"bronchitiss": 0, "n01000": 5, "n010004": 1, "d": n, "fl": n - 10, "elodie f": n - 10, "o": n, "ozz": 0}
	s, err := postgres.Open(ctx, postgres.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	for search, want := range searches {
		_, total, err := s.Read().ListRecords(ctx, db.RecordFilter{Search: search, Limit: 10})
		if err != nil || total != want {
			t.Errorf("search %q: %d, %v; want %d", search, total, err, want)
		}
	}
	s.Close()
	if _, err := p.DownTo(ctx, 10); err != nil {
		t.Fatal(err)
	}
	var found, functions int
	if err := conn.QueryRowContext(ctx, `SELECT pg_get_indexdef('medical_records_search'::regclass) LIKE '%array_to_tsvector(string_to_array(search_words, '' ''::text))%'`).Scan(&indexed); err != nil || !indexed {
		t.Errorf("back at version 10, medical_records_search over the words: %v, %v", indexed, err)
	}
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM medical_records
		WHERE array_to_tsvector(string_to_array(search_words, ' ')) @@ 'bronchit:*'::tsquery`).Scan(&found); err != nil || found != 10 {
		t.Errorf("back at version 10, %d records found by a prefix, %v", found, err)
	}
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM pg_proc WHERE proname = 'anavara_search_lexemes'`).Scan(&functions); err != nil || functions != 0 {
		t.Errorf("back at version 10, %d functions anavara_search_lexemes, %v", functions, err)
	}
}

// Migration 13 rebuilds the index over the records a database at version
// 12 holds, with the pairs of their words and a small pending list: a search of two whole words
// finds them by their pair, and one of a record of more than
// SearchPairWords words by its words; going back to version 12, the index
// holds no pair and the words still find them.
func TestSearchPairsMigrationIndexesExistingRecords(t *testing.T) {
	ctx := context.Background()
	url, conn, p := emptyAtVersion(t, 12)
	const n = 10_005
	long := "a long diagnosis of twenty words that names the left big toe and gout among others here"
	for _, stmt := range []string{
		`INSERT INTO users (id, email, first_name, last_name, password_hash, created, updated)
			VALUES ('00000000-0000-4000-8000-000000000001', 'u@example.org', 'U', 'Ser', 'x', now(), now())`,
		// The words as db.RecordSearchWords writes them (folded, distinct),
		// counted as the code counts them.
		`INSERT INTO medical_records (id, user_id, patient_name, date_of_birth, diagnosis, treatment, date_of_treatment, doctor,
			patient_name_key, doctor_key, search_words, created, updated)
		SELECT gen_random_uuid(), '00000000-0000-4000-8000-000000000001', 'Élodie N' || lpad(i::text, 6, '0'), '1990-01-01',
			d, '', '2030-01-01', 'Dr. Öz', 'élodie n' || lpad(i::text, 6, '0'), 'dr. öz',
			'elodie n' || lpad(i::text, 6, '0') || ' dr oz ' || lower(d), now(), now()
		FROM generate_series(0, 10004) AS i,
			LATERAL (SELECT CASE WHEN i % 1000 = 7 THEN 'Gout' WHEN i % 1000 = 8 THEN '` + long + `' ELSE 'Flu' END AS d) AS diagnosis`,
		`INSERT INTO search_word_counts (word, records)
			SELECT w, count(*) FROM medical_records, unnest(string_to_array(search_words, ' ')) AS w GROUP BY w`,
		`UPDATE counts SET n = 10005 WHERE name = 'medical_records' AND part = ''`,
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.UpTo(ctx, 13); err != nil {
		t.Fatal(err)
	}
	indexed := func(tsquery string) int {
		t.Helper()
		var found int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM medical_records
			WHERE array_to_tsvector(anavara_search_lexemes(search_words)) @@ $1::tsquery`, tsquery).Scan(&found); err != nil {
			t.Fatal(err)
		}
		return found
	}
	options := func() string {
		t.Helper()
		var o string
		if err := conn.QueryRowContext(ctx, `SELECT coalesce(array_to_string(reloptions, ','), '') FROM pg_class
			WHERE relname = 'medical_records_search'`).Scan(&o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	if got := options(); got != "gin_pending_list_limit=128" {
		t.Errorf("the search index's options %q, want gin_pending_list_limit=128", got)
	}
	if got := indexed(`'elodie gout'`); got != 10 {
		t.Errorf("the pair 'elodie gout' indexed for %d records, want 10", got)
	}
	if got := indexed(`'+many' & 'gout'`); got != 10 {
		t.Errorf("'+many' & 'gout' indexed for %d records, want 10", got)
	}
	s, err := postgres.Open(ctx, postgres.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	for search, want := range map[string]int{"elodie gout": 20, "gout oz": 20, "toe gout": 10, "gouty": 0, "flu n01000": 5,
		"elodie flu": n - 20, "n010004 flu": 1, "oz dr": n} {
		_, total, err := s.Read().ListRecords(ctx, db.RecordFilter{Search: search, Limit: 10})
		if err != nil || total != want {
			t.Errorf("search %q: %d, %v; want %d", search, total, err, want)
		}
	}
	s.Close()
	if _, err := p.DownTo(ctx, 12); err != nil {
		t.Fatal(err)
	}
	if got := indexed(`'elodie gout'`); got != 0 {
		t.Errorf("back at version 12, the pair 'elodie gout' indexed for %d records", got)
	}
	if got := options(); got != "" {
		t.Errorf("back at version 12, the search index's options %q, want none", got)
	}
	if got := indexed(`'elodie' & 'gout'`); got != 20 {
		t.Errorf("back at version 12, 'elodie' & 'gout' indexed for %d records, want 20", got)
	}
}

// emptyAtVersion makes an empty database at migration version, and
// returns its URL, a connection and the goose provider that migrated it.
func emptyAtVersion(t *testing.T, version int64) (url string, conn *sql.DB, p *goose.Provider) {
	t.Helper()
	url = pgtest.EmptyURL(t)
	conn, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	p, err = goose.NewProvider(goose.DialectPostgres, conn, postgres.Migrations(), goose.WithGoMigrations(postgres.GoMigrations()...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
	return url, conn, p
}
