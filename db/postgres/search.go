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
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteString(" & ")
		}
		b.WriteByte('\'')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(w))
		b.WriteByte('\'')
		if utf8.RuneCountInString(w) > lexemeRunes {
			b.WriteString(":*")
		}
	}
	return b.String()
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

// planSearch counts a search's matches through the GIN index (ignoring
// f's other filters) and says whether they are few enough to collect and
// sort, rather than to walk the ordering's index testing each row, which
// is what PostgreSQL's planner picks when it misjudges a prefix's
// frequency: a search that matches nothing then reads every row (2 s at a
// million records). Testing a row costs about 2 µs, collecting a match
// about 5 µs, and the walk tests about (offset+limit) × records / matches
// rows; collecting wins when matches² × 2.5 < (offset+limit) × records
// (page 1 of a million records: below about 2,900 matches).
func (r *reader) planSearch(ctx context.Context, tsquery string, f db.RecordFilter) (matches int, few bool, err error) {
	if err := r.q.QueryRow(ctx, `SELECT count(*) FROM medical_records WHERE `+searchVector+` @@ $1::tsquery`, tsquery).Scan(&matches); err != nil {
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
// them through the index. When every word is left out, the list is
// unsearched; when a word starts no word that some record holds, it is
// empty.
func (r *reader) searchRecords(ctx context.Context, f db.RecordFilter, words []string) ([]model.MedicalRecord, int, error) {
	stats, err := r.searchWordStats(ctx, words)
	if err != nil {
		return nil, 0, fmt.Errorf("list records: %w", err)
	}
	filtering := words[:0:0]
	var last wordStats
	for i, st := range stats {
		if st.words == 0 {
			// A word that starts no word any record holds: no match.
			return []model.MedicalRecord{}, 0, nil
		}
		if !st.everywhere {
			filtering, last = append(filtering, words[i]), st
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

// collectSearch returns f's page of the matches of f's filters and words
// and their number, collecting them from the indexes in one pass, when
// there are at most most of them and the page is not past the last
// (ok); otherwise it reads no further than most+1 matches and returns ok
// false. f has no seek.
func (r *reader) collectSearch(ctx context.Context, f db.RecordFilter, words []string, most int) (page []model.MedicalRecord, matches int, ok bool, err error) {
	q, err := recordListSQL(f, words)
	if err != nil || q.none {
		return nil, 0, false, err
	}
	n := len(q.count.args)
	args := append(slices.Clone(q.count.args), most+1, max(f.Limit, 0), f.Offset)
	rows, err := r.q.Query(ctx, `WITH matches AS MATERIALIZED (SELECT * FROM medical_records`+q.count.sql()+
		` LIMIT $`+strconv.Itoa(n+1)+`)
		SELECT `+recordColumns+`, count(*) OVER () FROM matches ORDER BY `+q.order+
		` LIMIT $`+strconv.Itoa(n+2)+` OFFSET $`+strconv.Itoa(n+3), args...)
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
