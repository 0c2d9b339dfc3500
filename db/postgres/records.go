package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

const recordColumns = `id, user_id, patient_name, date_of_birth, diagnosis, treatment, date_of_treatment, doctor, created, updated, version`

// recordColumnsOfM is recordColumns of medical_records AS m, for a query
// that joins it.
const recordColumnsOfM = `m.id, m.user_id, m.patient_name, m.date_of_birth, m.diagnosis, m.treatment, m.date_of_treatment, m.doctor, m.created, m.updated, m.version`

func scanRecord(row pgx.Row) (model.MedicalRecord, error) {
	var r model.MedicalRecord
	var dob, dot time.Time
	if err := row.Scan(&r.ID, &r.UserID, &r.PatientName, &dob, &r.Diagnosis, &r.Treatment, &dot, &r.Doctor, &r.Created, &r.Updated, &r.Version); err != nil {
		return r, err
	}
	r.DateOfBirth, r.DateOfTreatment = fromDate(dob), fromDate(dot)
	r.Created, r.Updated = r.Created.UTC(), r.Updated.UTC()
	return r, nil
}

// CreateRecord inserts r at version 1 and counts it (counts.go).
func (t *tx) CreateRecord(ctx context.Context, r model.MedicalRecord) error {
	id, err := idArg("insert record: id", r.ID)
	if err != nil {
		return err
	}
	userID, err := idArg("insert record: user id", r.UserID)
	if err != nil {
		return err
	}
	words := db.RecordSearchWords(r)
	_, err = t.q.Exec(ctx, `INSERT INTO medical_records (`+recordColumns+`, patient_name_key, doctor_key, search_words)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		id, userID, r.PatientName, dateArg(r.DateOfBirth), r.Diagnosis, r.Treatment,
		dateArg(r.DateOfTreatment), r.Doctor, at(r.Created), at(r.Updated), int64(1),
		db.Fold(r.PatientName), db.Fold(r.Doctor), words)
	if err != nil {
		return fmt.Errorf("insert record: %w", err)
	}
	t.addToCount(countRecords, "", 1)
	t.countWords(strings.Fields(words), 1)
	return nil
}

// RecordByID returns the record with id, or db.ErrNotFound.
func (r *reader) RecordByID(ctx context.Context, id string) (model.MedicalRecord, error) {
	if !validID(id) {
		return model.MedicalRecord{}, db.ErrNotFound
	}
	rec, err := scanRecord(r.q.QueryRow(ctx, `SELECT `+recordColumns+` FROM medical_records WHERE id = $1`+r.forUpdate, id))
	if err != nil {
		return rec, notFound(err, "select record")
	}
	return rec, nil
}

// UpdateRecord stores every writable field of r and its updated time, and
// bumps the record's version;
// db.ErrNotFound when there is no such record.
func (t *tx) UpdateRecord(ctx context.Context, r model.MedicalRecord) error {
	if !validID(r.ID) {
		return db.ErrNotFound
	}
	userID, err := idArg("update record: user id", r.UserID)
	if err != nil {
		return err
	}
	// The words it had come from the row as locked (FOR UPDATE), which
	// is the version this UPDATE replaces: the counts move by what
	// changed between the two.
	words := db.RecordSearchWords(r)
	var oldWords *string
	err = t.q.QueryRow(ctx, `UPDATE medical_records AS m SET user_id = $1, patient_name = $2, date_of_birth = $3,
		diagnosis = $4, treatment = $5, date_of_treatment = $6, doctor = $7, updated = $8,
		version = m.version + 1, patient_name_key = $9, doctor_key = $10, search_words = $11
		FROM (SELECT id, search_words FROM medical_records WHERE id = $12 FOR UPDATE) AS old
		WHERE m.id = old.id RETURNING old.search_words`,
		userID, r.PatientName, dateArg(r.DateOfBirth), r.Diagnosis, r.Treatment, dateArg(r.DateOfTreatment),
		r.Doctor, at(r.Updated), db.Fold(r.PatientName), db.Fold(r.Doctor), words, r.ID).Scan(&oldWords)
	if err != nil {
		return notFound(err, "update record")
	}
	if oldWords != nil {
		t.recountWords(*oldWords, words)
	} else {
		// Not yet filled (migration 5): counted from nothing.
		t.countWords(strings.Fields(words), 1)
	}
	return nil
}

// DeleteRecord removes the record with id and uncounts it; db.ErrNotFound
// when there is none.
func (t *tx) DeleteRecord(ctx context.Context, id string) error {
	if !validID(id) {
		return db.ErrNotFound
	}
	var words *string
	if err := t.q.QueryRow(ctx, `DELETE FROM medical_records WHERE id = $1 RETURNING search_words`, id).Scan(&words); err != nil {
		return notFound(err, "delete record")
	}
	t.addToCount(countRecords, "", -1)
	if words != nil {
		t.countWords(strings.Fields(*words), -1)
	}
	return nil
}

// recordOrderColumns are the sort keys of the orderings, each followed by
// id as the tie-break. patient_name sorts by its folded copy, so that case
// is ignored beyond ASCII and the index serves it.
var recordOrderColumns = map[string]string{
	"created":           "created",
	"updated":           "updated",
	"date_of_treatment": "date_of_treatment",
	"patient_name":      "patient_name_key",
}

// recordQuery is ListRecords' SQL for a filter.
type recordQuery struct {
	where
	// count is where without the seek: the conditions the count takes.
	count where
	// walk is where with the search asked of the words alone, for a page
	// read by walking the ordering's index (searchWordsVector).
	walk where
	// order is the ORDER BY of a page: key and then id, each dir.
	order, key, dir string
	// unfiltered is set when nothing narrows the list, whose total is
	// then the records counter.
	unfiltered bool
	// search is the search's condition on the GIN index alone, if there
	// is a search, which planSearch counts.
	search where
	// none is set when a filter can match nothing: a malformed user id.
	none bool
}

// recordListSQL builds ListRecords' query for f, searching for terms
// (db.QueryWords of f.Search, or fewer, with what the word counts say of
// them: searchRecords) if there are any.
func recordListSQL(f db.RecordFilter, terms []searchTerm) (recordQuery, error) {
	var q recordQuery
	q.none = f.UserID != "" && !validID(f.UserID)
	filters := func(w *where, search func(*where)) {
		if f.UserID != "" {
			w.add("user_id = ", f.UserID)
		}
		if len(terms) > 0 {
			search(w)
		}
		if f.Doctor != "" {
			w.add("doctor_key = ", db.Fold(f.Doctor))
		}
		if f.TreatedAfter != nil {
			w.add("date_of_treatment >= ", dateArg(*f.TreatedAfter))
		}
		if f.TreatedBefore != nil {
			w.add("date_of_treatment <= ", dateArg(*f.TreatedBefore))
		}
	}
	indexSearch := func(w *where) { addIndexSearch(w, terms) }
	walkSearch := func(w *where) { w.add(searchWordsVector+" @@ ", walkQuery(terms), "::tsquery") }
	filters(&q.where, indexSearch)
	if len(terms) > 0 {
		indexSearch(&q.search)
	}
	filters(&q.walk, walkSearch)
	q.unfiltered = len(q.conds) == 0
	q.count = where{conds: slices.Clone(q.conds), args: slices.Clone(q.args)}
	ordering := f.Ordering
	if ordering == "" {
		ordering = model.DefaultRecordOrdering
	}
	desc := strings.HasPrefix(ordering, "-")
	col, ok := recordOrderColumns[strings.TrimPrefix(ordering, "-")]
	if !ok {
		return q, fmt.Errorf("list records: unknown ordering %q", f.Ordering)
	}
	for _, w := range []*where{&q.where, &q.walk} {
		if err := w.seek(col, "id", f.Seek, desc); err != nil {
			return q, fmt.Errorf("list records: %w", err)
		}
	}
	q.key, q.dir = col, direction(f.Seek, desc)
	q.order = col + " " + q.dir + ", id " + q.dir
	return q, nil
}

// ListRecords returns one page of records and the number matching f.
func (r *reader) ListRecords(ctx context.Context, f db.RecordFilter) (records []model.MedicalRecord, total int, err error) {
	if f.Search == "" {
		return r.listRecords(ctx, f, nil, unknownMatches)
	}
	words := db.QueryWords(f.Search)
	if len(words) == 0 {
		// A search without words (db.SearchWords), such as "%".
		return []model.MedicalRecord{}, 0, nil
	}
	if r.tx != nil {
		// Inside a write transaction, READ COMMITTED: its statements do
		// not share one snapshot, which searchRecords needs.
		return r.listRecords(ctx, f, termsOf(words), unknownMatches)
	}
	err = r.readSnapshot(ctx, func(sr *reader) error {
		records, total, err = sr.searchRecords(ctx, f, words)
		return err
	})
	return records, total, err
}

// listRecords is ListRecords for terms, the words of its search, if any,
// and what is known of their matches (planSearch counts them otherwise).
func (r *reader) listRecords(ctx context.Context, f db.RecordFilter, terms []searchTerm, known knownMatches) ([]model.MedicalRecord, int, error) {
	q, err := recordListSQL(f, terms)
	if err != nil {
		return nil, 0, err
	}
	if q.none {
		return []model.MedicalRecord{}, 0, nil
	}
	countSQL, countArgs := `SELECT count(*) FROM medical_records`+q.count.sql(), q.count.args
	if q.unfiltered {
		countSQL, countArgs = `SELECT n FROM counts WHERE name = '`+countRecords+`' AND part = ''`, nil
		// The counter must include this transaction's own changes.
		if err := r.flushCounts(ctx); err != nil {
			return nil, 0, fmt.Errorf("list records: %w", err)
		}
	}
	pageWhere := q.walk
	pageSQL := func(page string) string {
		return `SELECT ` + recordColumns + ` FROM medical_records` + q.walk.sql() + page
	}
	matches := known.n
	if len(q.search.conds) > 0 {
		gather := fewEnough(matches, known.records, f)
		if matches < 0 {
			if matches, gather, err = r.planSearch(ctx, q.search, f); err != nil {
				return nil, 0, fmt.Errorf("list records: %w", err)
			}
		}
		if matches == 0 {
			return []model.MedicalRecord{}, 0, nil
		}
		if gather {
			// Collected from the index, then sorted: planned alone, the
			// matches are read through the GIN index, never by walking
			// the ordering's index and testing every row it holds.
			pageWhere = q.where
			pageSQL = func(page string) string { return gatheredPageSQL(q, q.where.sql(), "", page, false) }
		}
	}
	page, args := pageWhere.page(q.order, f.Limit, f.Offset)
	rows, err := r.q.Query(ctx, pageSQL(page), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list records: %w", err)
	}
	records, err := collect(rows, db.PageCapacity(f.Limit), scanRecord)
	if err != nil {
		return nil, 0, fmt.Errorf("list records: %w", err)
	}
	if len(q.search.conds) > 0 && len(q.count.conds) == 1 {
		// The search is the one filter: planSearch counted its matches.
		records, _, _ = db.TrimPage(records, f.Limit, f.Offset)
		return db.InListOrder(records, f.Seek), matches, nil
	}
	records, count, err := pageTotal(ctx, r.q, records, f.Limit, f.Offset, f.Seek != nil, countSQL, countArgs)
	if err != nil {
		return nil, 0, fmt.Errorf("list records: %w", err)
	}
	return db.InListOrder(records, f.Seek), count, nil
}
