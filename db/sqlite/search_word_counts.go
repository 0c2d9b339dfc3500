package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// search_word_counts (migration 19) holds, for every word of the records
// search index, how many records hold it. A search uses it to leave out
// query words that filter nothing: a word that starts a word every record
// holds, such as the "dr" of every "Dr." doctor. FTS4 would decode that
// word's doclist, a million entries at a million records, only to keep
// every match of the other words (BENCHMARKS.md, "Issue 14, session 14").
// The counts are kept in step in the record's own write transaction, with
// the index (record_search.go), so that a search that trusts them never
// drops a word some record lacks.

// wordsJSON is words as the JSON array json_each reads: one bound
// argument for any number of words.
func wordsJSON(words []string) string {
	b, _ := json.Marshal(words) // []string always marshals
	return string(b)
}

// countWords adds a record to the count of each of words, which are
// distinct (db.SearchWords).
func (q *queries) countWords(ctx context.Context, words []string) error {
	if len(words) == 0 {
		return nil
	}
	// WHERE true: without it SQLite would read ON CONFLICT as a join's
	// ON clause.
	_, err := q.q.ExecContext(ctx, `INSERT INTO search_word_counts (word, records)
		SELECT value, 1 FROM json_each(?) WHERE true
		ON CONFLICT (word) DO UPDATE SET records = records + 1`, wordsJSON(words))
	if err != nil {
		return fmt.Errorf("count search words: %w", err)
	}
	return nil
}

// uncountWords takes a record off the count of each of words, which are
// distinct, forgetting the words no record holds any more (the table's
// CHECK keeps every count positive).
func (q *queries) uncountWords(ctx context.Context, words []string) error {
	if len(words) == 0 {
		return nil
	}
	list := wordsJSON(words)
	for _, stmt := range []string{
		`DELETE FROM search_word_counts WHERE records = 1 AND word IN (SELECT value FROM json_each(?))`,
		`UPDATE search_word_counts SET records = records - 1 WHERE word IN (SELECT value FROM json_each(?))`,
	} {
		if _, err := q.q.ExecContext(ctx, stmt, list); err != nil {
			return fmt.Errorf("uncount search words: %w", err)
		}
	}
	return nil
}

// recountWords changes the counts for a record whose words were old and
// are now new (each as db.RecordSearchWords joins them): only the words it
// gained or lost.
func (q *queries) recountWords(ctx context.Context, old, new string) error {
	oldWords, newWords := strings.Fields(old), strings.Fields(new)
	had := make(map[string]bool, len(oldWords))
	for _, w := range oldWords {
		had[w] = true
	}
	var gained []string
	for _, w := range newWords {
		if had[w] {
			delete(had, w)
		} else {
			gained = append(gained, w)
		}
	}
	lost := make([]string, 0, len(had))
	for _, w := range oldWords {
		if had[w] {
			lost = append(lost, w)
		}
	}
	if err := q.uncountWords(ctx, lost); err != nil {
		return err
	}
	return q.countWords(ctx, gained)
}

// recountSearchWords rebuilds search_word_counts from the records' own
// words, in the caller's transaction (the migration, an import's Recount,
// recountAtOpen). It reads search_words, not the index: a write that
// bypassed the code can leave the index holding a deleted record's words,
// and a count that included them could call a word universal that some
// record lacks. The words hold letters and digits only, so joined by
// '","' they make a JSON array without escaping. About 5 s at a million
// records (BENCHMARKS.md).
func recountSearchWords(ctx context.Context, tx querier) error {
	for _, stmt := range []string{
		`DELETE FROM search_word_counts`,
		`INSERT INTO search_word_counts (word, records)
			SELECT word.value, count(*) FROM medical_records,
				json_each('["' || replace(search_words, ' ', '","') || '"]') AS word
			WHERE search_words <> '' GROUP BY word.value`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("recount search words: %w", err)
		}
	}
	return nil
}

// wordTotalsAgreeSQL says whether the word counts add up to the number
// of words the records hold, which recountAtOpen checks: a write that
// bypassed the code (an older build's create or delete) changes one and
// not the other. Reads every record's words, about 0.8 s at a million
// records (BENCHMARKS.md); a tenth of recountSearchWords.
const wordTotalsAgreeSQL = `SELECT (SELECT coalesce(sum(records), 0) FROM search_word_counts) =
	(SELECT coalesce(sum(length(search_words) - length(replace(search_words, ' ', '')) + 1), 0)
		FROM medical_records WHERE search_words <> '')`

// RecountSearchWords rebuilds search_word_counts in a write transaction
// (db.Store): about 10 s at a million records, during which other writes
// wait.
func (d *Store) RecountSearchWords(ctx context.Context) error {
	return d.write(ctx, func(q *queries) error { return recountSearchWords(ctx, q.q) })
}

// maxRune is the greatest code point: a word that starts with w sorts
// below w followed by it, in SQLite's byte order, since no word holds it
// (it is not a letter).
const maxRune = "\U0010FFFF"

// searchTermsSQL reads, for each query word of a JSON array (the second
// argument), the range of search_word_counts' key of the words it starts
// (up to it followed by the third, maxRune): how many there are, the first
// of them and the records of the most held, whether one of them is a word
// of every record, and, when there are at most the first argument
// (maxAlternatives), all of them, space-separated. The range is as long as
// the index's own range of the prefix and far cheaper to read.
const searchTermsSQL = `SELECT count(word), coalesce(min(word), ''), coalesce(max(records), 0),
		coalesce(max(records = total.n), 0), CASE WHEN count(word) <= ? THEN coalesce(group_concat(word, ' '), '') ELSE '' END
	FROM json_each(?) AS query
	CROSS JOIN (SELECT n FROM counts WHERE name = '` + countRecords + `' AND part = '') AS total
	LEFT JOIN search_word_counts ON word >= query.value AND word < query.value || ?
	GROUP BY query.key ORDER BY query.key`

// maxAlternatives is the most indexed words a query word may start for the
// index to be asked for each of them (searchTerm.alternatives), rather
// than for the prefix. FTS4 nests MATCH expressions at most 12 deep
// (SQLITE_FTS3_MAX_EXPR_DEPTH) and balances a run of ANDs or ORs, so 16
// query words of 16 alternatives each nest 8 deep
// (TestMatchTermsAtTheirLargest).
const maxAlternatives = 16

// searchTerm is a query word as the index is asked for it.
type searchTerm struct {
	// word is the query word, or, when whole, the one word of the index
	// that it starts.
	word string
	// whole is set when the query word starts exactly one indexed word,
	// which the index then looks up as a term instead of merging a
	// prefix's range, and reads newest first as it goes (migration 20)
	// instead of decoding and reversing the whole doclist
	// (BENCHMARKS.md, "Issue 14, session 16").
	whole bool
	// records is how many records hold word when whole.
	records int
	// alternatives are, when the query word starts from 2 to
	// maxAlternatives indexed words, those words, which the index is
	// asked for as terms any of which may match, for the same reason.
	alternatives []string
}

// unknownMatches is searchTerms' matches when the counts do not tell.
const unknownMatches = -1

// searchTerms returns how the index is asked for a search's words
// (matchTerms): it leaves out each word that starts a word every record
// holds, since the matches are the same without it, asks for each word
// that starts exactly one indexed word as that whole word, and for each
// that starts up to maxAlternatives as any of those words. matches
// is the number of records that match, when the counts tell: none when a
// word starts no indexed word, that word's records when a single whole
// word is left; otherwise unknownMatches. It reads the counts that the
// caller's snapshot holds, which must also be the one the search then
// reads.
func (q *queries) searchTerms(ctx context.Context, words []string) (terms []searchTerm, matches int, err error) {
	rows, err := q.q.QueryContext(ctx, searchTermsSQL, maxAlternatives, wordsJSON(words), maxRune)
	if err != nil {
		return nil, 0, fmt.Errorf("search word counts: %w", err)
	}
	defer rows.Close()
	none, read := false, 0
	for rows.Next() {
		var (
			starts, records int
			first, all      string
			everywhere      bool
		)
		if err := rows.Scan(&starts, &first, &records, &everywhere, &all); err != nil {
			return nil, 0, fmt.Errorf("search word counts: %w", err)
		}
		if read >= len(words) {
			return nil, 0, fmt.Errorf("search word counts: more rows than %d words", len(words))
		}
		switch {
		case starts == 0:
			none = true
		case everywhere:
		case starts == 1:
			// Two query words that start the same one word ask for it
			// once.
			if !slices.ContainsFunc(terms, func(t searchTerm) bool { return t.whole && t.word == first }) {
				terms = append(terms, searchTerm{word: first, whole: true, records: records})
			}
		default:
			terms = append(terms, searchTerm{word: words[read], alternatives: strings.Fields(all)})
		}
		read++
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("search word counts: %w", err)
	}
	if read != len(words) {
		return nil, 0, fmt.Errorf("search word counts: %d rows for %d words", read, len(words))
	}
	switch {
	case none:
		return nil, 0, nil
	case len(terms) == 1 && terms[0].whole:
		return terms, terms[0].records, nil
	}
	return terms, unknownMatches, nil
}

// readSnapshot runs fn on queries that read one snapshot: q itself inside
// a transaction, or a read transaction begun on the reader pool.
func (q *queries) readSnapshot(ctx context.Context, fn func(*queries) error) error {
	pool, ok := q.q.(*sql.DB)
	if !ok {
		return fn(q)
	}
	tx, err := pool.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	if err := fn(&queries{q: tx}); err != nil {
		return err
	}
	return tx.Commit()
}
