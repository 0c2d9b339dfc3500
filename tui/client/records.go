package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/anavara/anavara/model"
)

// RecordInput is a whole record, for create (POST) and replace (PUT).
type RecordInput struct {
	// UserID is the patient's account; "" is omitted, which the server takes
	// as the caller's own account on create (and leaves unchanged on PUT).
	UserID      string
	PatientName string
	// DateOfBirth must not be in the future; the zero Date is omitted (the
	// server then reports the field as required).
	DateOfBirth model.Date
	Diagnosis   string
	Treatment   string
	// DateOfTreatment must be after today (UTC) when it is set or changed;
	// the zero Date is omitted.
	DateOfTreatment model.Date
	Doctor          string
	// IfVersion, when not 0, makes ReplaceRecord apply only to the record
	// at that version (If-Match); otherwise the server answers 412
	// (IsChanged). CreateRecord ignores it.
	IfVersion int64
}

// RecordPatch changes some fields of a record (PATCH); nil fields are not
// sent.
type RecordPatch struct {
	UserID          *string
	PatientName     *string
	Diagnosis       *string
	Treatment       *string
	Doctor          *string
	DateOfBirth     *model.Date
	DateOfTreatment *model.Date
	// IfVersion, when not 0, is the version the change applies to
	// (If-Match): the version of the record the form was filled from, so
	// that a change someone else made meanwhile is not overwritten but
	// answered 412 (IsChanged).
	IfVersion int64
}

// RecordQuery filters, orders and pages ListRecords; zero fields are
// omitted.
type RecordQuery struct {
	// Page is 1-based; PageSize is 1–100 (server default 20).
	Page     int
	PageSize int
	// ByCursor asks for a page by cursor (keyset pagination): a walk
	// that follows NextCursor never shows an item twice or skips one while
	// others are added. Cursor is a NextCursor or PreviousCursor of a page
	// by cursor of the same query (it implies ByCursor); Page stays 0.
	ByCursor bool
	Cursor   string
	// Search is a case-insensitive substring of patient name, doctor or
	// diagnosis.
	Search string
	Doctor string
	// UserID limits the list to one patient's account.
	UserID string
	// Ordering is created, updated, date_of_treatment or patient_name,
	// optionally prefixed with "-" (server default -created).
	Ordering string
	// TreatedAfter and TreatedBefore bound date_of_treatment.
	TreatedAfter  *model.Date
	TreatedBefore *model.Date
}

// recordBody is the wire form of RecordInput.
type recordBody struct {
	UserID          string      `json:"user_id,omitempty"`
	PatientName     string      `json:"patient_name"`
	DateOfBirth     *model.Date `json:"date_of_birth,omitempty"`
	Diagnosis       string      `json:"diagnosis"`
	Treatment       string      `json:"treatment"`
	DateOfTreatment *model.Date `json:"date_of_treatment,omitempty"`
	Doctor          string      `json:"doctor"`
}

// recordPatchBody is the wire form of RecordPatch.
type recordPatchBody struct {
	UserID          *string     `json:"user_id,omitempty"`
	PatientName     *string     `json:"patient_name,omitempty"`
	DateOfBirth     *model.Date `json:"date_of_birth,omitempty"`
	Diagnosis       *string     `json:"diagnosis,omitempty"`
	Treatment       *string     `json:"treatment,omitempty"`
	DateOfTreatment *model.Date `json:"date_of_treatment,omitempty"`
	Doctor          *string     `json:"doctor,omitempty"`
}

// body returns the wire form of r.
func (r RecordInput) body() recordBody {
	return recordBody{
		UserID:          r.UserID,
		PatientName:     r.PatientName,
		DateOfBirth:     optionalDate(r.DateOfBirth),
		Diagnosis:       r.Diagnosis,
		Treatment:       r.Treatment,
		DateOfTreatment: optionalDate(r.DateOfTreatment),
		Doctor:          r.Doctor,
	}
}

// optionalDate returns nil for the zero Date, so it is not sent.
func optionalDate(d model.Date) *model.Date {
	if d.IsZero() {
		return nil
	}
	return &d
}

// recordPath is the URL path of one record.
func recordPath(id string) string { return "/api/medical-records/" + url.PathEscape(id) }

// ListRecords returns one page of the records the caller may see: all for
// staff, their own account's for anyone else.
func (c *Client) ListRecords(ctx context.Context, q RecordQuery) (model.Page[model.MedicalRecord], error) {
	v := url.Values{}
	setPage(v, q.Page, q.PageSize, q.ByCursor, q.Cursor)
	setString(v, "search", q.Search)
	setString(v, "doctor", q.Doctor)
	setString(v, "user_id", q.UserID)
	setString(v, "ordering", q.Ordering)
	setDate(v, "date_of_treatment_after", q.TreatedAfter)
	setDate(v, "date_of_treatment_before", q.TreatedBefore)
	var page model.Page[model.MedicalRecord]
	if err := c.doAuth(ctx, http.MethodGet, "/api/medical-records", v, nil, &page); err != nil {
		return model.Page[model.MedicalRecord]{}, fmt.Errorf("list medical records: %w", err)
	}
	return page, nil
}

// GetRecord returns one record; records the caller may not see are 404.
func (c *Client) GetRecord(ctx context.Context, id string) (model.MedicalRecord, error) {
	var rec model.MedicalRecord
	if err := c.doAuth(ctx, http.MethodGet, recordPath(id), nil, nil, &rec); err != nil {
		return model.MedicalRecord{}, fmt.Errorf("get medical record %s: %w", id, err)
	}
	return rec, nil
}

// CreateRecord adds a record and returns it as stored.
func (c *Client) CreateRecord(ctx context.Context, r RecordInput) (model.MedicalRecord, error) {
	var rec model.MedicalRecord
	if err := c.doAuth(ctx, http.MethodPost, "/api/medical-records", nil, r.body(), &rec); err != nil {
		return model.MedicalRecord{}, fmt.Errorf("create medical record: %w", err)
	}
	return rec, nil
}

// ReplaceRecord replaces every writable field of a record (PUT); an empty
// diagnosis or treatment clears it.
func (c *Client) ReplaceRecord(ctx context.Context, id string, r RecordInput) (model.MedicalRecord, error) {
	var rec model.MedicalRecord
	if err := c.doAuthIf(ctx, http.MethodPut, recordPath(id), r.IfVersion, r.body(), &rec); err != nil {
		return model.MedicalRecord{}, fmt.Errorf("replace medical record %s: %w", id, err)
	}
	return rec, nil
}

// PatchRecord changes the fields of a record that p sets.
func (c *Client) PatchRecord(ctx context.Context, id string, p RecordPatch) (model.MedicalRecord, error) {
	body := recordPatchBody{
		UserID: p.UserID, PatientName: p.PatientName, DateOfBirth: p.DateOfBirth, Diagnosis: p.Diagnosis,
		Treatment: p.Treatment, DateOfTreatment: p.DateOfTreatment, Doctor: p.Doctor,
	}
	var rec model.MedicalRecord
	if err := c.doAuthIf(ctx, http.MethodPatch, recordPath(id), p.IfVersion, body, &rec); err != nil {
		return model.MedicalRecord{}, fmt.Errorf("update medical record %s: %w", id, err)
	}
	return rec, nil
}

// DeleteRecord deletes a record. With ifVersion not 0, only the record at
// that version: one someone else changed meanwhile answers 412 (IsChanged).
func (c *Client) DeleteRecord(ctx context.Context, id string, ifVersion int64) error {
	if err := c.doAuthIf(ctx, http.MethodDelete, recordPath(id), ifVersion, nil, nil); err != nil {
		return fmt.Errorf("delete medical record %s: %w", id, err)
	}
	return nil
}
