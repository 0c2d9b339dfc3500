package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// The records search index (migration 13): record_search is an FTS4 table
// over medical_records.search_words (db.RecordSearchWords) with external
// content, docid = the record's rowid. SQLite does not keep such an index
// in step by itself; these functions do, in the record's own write
// transaction, so that a search never sees a record without its words or
// words without their record. An external-content index removes a row's
// words by reading them from the content table, so unindexRecord must run
// while the record still holds the words it was indexed with.

// indexRecord adds the words the record at rowid holds now.
func (q *queries) indexRecord(ctx context.Context, rowid int64, words string) error {
	if _, err := q.q.ExecContext(ctx, `INSERT INTO record_search (docid, search_words) VALUES (?, ?)`, rowid, words); err != nil {
		return fmt.Errorf("index record: %w", err)
	}
	return nil
}

// unindexRecord removes the words of the record at rowid, before the
// record changes or goes.
func (q *queries) unindexRecord(ctx context.Context, rowid int64) error {
	if _, err := q.q.ExecContext(ctx, `DELETE FROM record_search WHERE docid = ?`, rowid); err != nil {
		return fmt.Errorf("unindex record: %w", err)
	}
	return nil
}

// matchExpr is the FTS4 MATCH expression for a search's words
// (db.SearchWords): each word as a prefix, all of them required.
func matchExpr(words []string) string {
	terms := make([]searchTerm, len(words))
	for i, w := range words {
		terms[i] = searchTerm{word: w}
	}
	return matchTerms(terms)
}

// matchTerms is the FTS4 MATCH expression for a search's terms
// (searchTerms): each whole word as a term, each word with alternatives as
// those terms in parentheses joined by OR, each other word as a prefix,
// all of them required (FTS4's enhanced query syntax, which mattn's build
// enables: SQLITE_ENABLE_FTS3_PARENTHESIS). The words hold letters and
// digits only, and are folded to lower case, so none is an operator (AND,
// OR, NOT, NEAR are upper case) or carries FTS syntax: no user text
// reaches MATCH other than as such a word.
func matchTerms(terms []searchTerm) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch {
		case len(t.alternatives) > 0:
			b.WriteString("(" + strings.Join(t.alternatives, " OR ") + ")")
		case t.whole:
			b.WriteString(t.word)
		default:
			b.WriteString(t.word + "*")
		}
	}
	return b.String()
}

// recordSearchTable is the index's table, for the import's prepared insert
// (copy.go).
const recordSearchTable db.Table = "record_search"

// searchPlan is how a list reads a search's matches.
type searchPlan int

const (
	// searchNone: the list has no search.
	searchNone searchPlan = iota
	// searchLookup looks up every match by rowid and sorts them: the
	// cheapest way when the matches are few (about 2.5 µs a match on the
	// benchmark's host).
	searchLookup
	// searchProbe walks the ordering's index (or a filter's) and keeps the
	// rows whose rowid is among the matches, which SQLite collects in a
	// temporary table first (about 0.3 µs a match): the cheapest way when
	// matches are common, since a page is filled after a few entries.
	searchProbe
)

// condition is the list's WHERE condition for the search, taking the
// MATCH expression as its one argument. rowid+0 hides the rowid from the
// planner, which then cannot drive the query by rowid lookups and walks
// an index instead.
func (p searchPlan) condition() string {
	if p == searchProbe {
		return `rowid+0 IN (SELECT docid FROM record_search WHERE record_search MATCH ?)`
	}
	return `rowid IN (SELECT docid FROM record_search WHERE record_search MATCH ?)`
}

// planSearch counts a search's matches in the index (ignoring f's other
// filters), unless matches says how many there are (searchTerms), and
// chooses how the list reads them. SQLite's planner cannot make that
// choice: it knows nothing of how many rows a MATCH gives, and the two
// ways differ a hundredfold. Looking every match up costs about
// matches × 2.5 µs; probing costs matches × 0.3 µs for the temporary
// table plus the index entries walked until the page is full, about
// (offset+limit) × records / matches × 0.2 µs. Lookups win when
// matches² < (offset+limit) × records / 10 (on a million records, page
// 1: below about 1,500 matches).
func (q *queries) planSearch(ctx context.Context, match string, f db.RecordFilter, matches int) (searchPlan, int, error) {
	if matches == unknownMatches {
		var err error
		if matches, err = q.countMatches(ctx, match); err != nil {
			return searchNone, 0, err
		}
	}
	if matches == 0 {
		return searchLookup, 0, nil
	}
	records, err := q.recordsTotal(ctx)
	if err != nil {
		return searchNone, 0, err
	}
	walked := float64(f.Offset+f.Limit+1) * float64(records)
	if float64(matches)*float64(matches)*10 < walked {
		return searchLookup, matches, nil
	}
	return searchProbe, matches, nil
}

// countMatches counts the records that match, a MATCH expression, in the
// index.
func (q *queries) countMatches(ctx context.Context, match string) (int, error) {
	var n int
	if err := q.q.QueryRowContext(ctx, `SELECT count(*) FROM record_search WHERE record_search MATCH ?`, match).Scan(&n); err != nil {
		return 0, fmt.Errorf("count matches: %w", err)
	}
	return n, nil
}

// recordsTotal is the number of records, from the counters.
func (q *queries) recordsTotal(ctx context.Context) (int, error) {
	var n int
	if err := q.q.QueryRowContext(ctx, `SELECT n FROM counts WHERE name = '`+countRecords+`' AND part = ''`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count records: %w", err)
	}
	return n, nil
}

// searchOnly reports whether f's one filter is a search, whose total is
// then the number of matches planSearch counted.
func searchOnly(f db.RecordFilter) bool {
	return f.Search != "" && f.UserID == "" && f.Doctor == "" && f.TreatedAfter == nil && f.TreatedBefore == nil
}

// maxDocidPage bounds offset+limit for searchByDocid: deeper pages look up
// that many candidates, which the probe does more cheaply.
const maxDocidPage = 1000

// searchByDocid answers a page of a list whose one filter is a search, in
// the created ordering (either way), from the index's own order: FTS4
// returns the matches in docid (rowid) order and stops after the first
// few, with no temporary table of them all. Rowids grow with insertion and
// records are created in time order, so the first offset+limit matches by
// rowid are almost always the first by (created, id); that is then
// checked (candidatePage), and when it does not hold ok is false and the
// caller lists the page another way.
func (q *queries) searchByDocid(ctx context.Context, match string, f db.RecordFilter, desc bool) (page []model.MedicalRecord, ok bool, err error) {
	k := f.Offset + f.Limit
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	return q.candidatePage(ctx, `rowid IN (SELECT docid FROM record_search WHERE record_search MATCH ? ORDER BY docid `+dir+` LIMIT ?)`,
		[]any{match, k}, f, desc)
}

// fewMatches is how many matches searchFew reads in the index's order
// before it leaves the count to the index.
const fewMatches = 2000

// searchFew answers what planSearch and searchByDocid together answer, for
// a search of several words, in one evaluation of the query when it has
// at most fewMatches matches: FTS4 reads the whole doclist of every word
// of such a query however few matches it then yields, so the count and the
// page each cost that much, while reading the few matches' docids costs
// little (BENCHMARKS.md, "Search, session 8"). It reads up to
// fewMatches+1 docids, newest first; with more, a newest-first page's
// candidates are still the first of them (an oldest-first page's take a
// read the other way) and the count takes a second evaluation. When they
// are all read and few, it sorts them all (sortAllMatches). few is
// fewMatches but in tests. ok is false when the candidates are not the
// page (candidatePage); matches is then still the count.
func (q *queries) searchFew(ctx context.Context, match string, f db.RecordFilter, desc bool, few int) (page []model.MedicalRecord, matches int, ok bool, err error) {
	k := f.Offset + f.Limit
	// Newest first, the index's own order (migration 20), which FTS4
	// reads as far as the limit; the other way it decodes and reverses
	// every word's doclist first. When they are all read, the oldest are
	// the last.
	docids, err := q.matchDocids(ctx, match, "DESC", max(k, few)+1)
	if err != nil {
		return nil, 0, false, err
	}
	matches = len(docids)
	all := matches <= max(k, few)
	if !all {
		if matches, err = q.countMatches(ctx, match); err != nil {
			return nil, 0, false, err
		}
	}
	if matches == 0 {
		return []model.MedicalRecord{}, 0, true, nil
	}
	if all && matches > k {
		records, err := q.recordsTotal(ctx)
		if err != nil {
			return nil, 0, false, err
		}
		if sortAllMatches(matches, k, records) {
			page, err := q.sortedMatches(ctx, docids, f, desc)
			return page, matches, err == nil, err
		}
	}
	var candidates []int64
	switch {
	case desc:
		candidates = docids[:min(k, len(docids))]
	case all:
		candidates = docids[max(0, len(docids)-k):]
	default:
		if candidates, err = q.matchDocids(ctx, match, "ASC", k); err != nil {
			return nil, 0, false, err
		}
	}
	args := make([]any, len(candidates))
	for i, d := range candidates {
		args[i] = d
	}
	page, ok, err = q.candidatePage(ctx, `rowid IN (?`+strings.Repeat(",?", len(candidates)-1)+`)`, args, f, desc)
	return page, matches, ok, err
}

// sortAllMatches says whether a page of k of matches, all of them read,
// among records, costs less by looking every match up and sorting them
// (about 1.5 µs a match on the benchmark host) than by candidatePage's
// check that the k newest by rowid are the newest, which walks the created
// index over every record created since the kth, about k × records /
// matches entries at 0.08 µs each: at a million records and k = 20,
// below about 1,000 matches. A three-word search of a few dozen matches
// took 30–40 ms the other way (BENCHMARKS.md, "Issue 14, session 16").
func sortAllMatches(matches, k, records int) bool {
	return float64(matches)*float64(matches)*1.5 < float64(k)*float64(records)*0.08
}

// sortedMatches returns f's page of the records at docids, every match of
// a search whose one filter it is, in the created ordering (newest first
// when desc).
func (q *queries) sortedMatches(ctx context.Context, docids []int64, f db.RecordFilter, desc bool) ([]model.MedicalRecord, error) {
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	list, _ := json.Marshal(docids) // []int64 always marshals
	rows, err := q.q.QueryContext(ctx, `SELECT `+recordColumns+` FROM medical_records
		WHERE rowid IN (SELECT value FROM json_each(?))
		ORDER BY created `+dir+`, id `+dir+` LIMIT ? OFFSET ?`, string(list), max(f.Limit, 0), f.Offset)
	if err != nil {
		return nil, fmt.Errorf("read matches: %w", err)
	}
	defer rows.Close()
	page := make([]model.MedicalRecord, 0, db.PageCapacity(f.Limit))
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("read matches: %w", err)
		}
		page = append(page, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read matches: %w", err)
	}
	return page, nil
}

// matchDocids returns the docids of up to limit matches of match, in
// docid order dir (ASC or DESC).
func (q *queries) matchDocids(ctx context.Context, match, dir string, limit int) ([]int64, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT docid FROM record_search WHERE record_search MATCH ? ORDER BY docid `+dir+` LIMIT ?`,
		match, limit)
	if err != nil {
		return nil, fmt.Errorf("read matches: %w", err)
	}
	defer rows.Close()
	var docids []int64
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("read matches: %w", err)
		}
		docids = append(docids, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read matches: %w", err)
	}
	return docids, nil
}

// candidatePage lists the records that where (with args) selects, at most
// offset+limit of them, in the created ordering, and returns f's page of
// them when they are the first offset+limit of all the search's matches
// in that ordering. They are when they are fewer than that (every match),
// or when no record outside them comes before the last of them: the
// matches outside lie beyond the candidates' edge in rowid order, so it
// suffices that no record at all inserted beyond the edge sorts before the
// last candidate (a clock step back, a copy of such a database). The check
// walks the ordering's index only as far as the page reaches, about
// (offset+limit) × records / matches entries.
func (q *queries) candidatePage(ctx context.Context, where string, args []any, f db.RecordFilter, desc bool) (page []model.MedicalRecord, ok bool, err error) {
	k := f.Offset + f.Limit
	dir, cmp, rowidCmp := "ASC", "<", ">"
	if desc {
		dir, cmp, rowidCmp = "DESC", ">", "<"
	}
	rows, err := q.q.QueryContext(ctx, `SELECT `+recordColumns+`, rowid FROM medical_records
		WHERE `+where+`
		ORDER BY created `+dir+`, id `+dir, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	candidates := make([]model.MedicalRecord, 0, k)
	var edge int64 // the candidates' least rowid (descending) or greatest
	for rows.Next() {
		var rowid int64
		r, err := scanRecord(withRowid{rows, &rowid})
		if err != nil {
			return nil, false, err
		}
		if len(candidates) == 0 || (desc && rowid < edge) || (!desc && rowid > edge) {
			edge = rowid
		}
		candidates = append(candidates, r)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if len(candidates) == k {
		// Every match outside the candidates lies beyond edge in rowid
		// order; none of them may come before the last candidate.
		last := candidates[k-1]
		var beyond int
		err := q.q.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM medical_records
			WHERE (created, id) `+cmp+` (?, ?) AND rowid `+rowidCmp+` ? LIMIT 1)`, micros(last.Created), last.ID, edge).Scan(&beyond)
		if err != nil {
			return nil, false, err
		}
		if beyond > 0 {
			return nil, false, nil
		}
	}
	if f.Offset >= len(candidates) {
		return []model.MedicalRecord{}, true, nil
	}
	return candidates[f.Offset:min(len(candidates), k)], true, nil
}

// withRowid scans a record's columns followed by its rowid.
type withRowid struct {
	row   interface{ Scan(...any) error }
	rowid *int64
}

// Scan scans dest and then the rowid.
func (w withRowid) Scan(dest ...any) error { return w.row.Scan(append(dest, w.rowid)...) }
