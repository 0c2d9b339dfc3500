package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// The records search (migrations 5 and 11): medical_records.search_words
// holds db.RecordSearchWords, indexed by GIN over searchVector, the words
// and their starts as lexemes, which recordListSQL repeats word for word
// so that the planner uses the index.

// searchVector is the indexed expression (migration 11): the lexemes
// anavara_search_lexemes makes of the words, each word and its starts of
// 1 to searchPrefixRunes characters (array_to_tsvector applies no parser,
// dictionary or stemming, and drops the repeats). The starts are computed
// in the expression, not stored: the table keeps its width (a count reads
// every match's heap page), and a write stores nothing more.
const searchVector = `array_to_tsvector(anavara_search_lexemes(search_words))`

// searchWordsVector is the words alone as lexemes, without an index: a
// page that walks the ordering's index tests each row with it, which
// costs a tenth of searchVector's test (no function call, no starts to
// add and sort).
const searchWordsVector = `array_to_tsvector(string_to_array(search_words, ' '))`

// searchPrefixRunes is the length, in characters, of the longest start of
// a word that the index holds: anavara_search_lexemes (migration 11)
// stops at the same length, which TestSearchLexemes checks. A query word
// of up to this length is asked for as a whole lexeme, which GIN
// intersects with the other words' posting lists in step, skipping; a
// longer one as a prefix ('word':*), which GIN reads whole into a bitmap
// first: a word in every record ("dr") then costs a million entries
// however rare the other words. Longer starts would serve longer query
// words the fast way, at a larger index. Changing it needs a migration
// that changes the function and rebuilds the index.
const searchPrefixRunes = 8

// searchQuery is the tsquery text of a search's words (db.SearchWords):
// each word of up to lexemeRunes characters as a quoted lexeme, which the
// words and their starts (searchVector, with lexemeRunes
// searchPrefixRunes) hold whenever a word starts with it, each longer word
// as a quoted prefix lexeme ('word':*), all of them required; with
// lexemeRunes 0, every word a prefix, for searchWordsVector. tsquery's
// input takes quoted lexemes as they are, without a parser or dictionary,
// so they match the lexemes array_to_tsvector stored; the words hold
// letters and digits only, but quotes and backslashes are escaped all the
// same, and the text travels as a parameter, never as SQL.
func searchQuery(words []string, lexemeRunes int) string {
	terms := make([]string, len(words))
	for i, w := range words {
		terms[i] = quotedLexeme(w)
		if utf8.RuneCountInString(w) > lexemeRunes {
			terms[i] += ":*"
		}
	}
	return strings.Join(terms, " & ")
}

// quotedLexeme is s as a quoted tsquery lexeme.
func quotedLexeme(s string) string {
	return `'` + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + `'`
}

// searchTerm is one word of a search as the index is asked for it: the
// query word (db.QueryWords), and whole, the one word some record holds
// that it starts, when the word counts say there is exactly one ("" when
// they were not read, or it starts several).
type searchTerm struct{ word, whole string }

// termsOf is words as terms whose whole words are unknown.
func termsOf(words []string) []searchTerm {
	terms := make([]searchTerm, len(words))
	for i, w := range words {
		terms[i].word = w
	}
	return terms
}

// termsQuery is the tsquery of terms for searchVector: a term's whole
// word, when known, as that lexeme (the index holds every word whole,
// and no other word starts with the query word), otherwise the query
// word as searchQuery asks for it.
func termsQuery(terms []searchTerm) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		if t.whole != "" {
			parts[i] = quotedLexeme(t.whole)
		} else {
			parts[i] = searchQuery([]string{t.word}, searchPrefixRunes)
		}
	}
	return strings.Join(parts, " & ")
}

// searchPair is the lexeme the index holds for a record that holds both
// words a and b (migration 13): the two in byte order, joined by a space.
func searchPair(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return a + " " + b
}

// pairedQuery is the tsquery of terms by pairs of their whole words: when
// at least two terms have distinct whole words of searchPairRunes
// characters or more, those words two by two (the last with the one
// before it when they are odd in number), and every other term as
// termsQuery asks for it. It matches the records of at most
// searchPairWords words that match terms; the others hold
// searchManyWordsLexeme instead of pairs (addIndexSearch). ok is false
// when fewer than two such words.
func pairedQuery(terms []searchTerm) (tsquery string, ok bool) {
	var wholes []string
	var rest []searchTerm
	for _, t := range terms {
		switch {
		case t.whole == "" || utf8.RuneCountInString(t.whole) < searchPairRunes:
			rest = append(rest, t)
		case !slices.Contains(wholes, t.whole):
			wholes = append(wholes, t.whole)
		}
	}
	if len(wholes) < 2 {
		return "", false
	}
	var parts []string
	for i := 0; i+1 < len(wholes); i += 2 {
		parts = append(parts, quotedLexeme(searchPair(wholes[i], wholes[i+1])))
	}
	if len(wholes)%2 == 1 {
		parts = append(parts, quotedLexeme(searchPair(wholes[len(wholes)-2], wholes[len(wholes)-1])))
	}
	if len(rest) > 0 {
		parts = append(parts, termsQuery(rest))
	}
	return strings.Join(parts, " & "), true
}

// addIndexSearch adds to w the condition that a record match terms,
// asked of the GIN index (searchVector). By pairs (pairedQuery) when it
// can be, as two conditions that PostgreSQL reads as two bitmap scans
// and ORs: the pairs, and searchManyWordsLexeme with the terms, which a
// record of more than searchPairWords words needs. One tsquery of the
// two, joined by |, would make GIN read every term's whole posting list.
func addIndexSearch(w *where, terms []searchTerm) {
	paired, ok := pairedQuery(terms)
	if !ok {
		w.add(searchVector+" @@ ", termsQuery(terms), "::tsquery")
		return
	}
	n := len(w.args)
	w.args = append(w.args, paired, quotedLexeme(searchManyWordsLexeme)+" & "+termsQuery(terms))
	w.conds = append(w.conds, "("+searchVector+" @@ $"+strconv.Itoa(n+1)+"::tsquery OR "+
		searchVector+" @@ $"+strconv.Itoa(n+2)+"::tsquery)")
}

// walkQuery is the tsquery of terms for searchWordsVector, which a page
// read by walking the ordering's index tests each row with: every query
// word a prefix of the words.
func walkQuery(terms []searchTerm) string {
	words := make([]string, len(terms))
	for i, t := range terms {
		words[i] = t.word
	}
	return searchQuery(words, 0)
}

// gatheredPageSQL is the query of a page of a search's matches gathered
// through the GIN index (cond, q's conditions or some of them) and
// sorted: the matches' ids and sort keys alone are collected (matches),
// sorted and paged (found, page being its ORDER BY, LIMIT and OFFSET),
// and the page's records then read by id, which takes about two thirds
// of the time of collecting and sorting whole rows (BENCHMARKS.md, "Issue
// 14, session 17"). inner, when not empty, ends the matches' query (a
// LIMIT); counted adds the number of matches to every row, after the
// record's columns.
func gatheredPageSQL(q recordQuery, cond, inner, page string, counted bool) string {
	total := ""
	if counted {
		total = ", (SELECT count(*) FROM matches)"
	}
	return `WITH matches AS MATERIALIZED (SELECT id, ` + q.key + ` FROM medical_records` + cond + inner + `),
		found AS (SELECT id, ` + q.key + ` FROM matches` + page + `)
		SELECT ` + recordColumnsOfM + total + ` FROM found JOIN medical_records AS m ON m.id = found.id
		ORDER BY found.` + q.key + ` ` + q.dir + `, found.id ` + q.dir
}

// searchBackfillBatch is how many records fillSearchWords writes per
// statement, and searchProgressEvery how many between progress lines.
const (
	searchBackfillBatch = 10_000
	searchProgressEvery = 100_000
)

// searchFillLock is the advisory lock key fillSearchWords holds while it
// fills a batch ("anavaras" in ASCII; goose's migration lock has another
// key), so that
// servers upgraded and started together fill one batch at a time instead
// of updating the same rows in their own orders, which could deadlock and
// fail one of their starts.
const searchFillLock int64 = 0x616e617661726173

// fillSearchWords writes the search words of the records migration 5
// left without (search_words IS NULL), in batches, each its own
// transaction holding searchFillLock, so that other servers on the
// database keep writing meanwhile and two servers starting at once take
// turns (the second then finds the rows the first filled and stops);
// Open runs it, and a later Open finishes what an interrupted one left.
// A record that another server updates in the meantime keeps the words
// that update wrote.
func (s *Store) fillSearchWords(ctx context.Context) error {
	var pending int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM medical_records WHERE search_words IS NULL`).Scan(&pending); err != nil {
		return fmt.Errorf("search words: %w", err)
	}
	done := 0
	for done < pending {
		var filled int
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, searchFillLock); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `SELECT id, patient_name, doctor, diagnosis FROM medical_records
				WHERE search_words IS NULL ORDER BY id LIMIT $1`, searchBackfillBatch)
			if err != nil {
				return err
			}
			var ids, words []string
			var r model.MedicalRecord
			if _, err := pgx.ForEachRow(rows, []any{&r.ID, &r.PatientName, &r.Doctor, &r.Diagnosis}, func() error {
				ids = append(ids, r.ID)
				words = append(words, db.RecordSearchWords(r))
				return nil
			}); err != nil {
				return err
			}
			if len(ids) == 0 {
				return nil
			}
			// Each filled record's words are counted (migration 12) in
			// the words' byte order, as every writer locks their rows.
			if _, err := tx.Exec(ctx, `WITH filled AS (UPDATE medical_records AS m SET search_words = v.words
					FROM unnest($1::uuid[], $2::text[]) AS v (id, words)
					WHERE m.id = v.id AND m.search_words IS NULL RETURNING m.search_words)
				INSERT INTO search_word_counts (word, records)
				SELECT w, count(*) FROM filled, unnest(string_to_array(filled.search_words, ' ')) AS w
				WHERE filled.search_words <> '' GROUP BY w ORDER BY w COLLATE "C"
				ON CONFLICT (word) DO UPDATE SET records = search_word_counts.records + EXCLUDED.records`, ids, words); err != nil {
				return err
			}
			filled = len(ids)
			return nil
		})
		if err != nil {
			return fmt.Errorf("search words: %w", err)
		}
		if filled == 0 {
			break
		}
		before := done
		done += filled
		if pending > searchProgressEvery && done/searchProgressEvery != before/searchProgressEvery {
			slog.InfoContext(ctx, "migration 5: building the records search index", "records", done, "of", pending,
				"percent", 100*done/pending)
		}
	}
	return nil
}

// planSearch counts a search's matches through the GIN index (search, the
// search's condition alone: it ignores f's other filters) and says
// whether they are few enough to collect and sort, rather than to walk
// the ordering's index testing each row, which is what PostgreSQL's
// planner picks when it misjudges a prefix's frequency: a search that matches nothing then reads every row (2 s at a
// million records). Testing a row costs about 2 µs, collecting a match
// about 5 µs, and the walk tests about (offset+limit) × records / matches
// rows; collecting wins when matches² × 2.5 < (offset+limit) × records
// (page 1 of a million records: below about 2,900 matches).
func (r *reader) planSearch(ctx context.Context, search where, f db.RecordFilter) (matches int, few bool, err error) {
	if err := r.q.QueryRow(ctx, `SELECT count(*) FROM medical_records`+search.sql(), search.args...).Scan(&matches); err != nil {
		return 0, false, fmt.Errorf("count matches: %w", err)
	}
	few, err = r.fewMatches(ctx, matches, f)
	return matches, few, err
}

// fewMatches says whether a search's matches are few enough to collect
// and sort (planSearch).
func (r *reader) fewMatches(ctx context.Context, matches int, f db.RecordFilter) (bool, error) {
	if matches == 0 {
		return true, nil
	}
	// An estimate is enough here: this transaction's own pending changes
	// to the counter (flushCounts) do not matter.
	var records int
	if err := r.q.QueryRow(ctx, `SELECT n FROM counts WHERE name = '`+countRecords+`' AND part = ''`).Scan(&records); err != nil {
		return false, fmt.Errorf("count records: %w", err)
	}
	return fewEnough(matches, records, f), nil
}

// fewEnough is planSearch's rule: whether matches, among records, are few
// enough to collect and sort for f's page.
func fewEnough(matches, records int, f db.RecordFilter) bool {
	return float64(matches)*float64(matches)*2.5 < float64(f.Offset+f.Limit+1)*float64(records)
}

// knownMatches is what searchRecords knows of a search's matches before
// listRecords reads them: their number n, -1 when unknown, among records.
type knownMatches struct{ n, records int }

// unknownMatches leaves planSearch to count the matches.
var unknownMatches = knownMatches{n: -1}

// searchRecords is ListRecords for a search of words, in one snapshot
// (readSnapshot), the word counts' and the records': it leaves out each
// word that starts a word of every record, which filters nothing, and,
// when one word is left that starts exactly one word some record holds,
// takes that word's count as the number of matches instead of counting
// them through the index. A word that starts exactly one word is asked
// for as that word, and two or more such words by their pairs
// (addIndexSearch). When every word is left out, the list is unsearched;
// when a word starts no word that some record holds, it is empty.
func (r *reader) searchRecords(ctx context.Context, f db.RecordFilter, words []string) ([]model.MedicalRecord, int, error) {
	stats, err := r.searchWordStats(ctx, words)
	if err != nil {
		return nil, 0, fmt.Errorf("list records: %w", err)
	}
	var filtering []searchTerm
	var last wordStats
	for i, st := range stats {
		if st.words == 0 {
			// A word that starts no word any record holds: no match.
			return []model.MedicalRecord{}, 0, nil
		}
		if !st.everywhere {
			t := searchTerm{word: words[i]}
			if st.words == 1 {
				t.whole = st.word
			}
			filtering, last = append(filtering, t), st
		}
	}
	known := unknownMatches
	if len(filtering) == 1 && last.words == 1 {
		known = knownMatches{n: last.records, records: stats[0].total}
	}
	if len(filtering) == 0 {
		f.Search = ""
	}
	if len(filtering) > 1 && f.Seek == nil {
		// Words that are each frequent may match few records together,
		// which planSearch would count through the index and the page
		// then collect again, each pass about as long as the other. When
		// the counts, taking the words as independent, expect two thirds
		// of the few that are worth collecting or less, they are
		// collected once, counted as they are, up to that many; more
		// (words that go together more often than chance), and the usual
		// plan follows, after a wasted pass of at most that many
		// (BENCHMARKS.md, "Issue 14, session 14").
		records := stats[0].total
		expected := float64(records)
		for _, st := range stats {
			if !st.everywhere && records > 0 {
				expected *= float64(min(st.atMost, records)) / float64(records)
			}
		}
		if most := fewestWorthWalking(f, records) - 1; expected*3 <= float64(most)*2 {
			page, n, ok, err := r.collectSearch(ctx, f, filtering, most)
			if err != nil || ok {
				return page, n, err
			}
		}
	}
	return r.listRecords(ctx, f, filtering, known)
}

// fewestWorthWalking is the fewest matches for which planSearch walks the
// ordering's index rather than collect them (fewEnough's rule), among
// records.
func fewestWorthWalking(f db.RecordFilter, records int) int {
	return int(math.Ceil(math.Sqrt(float64(f.Offset+f.Limit+1) * float64(records) / 2.5)))
}

// collectSearch returns f's page of the matches of f's filters and terms
// and their number, collecting them from the indexes in one pass, when
// there are at most most of them and the page is not past the last
// (ok); otherwise it reads no further than most+1 matches and returns ok
// false. f has no seek.
func (r *reader) collectSearch(ctx context.Context, f db.RecordFilter, terms []searchTerm, most int) (page []model.MedicalRecord, matches int, ok bool, err error) {
	q, err := recordListSQL(f, terms)
	if err != nil || q.none {
		return nil, 0, false, err
	}
	n := len(q.count.args)
	args := append(slices.Clone(q.count.args), most+1, max(f.Limit, 0), f.Offset)
	rows, err := r.q.Query(ctx, gatheredPageSQL(q, q.count.sql(), ` LIMIT $`+strconv.Itoa(n+1),
		` ORDER BY `+q.order+` LIMIT $`+strconv.Itoa(n+2)+` OFFSET $`+strconv.Itoa(n+3), true), args...)
	if err != nil {
		return nil, 0, false, fmt.Errorf("list records: %w", err)
	}
	page, err = collect(rows, db.PageCapacity(f.Limit), func(row pgx.Row) (model.MedicalRecord, error) {
		return scanRecord(withCount{row, &matches})
	})
	if err != nil {
		return nil, 0, false, fmt.Errorf("list records: %w", err)
	}
	if len(page) == 0 || matches > most {
		return nil, 0, false, nil
	}
	return page, matches, true, nil
}

// withCount is a row of a record's columns and then a count, scanned by
// scanRecord: the count goes to n.
type withCount struct {
	pgx.Row
	n *int
}

func (w withCount) Scan(dest ...any) error { return w.Row.Scan(append(dest, w.n)...) }
