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
	q, err := recordListSQL(f, words)
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

// SearchPrefixRunes is searchPrefixRunes, for the test of the index's
// lexemes.
const SearchPrefixRunes = searchPrefixRunes

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
	return r.collectSearch(ctx, f, db.QueryWords(f.Search), most)
}
