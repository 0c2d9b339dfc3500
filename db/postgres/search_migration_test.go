package postgres_test

import (
	"context"
	"database/sql"
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
	if _, err := p.UpTo(ctx, 4); err != nil {
		t.Fatal(err)
	}
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
