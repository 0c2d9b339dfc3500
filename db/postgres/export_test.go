package postgres

import (
	"context"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

// RecordPageSQL is ListRecords' page query for f (without the few-matches
// path of a search) and its parameters, for the plan tests.
func RecordPageSQL(f db.RecordFilter) (string, []any, error) {
	var words []string
	if f.Search != "" {
		words = db.QueryWords(f.Search)
	}
	q, err := recordListSQL(f, termsOf(words))
	page, args := q.walk.page(q.order, f.Limit, f.Offset)
	return `SELECT ` + recordColumns + ` FROM medical_records` + q.walk.sql() + page, args, err
}

// AuditPageSQL is ListAudit's page query for f and its parameters, for
// the plan tests.
func AuditPageSQL(f db.AuditFilter) (string, []any, error) {
	w, _, pageSQL, err := auditListWhere(f, f.Seek)
	dir := direction(f.Seek, true)
	page, args := w.page("at "+dir+", id "+dir, f.Limit, f.Offset)
	return pageSQL + page, args, err
}

// SearchPrefixRunes, SearchPairWords, SearchPairRunes and
// SearchManyWordsLexeme are searchPrefixRunes, searchPairWords,
// searchPairRunes and searchManyWordsLexeme, for the test of the index's
// lexemes.
const (
	SearchPrefixRunes     = searchPrefixRunes
	SearchPairWords       = searchPairWords
	SearchPairRunes       = searchPairRunes
	SearchManyWordsLexeme = searchManyWordsLexeme
)

// SearchWordStatsSQL is searchWordStatsSQL, and MaxRune the end of a
// word's range it takes, for the plan test.
const (
	SearchWordStatsSQL = searchWordStatsSQL
	MaxRune            = maxRune
)

// CollectSearch is collectSearch on s's pool, for f's words, for the test
// that compares it with ListRecords.
func CollectSearch(ctx context.Context, s *Store, f db.RecordFilter, most int) ([]model.MedicalRecord, int, bool, error) {
	r := &reader{q: s.pool}
	return r.collectSearch(ctx, f, termsOf(db.QueryWords(f.Search)), most)
}

// IndexSearchWhere is the condition addIndexSearch gives a search of
// words whose whole words the counts gave as wholes ("" for none), and
// its parameters, for the plan test.
func IndexSearchWhere(words, wholes []string) (string, []any) {
	terms := termsOf(words)
	for i := range terms {
		terms[i].whole = wholes[i]
	}
	var w where
	addIndexSearch(&w, terms)
	return w.sql(), w.args
}

// SearchSnapshotSettings reads, in a transaction readSnapshot begins on
// s's pool, the settings named, for the test of what it begins.
func SearchSnapshotSettings(ctx context.Context, s *Store, names ...string) ([]string, error) {
	r := &reader{q: s.pool}
	values := make([]string, len(names))
	err := r.readSnapshot(ctx, func(sr *reader) error {
		for i, name := range names {
			if err := sr.q.QueryRow(ctx, `SELECT current_setting($1)`, name).Scan(&values[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return values, err
}
