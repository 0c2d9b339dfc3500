package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// search_word_counts (migration 12) holds, for every word of the records
// search, how many records hold it. A search asks it first
// (searchWordStats) so that it does not ask the GIN index for what the
// counts already say: a query word that starts a word every record holds
// filters nothing, one that starts no word matches nothing, and one that
// starts exactly one word matches that word's records, whose number the
// index can only give by reading every match's heap page (BENCHMARKS.md,
// "Issue 14, session 14"). The counts move in the record's own write
// transaction, written just before its COMMIT with the other counters
// (writeCounts): the row of a word of every record is as hot as the
// records counter, and locked as briefly.

// countWords moves the count of each of words, which are distinct
// (db.RecordSearchWords), by delta when the transaction commits.
func (t *tx) countWords(words []string, delta int64) {
	if len(words) == 0 {
		return
	}
	if t.pendingWords == nil {
		t.pendingWords = map[string]int64{}
	}
	for _, w := range words {
		t.pendingWords[w] += delta
	}
}

// recountWords moves the counts of a record whose words were old and are
// now new (each as db.RecordSearchWords joins them): only the words it
// gained or lost.
func (t *tx) recountWords(old, new string) {
	oldWords, newWords := strings.Fields(old), strings.Fields(new)
	for _, w := range newWords {
		if !slices.Contains(oldWords, w) {
			t.countWords([]string{w}, 1)
		}
	}
	for _, w := range oldWords {
		if !slices.Contains(newWords, w) {
			t.countWords([]string{w}, -1)
		}
	}
}

// wordCountsUpsert is the statement that writes the pending moves of the
// search words' counts, in the words' byte order (the key's, COLLATE
// "C"), and its arguments; ok is false when there are none.
func (t *tx) wordCountsUpsert() (query string, args []any, ok bool) {
	words := make([]string, 0, len(t.pendingWords))
	for w, n := range t.pendingWords {
		if n != 0 {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		return "", nil, false
	}
	slices.Sort(words)
	deltas := make([]int64, len(words))
	for i, w := range words {
		deltas[i] = t.pendingWords[w]
	}
	return `INSERT INTO search_word_counts (word, records)
		SELECT m.word, m.n FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS m (word, n, i) ORDER BY m.i
		ON CONFLICT (word) DO UPDATE SET records = search_word_counts.records + EXCLUDED.records`,
		[]any{words, deltas}, true
}

// recountWordsSQL rebuilds search_word_counts from the records' own words
// (an import's Recount, recountAtOpen): about 1.2 s at a million records.
var recountWordsSQL = []string{
	`DELETE FROM search_word_counts`,
	`INSERT INTO search_word_counts (word, records)
		SELECT w, count(*) FROM medical_records, unnest(string_to_array(search_words, ' ')) AS w
		WHERE search_words <> '' GROUP BY w`,
}

// wordTotalsAgreeSQL says, from one snapshot, whether the word counts add
// up to the number of words the records hold, which recountAtOpen checks:
// a write that bypassed the code (an older build's create or delete)
// changes one and not the other. Records whose words Open has yet to fill
// (migration 5) hold none. Reads every record's words, about 0.5–0.9 s at
// a million records (BENCHMARKS.md).
const wordTotalsAgreeSQL = `SELECT (SELECT coalesce(sum(records), 0) FROM search_word_counts) =
	(SELECT coalesce(sum(cardinality(string_to_array(search_words, ' '))), 0)
		FROM medical_records WHERE search_words <> '')`

// RecountSearchWords rebuilds search_word_counts in a transaction of its
// own that holds the table EXCLUSIVE (db.Store): writers that have moved a
// count commit first, the others wait for it. About 1.2 s at a million
// records.
func (s *Store) RecountSearchWords(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, stmt := range append([]string{`LOCK TABLE search_word_counts IN EXCLUSIVE MODE`}, recountWordsSQL...) {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recount search words: %w", err)
	}
	return nil
}

// maxRune is the greatest code point: a word that starts with w sorts
// below w followed by it in byte order, since no word holds it (it is not
// a letter).
const maxRune = "\U0010FFFF"

// wordStats is what search_word_counts says of one query word.
type wordStats struct {
	// words is how many words it starts that some record holds, records
	// the records of the largest of them and atMost the sum of their
	// records, which no fewer records match.
	words, records, atMost int
	// word is the one word it starts when words is 1.
	word string
	// everywhere is set when one of them is a word of every record.
	everywhere bool
	// total is the records counter.
	total int
}

// searchWordStatsSQL reads, for each query word ($1), the
// range of search_word_counts' key of the words it starts (maxRune, $2),
// against the records counter.
const searchWordStatsSQL = `SELECT count(c.word), coalesce(max(c.records), 0), coalesce(sum(c.records), 0),
		coalesce(min(c.word), ''), coalesce(bool_or(c.records = total.n), false), min(total.n)
	FROM unnest($1::text[]) WITH ORDINALITY AS q (w, i)
	CROSS JOIN (SELECT n FROM counts WHERE name = '` + countRecords + `' AND part = '') AS total
	LEFT JOIN search_word_counts AS c ON c.word >= q.w AND c.word < q.w || $2 AND c.records > 0
	GROUP BY q.i ORDER BY q.i`

// searchWordStats returns the statistics of each of words, in order, from
// the reader's snapshot.
func (r *reader) searchWordStats(ctx context.Context, words []string) ([]wordStats, error) {
	rows, err := r.q.Query(ctx, searchWordStatsSQL, words, maxRune)
	if err != nil {
		return nil, fmt.Errorf("search word counts: %w", err)
	}
	stats := make([]wordStats, 0, len(words))
	var s wordStats
	if _, err := pgx.ForEachRow(rows, []any{&s.words, &s.records, &s.atMost, &s.word, &s.everywhere, &s.total}, func() error {
		stats = append(stats, s)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("search word counts: %w", err)
	}
	if len(stats) != len(words) {
		return nil, fmt.Errorf("search word counts: %d rows for %d words", len(stats), len(words))
	}
	return stats, nil
}
