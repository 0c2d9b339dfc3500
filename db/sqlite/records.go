package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

const recordColumns = `id, user_id, patient_name, date_of_birth, diagnosis, treatment, date_of_treatment, doctor, created, updated, version`

func scanRecord(row interface{ Scan(...any) error }) (model.MedicalRecord, error) {
	var r model.MedicalRecord
	var dob, dot string
	var created, updated int64
	if err := row.Scan(&r.ID, &r.UserID, &r.PatientName, &dob, &r.Diagnosis, &r.Treatment, &dot, &r.Doctor, &created, &updated, &r.Version); err != nil {
		return r, err
	}
	var err error
	if r.DateOfBirth, err = model.ParseDate(dob); err != nil {
		return r, fmt.Errorf("record %s date_of_birth: %w", r.ID, err)
	}
	if r.DateOfTreatment, err = model.ParseDate(dot); err != nil {
		return r, fmt.Errorf("record %s date_of_treatment: %w", r.ID, err)
	}
	r.Created, r.Updated = fromMicros(created), fromMicros(updated)
	return r, nil
}

// CreateRecord inserts r at version 1, indexes its words for search
// (record_search.go), counts them (search_word_counts.go) and counts it
// (counts.go). Call it inside
// Store.Write, so that all of it lands or none does.
func (q *queries) CreateRecord(ctx context.Context, r model.MedicalRecord) error {
	words := db.RecordSearchWords(r)
	res, err := q.q.ExecContext(ctx, `INSERT INTO medical_records (`+recordColumns+`, patient_name_key, doctor_key, search_words) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		r.ID, r.UserID, r.PatientName, r.DateOfBirth.String(), r.Diagnosis, r.Treatment,
		r.DateOfTreatment.String(), r.Doctor, micros(r.Created), micros(r.Updated), 1,
		db.Fold(r.PatientName), db.Fold(r.Doctor), words)
	if err != nil {
		return fmt.Errorf("insert record: %w", err)
	}
	rowid, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("insert record: %w", err)
	}
	if err := q.indexRecord(ctx, rowid, words); err != nil {
		return err
	}
	if err := q.countWords(ctx, strings.Fields(words)); err != nil {
		return err
	}
	return q.addToCount(ctx, countRecords, "", 1)
}

// RecordByID returns the record with id, or db.ErrNotFound.
func (q *queries) RecordByID(ctx context.Context, id string) (model.MedicalRecord, error) {
	r, err := scanRecord(q.q.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM medical_records WHERE id = ?`, id))
	if err != nil {
		return r, notFound(err, "select record")
	}
	return r, nil
}

// UpdateRecord stores every writable field of r and its updated time, and
// bumps the record's version. When its words change, the search index
// and the word counts change with them (record_search.go,
// search_word_counts.go), in the same transaction.
func (q *queries) UpdateRecord(ctx context.Context, r model.MedicalRecord) error {
	var rowid int64
	var oldWords string
	err := q.q.QueryRowContext(ctx, `SELECT rowid, search_words FROM medical_records WHERE id = ?`, r.ID).Scan(&rowid, &oldWords)
	if err != nil {
		return notFound(err, "update record")
	}
	words := db.RecordSearchWords(r)
	// Most edits (a treatment, a date) leave the words as they were.
	reindex := words != oldWords
	if reindex {
		if err := q.unindexRecord(ctx, rowid); err != nil {
			return err
		}
	}
	res, err := q.q.ExecContext(ctx, `UPDATE medical_records SET user_id = ?, patient_name = ?, date_of_birth = ?,
		diagnosis = ?, treatment = ?, date_of_treatment = ?, doctor = ?, updated = ?,
		version = version + 1, patient_name_key = ?, doctor_key = ?, search_words = ? WHERE rowid = ?`,
		r.UserID, r.PatientName, r.DateOfBirth.String(), r.Diagnosis, r.Treatment, r.DateOfTreatment.String(),
		r.Doctor, micros(r.Updated), db.Fold(r.PatientName), db.Fold(r.Doctor), words, rowid)
	if err != nil {
		return fmt.Errorf("update record: %w", err)
	}
	if err := requireOneRow(res); err != nil {
		return err
	}
	if reindex {
		if err := q.indexRecord(ctx, rowid, words); err != nil {
			return err
		}
		return q.recountWords(ctx, oldWords, words)
	}
	return nil
}

// DeleteRecord removes the record with id and its words from the search
// index, and uncounts them and it. Call it inside Store.Write, like
// CreateRecord.
func (q *queries) DeleteRecord(ctx context.Context, id string) error {
	var rowid int64
	var words string
	if err := q.q.QueryRowContext(ctx, `SELECT rowid, search_words FROM medical_records WHERE id = ?`, id).Scan(&rowid, &words); err != nil {
		return notFound(err, "delete record")
	}
	if err := q.unindexRecord(ctx, rowid); err != nil {
		return err
	}
	if err := q.uncountWords(ctx, strings.Fields(words)); err != nil {
		return err
	}
	res, err := q.q.ExecContext(ctx, `DELETE FROM medical_records WHERE rowid = ?`, rowid)
	if err != nil {
		return fmt.Errorf("delete record: %w", err)
	}
	if err := requireOneRow(res); err != nil {
		return err
	}
	return q.addToCount(ctx, countRecords, "", -1)
}

var recordOrderColumns = map[string]string{
	"created":           "created",
	"updated":           "updated",
	"date_of_treatment": "date_of_treatment",
	// Folded in Go (migration 10), as on every engine.
	"patient_name": "patient_name_key",
}

// recordListSQL builds ListRecords' page and count queries for f; the page
// query takes args followed by the limit and offset, the count query
// countArgs (the page's but a seek's). A search takes the FTS4 MATCH
// expression of its words (matchExpr) and reads the index in the way plan
// says (record_search.go).
func recordListSQL(f db.RecordFilter, match string, plan searchPlan) (page, count string, args, countArgs []any, err error) {
	var where []string
	if f.UserID != "" {
		where = append(where, "user_id = ?")
		args = append(args, f.UserID)
	}
	if f.Search != "" {
		where = append(where, plan.condition())
		args = append(args, match)
	}
	if f.Doctor != "" {
		where = append(where, "doctor_key = ?")
		args = append(args, db.Fold(f.Doctor))
	}
	if f.TreatedAfter != nil {
		where = append(where, "date_of_treatment >= ?")
		args = append(args, f.TreatedAfter.String())
	}
	if f.TreatedBefore != nil {
		where = append(where, "date_of_treatment <= ?")
		args = append(args, f.TreatedBefore.String())
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	count = `SELECT count(*) FROM medical_records` + cond
	if cond == "" {
		count = `SELECT n FROM counts WHERE name = '` + countRecords + `' AND part = ''`
	}
	countArgs = args

	ordering := f.Ordering
	if ordering == "" {
		ordering = model.DefaultRecordOrdering
	}
	desc := strings.HasPrefix(ordering, "-")
	col, ok := recordOrderColumns[strings.TrimPrefix(ordering, "-")]
	if !ok {
		return "", "", nil, nil, fmt.Errorf("list records: unknown ordering %q", f.Ordering)
	}
	seek, seekArgs, err := seekCondition(col, "id", f.Seek, desc)
	if err != nil {
		return "", "", nil, nil, fmt.Errorf("list records: %w", err)
	}
	if seek != "" {
		where = append(where, seek)
		args = append(append([]any(nil), args...), seekArgs...)
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	dir := direction(f.Seek, desc)
	page = `SELECT ` + recordColumns + ` FROM medical_records` + cond + ` ORDER BY ` + col + ` ` + dir + `, id ` + dir + ` LIMIT ? OFFSET ?`
	return page, count, args, countArgs, nil
}

// ListRecords returns one page of records and the number matching f. A
// search reads one snapshot on the reader pool, since it reads the word
// counts (search_word_counts.go) before the index.
func (q *queries) ListRecords(ctx context.Context, f db.RecordFilter) (page []model.MedicalRecord, total int, err error) {
	if f.Search == "" {
		return q.listRecords(ctx, f, nil)
	}
	words := db.QueryWords(f.Search)
	if len(words) == 0 {
		// Nothing in the query can start a word.
		return []model.MedicalRecord{}, 0, nil
	}
	err = q.readSnapshot(ctx, func(q *queries) error {
		page, total, err = q.listRecords(ctx, f, words)
		return err
	})
	return page, total, err
}

// listRecords is ListRecords, given the search's words.
func (q *queries) listRecords(ctx context.Context, f db.RecordFilter, words []string) ([]model.MedicalRecord, int, error) {
	var terms []searchTerm
	known := unknownMatches
	if f.Search != "" {
		var err error
		if terms, known, err = q.searchTerms(ctx, words); err != nil {
			return nil, 0, fmt.Errorf("list records: %w", err)
		}
		if known == 0 {
			return []model.MedicalRecord{}, 0, nil
		}
		if len(terms) == 0 {
			// Every record matches: the search filters nothing.
			f.Search = ""
		}
	}
	var match string
	plan, matches := searchNone, -1
	if f.Search != "" {
		match = matchTerms(terms)
		ordering := cmp.Or(f.Ordering, model.DefaultRecordOrdering)
		byDocid := searchOnly(f) && f.Seek == nil && strings.TrimPrefix(ordering, "-") == "created" && f.Offset+f.Limit <= maxDocidPage
		if byDocid && len(terms) > 1 {
			page, n, ok, err := q.searchFew(ctx, match, f, ordering == "-created", fewMatches)
			if err != nil {
				return nil, 0, fmt.Errorf("list records: %w", err)
			}
			if ok {
				return page, n, nil
			}
		}
		var err error
		if plan, matches, err = q.planSearch(ctx, match, f, known); err != nil {
			return nil, 0, fmt.Errorf("list records: %w", err)
		}
		if matches == 0 {
			return []model.MedicalRecord{}, 0, nil
		}
		if plan == searchProbe && byDocid {
			page, ok, err := q.searchByDocid(ctx, match, f, ordering == "-created")
			if err != nil {
				return nil, 0, fmt.Errorf("list records: %w", err)
			}
			if ok {
				return page, matches, nil
			}
		}
	}
	pageSQL, countSQL, args, countArgs, err := recordListSQL(f, match, plan)
	if err != nil {
		return nil, 0, err
	}
	// One row past the page, so a last page needs no count (pageTotal).
	rows, err := q.q.QueryContext(ctx, pageSQL, pageArgs(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list records: %w", err)
	}
	defer rows.Close()
	records := make([]model.MedicalRecord, 0, db.PageCapacity(f.Limit))
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("scan record: %w", err)
		}
		records = append(records, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list records: %w", err)
	}
	if searchOnly(f) {
		// The index counted the matches already.
		records, _, _ = db.TrimPage(records, f.Limit, f.Offset)
		return db.InListOrder(records, f.Seek), matches, nil
	}
	records, count, err := pageTotal(ctx, q.q, records, f.Limit, f.Offset, f.Seek != nil, countSQL, countArgs)
	if err != nil {
		return nil, 0, fmt.Errorf("list records: %w", err)
	}
	return db.InListOrder(records, f.Seek), count, nil
}
