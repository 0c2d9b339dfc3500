package sqlite

import (
	"database/sql"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/anavara/anavara/db"
)

// TestSearchWordsMatchUnicode61 holds db.SearchWords to SQLite's unicode61
// tokenizer (remove_diacritics=2), as record_search uses it: for every
// code point, the tokenizer must cut and fold the words SearchWords makes
// of it into exactly those words. Otherwise SQLite would index (and match)
// other words than PostgreSQL, which takes db.SearchWords' as they are.
func TestSearchWordsMatchUnicode61(t *testing.T) {
	conn, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	if _, err := conn.Exec(`CREATE VIRTUAL TABLE tok USING fts3tokenize(unicode61, "remove_diacritics=2")`); err != nil {
		t.Fatal(err)
	}
	tokenize := func(s string) []string {
		rows, err := conn.Query(`SELECT token FROM tok WHERE input = ?`, s)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var tok string
			if err := rows.Scan(&tok); err != nil {
				t.Fatal(err)
			}
			out = append(out, tok)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	const block = 256
	failures := 0
	for lo := rune(0); lo <= utf8.MaxRune; lo += block {
		var words []string
		for r := lo; r < lo+block; r++ {
			if utf8.ValidRune(r) {
				// One code point at a time, each between spaces.
				words = append(words, db.SearchWords(" "+string(r)+" ")...)
			}
		}
		if got := tokenize(strings.Join(words, " ")); !slices.Equal(got, words) {
			// Find the code point.
			for r := lo; r < lo+block && failures < 20; r++ {
				w := db.SearchWords(string(r))
				if got := tokenize(strings.Join(w, " ")); utf8.ValidRune(r) && !slices.Equal(got, w) {
					t.Errorf("%U %q: SearchWords %q, unicode61 %q", r, string(r), w, got)
					failures++
				}
			}
		}
	}
	// A word of many letters stays one word.
	word := db.SearchWords("Ærøskøbing-İstanbul Straße Ωμέγα")
	if got := tokenize(strings.Join(word, " ")); !slices.Equal(got, word) {
		t.Errorf("unicode61 %q, SearchWords %q", got, word)
	}
}
