package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

const recordColumns = `id, user_id, patient_name, date_of_birth, diagnosis, treatment, date_of_treatment, doctor, created, updated, version`

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
	_, err = t.q.Exec(ctx, `INSERT INTO medical_records (`+recordColumns+`, patient_name_key, doctor_key, search_words)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		id, userID, r.PatientName, dateArg(r.DateOfBirth), r.Diagnosis, r.Treatment,
		dateArg(r.DateOfTreatment), r.Doctor, at(r.Created), at(r.Updated), int64(1),
		db.Fold(r.PatientName), db.Fold(r.Doctor), db.RecordSearchWords(r))
	if err != nil {
		return fmt.Errorf("insert record: %w", err)
	}
	t.addToCount(countRecords, "", 1)
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
	tag, err := t.q.Exec(ctx, `UPDATE medical_records SET user_id = $1, patient_name = $2, date_of_birth = $3,
		diagnosis = $4, treatment = $5, date_of_treatment = $6, doctor = $7, updated = $8,
		version = version + 1, patient_name_key = $9, doctor_key = $10, search_words = $11 WHERE id = $12`,
		userID, r.PatientName, dateArg(r.DateOfBirth), r.Diagnosis, r.Treatment, dateArg(r.DateOfTreatment),
		r.Doctor, at(r.Updated), db.Fold(r.PatientName), db.Fold(r.Doctor), db.RecordSearchWords(r), r.ID)
	if err != nil {
		return fmt.Errorf("update record: %w", err)
	}
	return requireOneRow(tag)
}

// DeleteRecord removes the record with id and uncounts it; db.ErrNotFound
// when there is none.
func (t *tx) DeleteRecord(ctx context.Context, id string) error {
	if !validID(id) {
		return db.ErrNotFound
	}
	tag, err := t.q.Exec(ctx, `DELETE FROM medical_records WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete record: %w", err)
	}
	if err := requireOneRow(tag); err != nil {
		return err
	}
	t.addToCount(countRecords, "", -1)
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
	walk  where
	order string
	// unfiltered is set when nothing narrows the list, whose total is
	// then the records counter.
	unfiltered bool
	// search is the tsquery of the search's words, if there is a search.
	search string
	// none is set when a filter can match nothing: a malformed user id,
	// a search without words (db.SearchWords), such as "%".
	none bool
}

// recordListSQL builds ListRecords' query for f.
func recordListSQL(f db.RecordFilter) (recordQuery, error) {
	var q recordQuery
	searchCond, searchArg, walkSearch := -1, -1, ""
	if f.UserID != "" {
		if !validID(f.UserID) {
			q.none = true
		}
		q.add("user_id = ", f.UserID)
	}
	if f.Search != "" {
		words := db.QueryWords(f.Search)
		if len(words) == 0 {
			q.none = true
		}
		q.search, walkSearch = searchQuery(words, searchPrefixRunes), searchQuery(words, 0)
		searchCond, searchArg = len(q.conds), len(q.args)
		q.add(searchVector+" @@ ", q.search, "::tsquery")
	}
	if f.Doctor != "" {
		q.add("doctor_key = ", db.Fold(f.Doctor))
	}
	if f.TreatedAfter != nil {
		q.add("date_of_treatment >= ", dateArg(*f.TreatedAfter))
	}
	if f.TreatedBefore != nil {
		q.add("date_of_treatment <= ", dateArg(*f.TreatedBefore))
	}
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
	if err := q.seek(col, "id", f.Seek, desc); err != nil {
		return q, fmt.Errorf("list records: %w", err)
	}
	q.walk = where{conds: slices.Clone(q.conds), args: slices.Clone(q.args)}
	if searchCond >= 0 {
		q.walk.conds[searchCond] = searchWordsVector + " @@ $" + strconv.Itoa(searchArg+1) + "::tsquery"
		q.walk.args[searchArg] = walkSearch
	}
	dir := direction(f.Seek, desc)
	q.order = col + " " + dir + ", id " + dir
	return q, nil
}

// ListRecords returns one page of records and the number matching f.
func (r *reader) ListRecords(ctx context.Context, f db.RecordFilter) ([]model.MedicalRecord, int, error) {
	q, err := recordListSQL(f)
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
	pageSQL, pageWhere := `SELECT `+recordColumns+` FROM medical_records`+q.walk.sql(), q.walk
	matches := -1
	if q.search != "" {
		var few bool
		if matches, few, err = r.planSearch(ctx, q.search, f); err != nil {
			return nil, 0, fmt.Errorf("list records: %w", err)
		}
		if matches == 0 {
			return []model.MedicalRecord{}, 0, nil
		}
		if few {
			// Collected from the index, then sorted: planned alone, the
			// matches are read through the GIN index, never by walking
			// the ordering's index and testing every row it holds.
			pageSQL, pageWhere = `WITH matches AS MATERIALIZED (SELECT * FROM medical_records`+q.sql()+`)
				SELECT `+recordColumns+` FROM matches`, q.where
		}
	}
	page, args := pageWhere.page(q.order, f.Limit, f.Offset)
	rows, err := r.q.Query(ctx, pageSQL+page, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list records: %w", err)
	}
	records, err := collect(rows, db.PageCapacity(f.Limit), scanRecord)
	if err != nil {
		return nil, 0, fmt.Errorf("list records: %w", err)
	}
	if q.search != "" && len(q.count.conds) == 1 {
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
