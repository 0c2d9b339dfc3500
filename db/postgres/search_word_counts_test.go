package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db/dbtest"
	"github.com/anavara/anavara/db/postgres"
)

// checkWordCounts fails the test unless search_word_counts at url holds,
// besides words at 0, every word of the records' search_words with the
// number of records holding it.
func checkWordCounts(t *testing.T, when, url string) {
	t.Helper()
	ctx := context.Background()
	conn := connect(t, url)
	stored := map[string]int{}
	rows, _ := conn.Query(ctx, `SELECT word, records FROM search_word_counts WHERE records <> 0`)
	var w string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&w, &n}, func() error { stored[w] = n; return nil }); err != nil {
		t.Fatal(err)
	}
	rows, _ = conn.Query(ctx, `SELECT search_words FROM medical_records WHERE search_words IS NOT NULL`)
	searchWords, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	dbtest.CheckWordCounts(t, when, stored, dbtest.TrueWordCounts(searchWords))
}

// exec runs statements on url, as an operator's psql session would.
func exec(t *testing.T, url string, statements ...string) {
	t.Helper()
	ctx := context.Background()
	conn := connect(t, url)
	for _, stmt := range statements {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

// The search's word counts (search_word_counts.go) follow every write the
// code makes, rolled back or not, an import, the filling of the words
// that migration 5 left to Open, and, through the recount at open, writes
// that bypassed the code.
func TestSearchWordCountsStayInStep(t *testing.T) {
	ctx := context.Background()
	s, url := openStore(t)
	u := createUser(t, s, "words@example.org")
	dbtest.WriteRandomRecords(t, s, u.ID, 300)
	checkWordCounts(t, "after the writes", url)

	dst, dstURL := openStore(t)
	if err := copyStores(ctx, s, dst, -1); err != nil {
		t.Fatal(err)
	}
	checkWordCounts(t, "after an import", dstURL)

	// A database as migration 12 left one whose records migration 5 left
	// without words: those records are not counted until Open fills them.
	exec(t, url, `UPDATE medical_records SET search_words = NULL WHERE id IN (SELECT id FROM medical_records ORDER BY id LIMIT 40)`,
		`DELETE FROM search_word_counts`,
		`INSERT INTO search_word_counts (word, records) SELECT w, count(*) FROM medical_records, unnest(string_to_array(search_words, ' ')) AS w GROUP BY w`)
	reopen := func() {
		t.Helper()
		again, err := postgres.Open(ctx, postgres.Options{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		again.Close()
	}
	reopen()
	checkWordCounts(t, "after Open filled the words", url)
	// The words are filled: a record left at NULL would fail this.
	exec(t, url, `DO $$ BEGIN ASSERT NOT EXISTS (SELECT FROM medical_records WHERE search_words IS NULL); END $$`)

	// An operator's psql session deletes two records, which moves the
	// record counter too, and the next open recounts.
	exec(t, url, `DELETE FROM medical_records WHERE id IN (SELECT id FROM medical_records ORDER BY id LIMIT 2)`)
	reopen()
	checkWordCounts(t, "after writes outside the code and a reopen", url)

	// An older build, still serving during a rolling upgrade, deletes a
	// record and creates one: the record counter stays right and the word
	// counts as they were. The next open sees that they no longer add up
	// (a record has at least two words, the new one has one) and recounts
	// them.
	exec(t, url, `DELETE FROM medical_records WHERE id = (SELECT id FROM medical_records ORDER BY id LIMIT 1)`,
		`INSERT INTO medical_records (id, user_id, patient_name, date_of_birth, diagnosis, treatment, date_of_treatment, doctor, created, updated, version, patient_name_key, doctor_key, search_words)
			VALUES (gen_random_uuid(), '`+u.ID+`', 'Yul', '1990-01-01', '', '', '2030-01-01', '', now(), now(), 1, 'yul', '', 'yul')`)
	reopen()
	checkWordCounts(t, "after an older build's writes and a reopen", url)

	// An older build's edit that trades a word for another leaves the sums
	// as they were, which Open cannot tell; RecountSearchWords (anavara
	// migrate) can.
	exec(t, url, `UPDATE medical_records SET search_words = 'zyx' WHERE search_words = 'yul'`)
	if err := s.RecountSearchWords(ctx); err != nil {
		t.Fatal(err)
	}
	checkWordCounts(t, "after an older build's edit and a recount", url)
}
