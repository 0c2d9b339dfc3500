package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/anavara/anavara/db/dbtest"
	"github.com/anavara/anavara/db/sqlite"
)

// checkWordCounts fails the test unless search_word_counts at path holds
// every word of the records' search_words with the number of records
// holding it.
func checkWordCounts(t *testing.T, when, path string) {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stored := map[string]int{}
	rows, err := conn.Query(`SELECT word, records FROM search_word_counts`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var w string
		var n int
		if err := rows.Scan(&w, &n); err != nil {
			t.Fatal(err)
		}
		stored[w] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var searchWords []string
	rows, err = conn.Query(`SELECT search_words FROM medical_records`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var words string
		if err := rows.Scan(&words); err != nil {
			t.Fatal(err)
		}
		searchWords = append(searchWords, words)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	dbtest.CheckWordCounts(t, when, stored, dbtest.TrueWordCounts(searchWords))
}

// The search's word counts (search_word_counts.go) follow every write the
// code makes, rolled back or not, an import, and, through the recount at
// open, writes that bypassed the code.
func TestSearchWordCountsStayInStep(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "anavara.db")
	d := open(t, sqlite.Options{Path: path})
	u := newUser(t, d, "words@example.org")
	dbtest.WriteRandomRecords(t, d, u.ID, 300)
	checkWordCounts(t, "after the writes", path)

	copied := filepath.Join(dir, "copy.db")
	dst := open(t, sqlite.Options{Path: copied})
	if err := copyStore(ctx, d, dst, -1); err != nil {
		t.Fatal(err)
	}
	checkWordCounts(t, "after an import", copied)

	// An operator's sqlite3 session deletes two records and inserts one,
	// which moves the record counter too, and the next open recounts. (A
	// session that left the number of records as it was would go unseen,
	// as it leaves the search index wrong: writes to medical_records
	// belong to the code.)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	execOn(t, path, `DELETE FROM medical_records WHERE rowid IN (SELECT rowid FROM medical_records ORDER BY rowid LIMIT 2)`,
		fmt.Sprintf(`INSERT INTO medical_records (id, user_id, patient_name, date_of_birth, date_of_treatment, doctor, created, updated, search_words)
			VALUES ('outside', '%s', 'Zed', '1990-01-01', '2030-01-01', 'D', 0, 0, 'zed d')`, u.ID))
	d = open(t, sqlite.Options{Path: path})
	checkWordCounts(t, "after writes outside the code and a reopen", path)

	// An older build, run on the database after the upgrade, deletes a
	// record and creates one: the record counter stays right and the word
	// counts as they were. The next open sees that they no longer add up
	// (a record has at least two words, the new one has one) and recounts
	// them.
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	execOn(t, path, `DELETE FROM medical_records WHERE rowid = (SELECT min(rowid) FROM medical_records WHERE search_words LIKE '%kim%')`,
		fmt.Sprintf(`INSERT INTO medical_records (id, user_id, patient_name, date_of_birth, date_of_treatment, doctor, created, updated, search_words)
			VALUES ('older', '%s', 'Yul', '1990-01-01', '2030-01-01', '', 0, 0, 'yul')`, u.ID))
	d = open(t, sqlite.Options{Path: path})
	checkWordCounts(t, "after an older build's writes and a reopen", path)

	// An older build's edit that trades a word for another leaves the sums
	// as they were, which Open cannot tell; RecountSearchWords (anavara
	// migrate) can.
	execOn(t, path, `UPDATE medical_records SET search_words = 'zyx' WHERE id = 'older'`)
	if err := d.RecountSearchWords(ctx); err != nil {
		t.Fatal(err)
	}
	checkWordCounts(t, "after an older build's edit and a recount", path)
}
