package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
)

const mrPath = "/api/medical-records"

// mrOmit, as a value in mrBody's overrides, removes the key.
type mrOmitT struct{}

var mrOmit = mrOmitT{}

// mrBody returns a valid create body ("today" is 2026-03-10 in tests) with
// over applied: a value replaces the key, mrOmit removes it.
func mrBody(over map[string]any) map[string]any {
	b := map[string]any{
		"patient_name":      "Ada Lovelace",
		"date_of_birth":     "1985-12-10",
		"diagnosis":         "Seasonal rhinitis",
		"treatment":         "Antihistamines",
		"date_of_treatment": "2026-03-20",
		"doctor":            "Dr. Grace Hopper",
	}
	for k, v := range over {
		if v == mrOmit {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

// mrCreate creates a record through the API and returns it.
func mrCreate(h *harness, token string, over map[string]any) model.MedicalRecord {
	h.t.Helper()
	var r model.MedicalRecord
	h.post(mrPath, mrBody(over), token).expect(http.StatusCreated).decode(&r)
	return r
}

// mrSub returns h reporting to t, for subtests.
func mrSub(h *harness, t *testing.T) *harness {
	c := *h
	c.t = t
	return &c
}

// mrStored reads a record straight from the database.
func mrStored(h *harness, id string) (model.MedicalRecord, error) {
	h.t.Helper()
	return h.store.Read().RecordByID(context.Background(), id)
}

// mrMustStored reads a record that must exist.
func mrMustStored(h *harness, id string) model.MedicalRecord {
	h.t.Helper()
	r, err := mrStored(h, id)
	if err != nil {
		h.t.Fatalf("record %s in database: %v", id, err)
	}
	return r
}

// mrCount counts the records of userID in the database ("" for all).
func mrCount(h *harness, userID string) int {
	h.t.Helper()
	_, n, err := h.store.Read().ListRecords(context.Background(), db.RecordFilter{UserID: userID, Limit: 1})
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

func mrIDs(rs []model.MedicalRecord) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

func mrNames(rs []model.MedicalRecord) []string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.PatientName
	}
	return names
}

// mrWithin fails unless ts lies strictly between lo and hi (the test clock
// ticks a microsecond on every reading) and is in UTC.
func mrWithin(t *testing.T, what string, ts, lo, hi time.Time) {
	t.Helper()
	if !ts.After(lo) || !ts.Before(hi) || ts.Location() != time.UTC {
		t.Fatalf("%s %v is not the server's time of the request (between %v and %v, UTC)", what, ts, lo, hi)
	}
}

// mrSame fails unless got and want hold the same values (times compared as
// instants).
func mrSame(t *testing.T, what string, got, want model.MedicalRecord) {
	t.Helper()
	if !got.Created.Equal(want.Created) || !got.Updated.Equal(want.Updated) {
		t.Fatalf("%s: created/updated %v/%v, want %v/%v", what, got.Created, got.Updated, want.Created, want.Updated)
	}
	got.Created, got.Updated = want.Created, want.Updated
	if want.Version == 0 {
		// want came from a JSON body, which has no version (the ETag
		// header carries it): compare the rest.
		got.Version = 0
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func TestRecordCreate(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	lo := h.clock.Now()
	var r model.MedicalRecord
	h.post(mrPath, mrBody(nil), a.Access).expect(http.StatusCreated).decode(&r)
	hi := h.clock.Now()
	mrWithin(t, "created", r.Created, lo, hi)
	if !r.Updated.Equal(r.Created) {
		t.Fatalf("updated %v differs from created %v on create", r.Updated, r.Created)
	}

	id, err := uuid.Parse(r.ID)
	if err != nil || id.Version() != 4 || id.String() != r.ID {
		t.Fatalf("id %q is not a canonical UUID v4", r.ID)
	}
	want := model.MedicalRecord{
		ID: r.ID, UserID: a.ID, PatientName: "Ada Lovelace",
		DateOfBirth: model.NewDate(1985, 12, 10), Diagnosis: "Seasonal rhinitis", Treatment: "Antihistamines",
		DateOfTreatment: model.NewDate(2026, 3, 20), Doctor: "Dr. Grace Hopper", Created: r.Created, Updated: r.Created,
	}
	mrSame(t, "response", r, want)
	mrSame(t, "database", mrMustStored(h, r.ID), want)

	// The wire form: RFC 3339 UTC times and YYYY-MM-DD dates.
	res := h.get(mrPath+"/"+r.ID, a.Access).expect(http.StatusOK)
	var raw map[string]any
	res.decode(&raw)
	for _, field := range []string{"created", "updated"} {
		s, _ := raw[field].(string)
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || !strings.HasSuffix(s, "Z") || !ts.Equal(r.Created) {
			t.Errorf("%s = %v, want RFC 3339 UTC of %v", field, raw[field], r.Created)
		}
	}
	for field, v := range map[string]string{
		"date_of_birth": "1985-12-10", "date_of_treatment": "2026-03-20", "user_id": a.ID, "id": r.ID,
	} {
		if raw[field] != v {
			t.Errorf("%s = %v, want %q", field, raw[field], v)
		}
	}
	if len(raw) != 10 {
		t.Errorf("record has %d fields, want 10: %s", len(raw), res.Body)
	}
}

func TestRecordCreateValidation(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	long := func(n int) string { return strings.Repeat("x", n) }
	required := []string{model.MsgRequired}

	cases := []struct {
		name   string
		body   any
		fields map[string][]string // field → exact messages; nil messages: any
	}{
		{"empty object", map[string]any{}, map[string][]string{
			"patient_name": required, "date_of_birth": required, "date_of_treatment": required, "doctor": required}},
		{"missing patient_name", mrBody(map[string]any{"patient_name": mrOmit}), map[string][]string{"patient_name": required}},
		{"missing date_of_birth", mrBody(map[string]any{"date_of_birth": mrOmit}), map[string][]string{"date_of_birth": required}},
		{"missing date_of_treatment", mrBody(map[string]any{"date_of_treatment": mrOmit}), map[string][]string{"date_of_treatment": required}},
		{"missing doctor", mrBody(map[string]any{"doctor": mrOmit}), map[string][]string{"doctor": required}},
		{"null doctor", mrBody(map[string]any{"doctor": nil}), map[string][]string{"doctor": required}},
		{"blank patient_name", mrBody(map[string]any{"patient_name": "   "}), map[string][]string{"patient_name": {model.MsgBlank}}},
		{"blank doctor", mrBody(map[string]any{"doctor": ""}), map[string][]string{"doctor": {model.MsgBlank}}},
		{"patient_name 256", mrBody(map[string]any{"patient_name": long(256)}), map[string][]string{"patient_name": {"Ensure this field has no more than 255 characters."}}},
		{"doctor 256", mrBody(map[string]any{"doctor": long(256)}), map[string][]string{"doctor": {"Ensure this field has no more than 255 characters."}}},
		{"diagnosis 10001", mrBody(map[string]any{"diagnosis": long(10001)}), map[string][]string{"diagnosis": {"Ensure this field has no more than 10000 characters."}}},
		{"treatment 10001", mrBody(map[string]any{"treatment": long(10001)}), map[string][]string{"treatment": {"Ensure this field has no more than 10000 characters."}}},
		{"patient_name not a string", mrBody(map[string]any{"patient_name": 42}), map[string][]string{"patient_name": nil}},
		{"diagnosis not a string", mrBody(map[string]any{"diagnosis": []string{"a"}}), map[string][]string{"diagnosis": nil}},
		{"date_of_birth tomorrow", mrBody(map[string]any{"date_of_birth": "2026-03-11"}), map[string][]string{"date_of_birth": {model.MsgBirthInFuture}}},
		// A well-formed date that does not exist is not a format error.
		{"date_of_birth 30 February", mrBody(map[string]any{"date_of_birth": "1990-02-30"}), map[string][]string{
			"date_of_birth": {"This date does not exist. February 1990 has 28 days."}}},
		{"date_of_treatment month 13", mrBody(map[string]any{"date_of_treatment": "2026-13-01"}), map[string][]string{
			"date_of_treatment": {"This date does not exist. There is no month 13."}}},
		{"date_of_birth wrong format", mrBody(map[string]any{"date_of_birth": "30/02/1990"}), map[string][]string{
			"date_of_birth": {model.MsgDateFormat}}},
		{"date_of_birth next year", mrBody(map[string]any{"date_of_birth": "2027-01-01"}), map[string][]string{"date_of_birth": {model.MsgBirthInFuture}}},
		{"date_of_treatment today", mrBody(map[string]any{"date_of_treatment": "2026-03-10"}), map[string][]string{"date_of_treatment": {"Ensure treatment dates are in the future"}}},
		{"date_of_treatment yesterday", mrBody(map[string]any{"date_of_treatment": "2026-03-09"}), map[string][]string{"date_of_treatment": {"Ensure treatment dates are in the future"}}},
		{"date_of_treatment long ago", mrBody(map[string]any{"date_of_treatment": "1999-01-01"}), map[string][]string{"date_of_treatment": {"Ensure treatment dates are in the future"}}},
		{"two fields at once", mrBody(map[string]any{"doctor": mrOmit, "date_of_treatment": "2026-03-10"}), map[string][]string{
			"doctor": required, "date_of_treatment": {"Ensure treatment dates are in the future"}}},
	}
	for _, field := range []string{"date_of_birth", "date_of_treatment"} {
		for _, bad := range []any{"2026-13-01", "10/03/2026", "2026-3-1", 20260310, "2027-02-30", "2027-03-20T10:00:00Z", " ", "tomorrow"} {
			cases = append(cases, struct {
				name   string
				body   any
				fields map[string][]string
			}{field + " " + strings.TrimSpace(mrValueName(bad)), mrBody(map[string]any{field: bad}), map[string][]string{field: nil}})
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := mrSub(h, t)
			fields := make([]string, 0, len(tc.fields))
			for f := range tc.fields {
				fields = append(fields, f)
			}
			e := h.post(mrPath, tc.body, a.Access).expectError(http.StatusBadRequest, "", fields...)
			for f, msgs := range tc.fields {
				if msgs != nil && !slices.Equal(e.Errors[f], msgs) {
					t.Errorf("errors.%s = %q, want %q", f, e.Errors[f], msgs)
				}
			}
			if len(fields) == 1 && e.Message != e.Errors[fields[0]][0] {
				t.Errorf("message %q is not the field error %q", e.Message, e.Errors[fields[0]][0])
			}
			if n := mrCount(h, ""); n != 0 {
				t.Fatalf("a rejected create stored %d records", n)
			}
		})
	}
}

func mrValueName(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return "number"
}

func TestRecordCreateBoundaries(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	cases := []struct {
		name  string
		over  map[string]any
		check func(model.MedicalRecord) bool
	}{
		{"treatment tomorrow", map[string]any{"date_of_treatment": "2026-03-11"},
			func(r model.MedicalRecord) bool { return r.DateOfTreatment == model.NewDate(2026, 3, 11) }},
		{"born today", map[string]any{"date_of_birth": "2026-03-10"},
			func(r model.MedicalRecord) bool { return r.DateOfBirth == model.NewDate(2026, 3, 10) }},
		{"diagnosis exactly 10000", map[string]any{"diagnosis": strings.Repeat("d", 10000)},
			func(r model.MedicalRecord) bool { return len(r.Diagnosis) == 10000 }},
		{"treatment exactly 10000", map[string]any{"treatment": strings.Repeat("t", 10000)},
			func(r model.MedicalRecord) bool { return len(r.Treatment) == 10000 }},
		{"patient_name exactly 255", map[string]any{"patient_name": strings.Repeat("p", 255)},
			func(r model.MedicalRecord) bool { return r.PatientName == strings.Repeat("p", 255) }},
		{"doctor 255 multibyte characters", map[string]any{"doctor": strings.Repeat("é", 255)},
			func(r model.MedicalRecord) bool { return r.Doctor == strings.Repeat("é", 255) }},
		{"optional texts omitted", map[string]any{"diagnosis": mrOmit, "treatment": mrOmit},
			func(r model.MedicalRecord) bool { return r.Diagnosis == "" && r.Treatment == "" }},
		{"names trimmed", map[string]any{"patient_name": "  Ada  ", "doctor": "\tDr. Who "},
			func(r model.MedicalRecord) bool { return r.PatientName == "Ada" && r.Doctor == "Dr. Who" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := mrSub(h, t)
			r := mrCreate(h, a.Access, tc.over)
			if !tc.check(r) {
				t.Fatalf("response does not hold the value sent: %+v", r)
			}
			stored := mrMustStored(h, r.ID)
			if !tc.check(stored) {
				t.Fatalf("database does not hold the value sent: %+v", stored)
			}
			mrSame(t, "database", stored, r)
		})
	}
}

func TestRecordCreateOwnership(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	b := h.signup("bob@example.org")
	s := h.staff("sam@example.org")

	t.Run("patient for another patient", func(t *testing.T) {
		h := mrSub(h, t)
		h.post(mrPath, mrBody(map[string]any{"user_id": b.ID}), a.Access).expect(http.StatusForbidden)
		h.post(mrPath, mrBody(map[string]any{"user_id": uuid.NewString()}), a.Access).expect(http.StatusForbidden)
		h.post(mrPath, mrBody(map[string]any{"user_id": s.ID}), a.Access).expect(http.StatusForbidden)
		if n := mrCount(h, ""); n != 0 {
			t.Fatalf("forbidden creates stored %d records", n)
		}
	})
	t.Run("patient naming self", func(t *testing.T) {
		h := mrSub(h, t)
		r := mrCreate(h, a.Access, map[string]any{"user_id": a.ID})
		if r.UserID != a.ID || mrMustStored(h, r.ID).UserID != a.ID {
			t.Fatalf("record belongs to %s, want %s", r.UserID, a.ID)
		}
	})
	// Staff must say whose record it is: missing, null or empty is 400, not
	// a record filed under the staff member's own account.
	for name, body := range map[string]map[string]any{
		"missing": mrBody(nil),
		"null":    mrBody(map[string]any{"user_id": nil}),
		"empty":   mrBody(map[string]any{"user_id": "  "}),
	} {
		t.Run("staff without user_id "+name, func(t *testing.T) {
			h := mrSub(h, t)
			before := mrCount(h, "")
			e := h.post(mrPath, body, s.Access).expectError(http.StatusBadRequest, "This field is required.", "user_id")
			if !slices.Equal(e.Errors["user_id"], []string{"This field is required."}) {
				t.Fatalf("errors.user_id = %q", e.Errors["user_id"])
			}
			if n := mrCount(h, ""); n != before {
				t.Fatalf("rejected create stored a record (%d → %d)", before, n)
			}
		})
	}
	t.Run("staff naming self", func(t *testing.T) {
		h := mrSub(h, t)
		if r := mrCreate(h, s.Access, map[string]any{"user_id": s.ID}); r.UserID != s.ID {
			t.Fatalf("record belongs to %s, want %s", r.UserID, s.ID)
		}
	})
	t.Run("staff, form-encoded, without user_id", func(t *testing.T) {
		h := mrSub(h, t)
		form := url.Values{"patient_name": {"P"}, "date_of_birth": {"1990-01-01"}, "date_of_treatment": {"2026-04-01"}, "doctor": {"D"}}
		h.post(mrPath, form, s.Access).expectError(http.StatusBadRequest, "This field is required.", "user_id")
	})
	// For staff, every non-empty user_id must name an existing user.
	for _, id := range []string{uuid.NewString(), "not-a-uuid", "00000000-0000-0000-0000-000000000000"} {
		t.Run("staff unknown user "+id, func(t *testing.T) {
			h := mrSub(h, t)
			before := mrCount(h, "")
			e := h.post(mrPath, mrBody(map[string]any{"user_id": id}), s.Access).
				expectError(http.StatusBadRequest, "User with the given ID does not exist", "user_id")
			if !slices.Equal(e.Errors["user_id"], []string{"User with the given ID does not exist"}) {
				t.Fatalf("errors.user_id = %q", e.Errors["user_id"])
			}
			if n := mrCount(h, ""); n != before {
				t.Fatalf("rejected create stored a record (%d → %d)", before, n)
			}
		})
	}
	t.Run("staff for a patient", func(t *testing.T) {
		h := mrSub(h, t)
		r := mrCreate(h, s.Access, map[string]any{"user_id": b.ID, "patient_name": "Bob Builder"})
		if r.UserID != b.ID {
			t.Fatalf("user_id %s, want patient %s", r.UserID, b.ID)
		}
		if got := mrMustStored(h, r.ID).UserID; got != b.ID {
			t.Fatalf("stored user_id %s, want %s", got, b.ID)
		}
		var seen model.MedicalRecord
		h.get(mrPath+"/"+r.ID, b.Access).expect(http.StatusOK).decode(&seen)
		mrSame(t, "patient's view", seen, r)
		if p := listPage[model.MedicalRecord](h, mrPath, b.Access); !slices.Equal(mrIDs(p.Results), []string{r.ID}) {
			t.Fatalf("patient's list %v, want [%s]", mrIDs(p.Results), r.ID)
		}
		h.get(mrPath+"/"+r.ID, a.Access).expectError(http.StatusNotFound, "")
	})
	t.Run("unauthenticated", func(t *testing.T) {
		h := mrSub(h, t)
		before := mrCount(h, "")
		h.post(mrPath, mrBody(nil), "").expect(http.StatusUnauthorized)
		h.post(mrPath, mrBody(nil), "garbage").expect(http.StatusUnauthorized)
		if n := mrCount(h, ""); n != before {
			t.Fatalf("unauthenticated create stored a record")
		}
	})
}

func TestRecordCreateIgnoresReadOnlyFields(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	sentID := uuid.NewString()
	lo := h.clock.Now()
	r := mrCreate(h, a.Access, map[string]any{
		"id": sentID, "created": "2001-01-01T00:00:00Z", "updated": "2002-02-02T00:00:00Z",
	})
	hi := h.clock.Now()
	if r.ID == sentID {
		t.Fatal("the id sent in the body was used")
	}
	mrWithin(t, "created", r.Created, lo, hi)
	mrWithin(t, "updated", r.Updated, lo, hi)
	if _, err := mrStored(h, sentID); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("a record with the id sent exists (err %v)", err)
	}
	mrSame(t, "database", mrMustStored(h, r.ID), r)

	// The same on update.
	h.clock.Advance(time.Second)
	lo = h.clock.Now()
	var u model.MedicalRecord
	h.patch(mrPath+"/"+r.ID, map[string]any{"id": sentID, "created": "2001-01-01T00:00:00Z", "updated": "2002-02-02T00:00:00Z", "doctor": "Dr. No"}, a.Access).
		expect(http.StatusOK).decode(&u)
	mrWithin(t, "updated", u.Updated, lo, h.clock.Now())
	if u.ID != r.ID || !u.Created.Equal(r.Created) || u.Doctor != "Dr. No" {
		t.Fatalf("patch with read-only fields: %+v", u)
	}
	mrSame(t, "database after patch", mrMustStored(h, r.ID), u)
}

func TestRecordCreateForm(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	form := url.Values{
		"patient_name": {"Form Patient"}, "date_of_birth": {"1970-01-02"}, "date_of_treatment": {"2026-04-01"},
		"doctor": {"Dr. Curl"}, "diagnosis": {"100% fine & well"},
	}
	var r model.MedicalRecord
	lo := h.clock.Now()
	h.post(mrPath, form, a.Access).expect(http.StatusCreated).decode(&r)
	mrWithin(t, "created", r.Created, lo, h.clock.Now())
	want := model.MedicalRecord{ID: r.ID, UserID: a.ID, PatientName: "Form Patient", DateOfBirth: model.NewDate(1970, 1, 2),
		Diagnosis: "100% fine & well", DateOfTreatment: model.NewDate(2026, 4, 1), Doctor: "Dr. Curl",
		Created: r.Created, Updated: r.Created}
	mrSame(t, "response", r, want)
	mrSame(t, "database", mrMustStored(h, r.ID), want)

	bad := url.Values{"patient_name": {"Form Patient"}, "date_of_birth": {"02/01/1970"}, "date_of_treatment": {"2026-03-10"}, "doctor": {"Dr. Curl"}}
	e := h.post(mrPath, bad, a.Access).expectError(http.StatusBadRequest, "", "date_of_birth", "date_of_treatment")
	if !slices.Equal(e.Errors["date_of_treatment"], []string{"Ensure treatment dates are in the future"}) {
		t.Fatalf("errors.date_of_treatment = %q", e.Errors["date_of_treatment"])
	}
	if n := mrCount(h, a.ID); n != 1 {
		t.Fatalf("%d records stored, want 1", n)
	}

	// PATCH takes a form too.
	var p model.MedicalRecord
	h.patch(mrPath+"/"+r.ID, url.Values{"treatment": {"Rest"}}, a.Access).expect(http.StatusOK).decode(&p)
	if p.Treatment != "Rest" || mrMustStored(h, r.ID).Treatment != "Rest" {
		t.Fatalf("form patch not applied: %+v", p)
	}
}

func TestRecordOwnership(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	b := h.signup("bob@example.org")
	s := h.staff("sam@example.org")
	rb := mrCreate(h, b.Access, map[string]any{"patient_name": "Bob's record"})
	path := mrPath + "/" + rb.ID

	full := mrBody(map[string]any{"patient_name": "Hijacked"})
	attempts := []struct {
		name string
		req  request
	}{
		{"GET", request{method: http.MethodGet, path: path}},
		{"PUT", request{method: http.MethodPut, path: path, body: full}},
		{"PATCH", request{method: http.MethodPatch, path: path, body: map[string]any{"diagnosis": "changed"}}},
		{"PATCH to self", request{method: http.MethodPatch, path: path, body: map[string]any{"user_id": a.ID}}},
		{"DELETE", request{method: http.MethodDelete, path: path}},
	}
	for _, at := range attempts {
		t.Run("other patient "+at.name, func(t *testing.T) {
			h := mrSub(h, t)
			at.req.token = a.Access
			h.clock.Advance(time.Second)
			h.send(at.req).expectError(http.StatusNotFound, "Not found.")
			mrSame(t, "record after the attempt", mrMustStored(h, rb.ID), rb)
		})
	}
	// The 404 is the same as for a record that does not exist.
	missing := h.get(mrPath+"/"+uuid.NewString(), a.Access).expectError(http.StatusNotFound, "")
	foreign := h.get(path, a.Access).expectError(http.StatusNotFound, "")
	if !reflect.DeepEqual(missing, foreign) {
		t.Fatalf("another's record answers %+v, a missing one %+v", foreign, missing)
	}
	if got := h.auditActions(rb.ID); !slices.Equal(got, []string{model.ActionRecordCreate}) {
		t.Fatalf("audit after refused attempts: %v", got)
	}

	t.Run("staff", func(t *testing.T) {
		h := mrSub(h, t)
		var r model.MedicalRecord
		h.get(path, s.Access).expect(http.StatusOK).decode(&r)
		mrSame(t, "staff GET", r, rb)
		h.clock.Advance(time.Second)
		h.put(path, mrBody(map[string]any{"patient_name": "Put by staff"}), s.Access).expect(http.StatusOK).decode(&r)
		if got := mrMustStored(h, rb.ID); got.PatientName != "Put by staff" || got.UserID != b.ID {
			t.Fatalf("after staff PUT: %+v", got)
		}
		h.patch(path, map[string]any{"doctor": "Dr. Staff"}, s.Access).expect(http.StatusOK).decode(&r)
		if got := mrMustStored(h, rb.ID); got.Doctor != "Dr. Staff" || got.PatientName != "Put by staff" {
			t.Fatalf("after staff PATCH: %+v", got)
		}
		h.delete(path, s.Access).expect(http.StatusNoContent)
		if _, err := mrStored(h, rb.ID); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("record still stored after staff DELETE (err %v)", err)
		}
	})

	t.Run("malformed ids", func(t *testing.T) {
		h := mrSub(h, t)
		ra := mrCreate(h, a.Access, nil)
		for _, id := range []string{"not-a-uuid", "123", ra.ID + "0", ra.ID[:35], "' OR 1=1 --", "%20", uuid.NewString()} {
			p := mrPath + "/" + url.PathEscape(id)
			for _, req := range []request{
				{method: http.MethodGet, path: p},
				{method: http.MethodPut, path: p, body: mrBody(nil)},
				{method: http.MethodPatch, path: p, body: map[string]any{"doctor": "x"}},
				{method: http.MethodDelete, path: p},
			} {
				req.token = s.Access
				h.send(req).expectError(http.StatusNotFound, "Not found.")
			}
		}
		mrSame(t, "unrelated record", mrMustStored(h, ra.ID), ra)
	})
}

func TestRecordPut(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	r := mrCreate(h, a.Access, nil)
	path := mrPath + "/" + r.ID

	for _, field := range []string{"patient_name", "date_of_birth", "date_of_treatment", "doctor"} {
		t.Run("missing "+field, func(t *testing.T) {
			h := mrSub(h, t)
			e := h.put(path, mrBody(map[string]any{field: mrOmit, "diagnosis": "new"}), a.Access).
				expectError(http.StatusBadRequest, model.MsgRequired, field)
			if !slices.Equal(e.Errors[field], []string{model.MsgRequired}) {
				t.Fatalf("errors.%s = %q", field, e.Errors[field])
			}
			mrSame(t, "record after rejected PUT", mrMustStored(h, r.ID), r)
		})
	}
	t.Run("empty body", func(t *testing.T) {
		h := mrSub(h, t)
		h.put(path, map[string]any{}, a.Access).
			expectError(http.StatusBadRequest, "", "patient_name", "date_of_birth", "date_of_treatment", "doctor")
		mrSame(t, "record after rejected PUT", mrMustStored(h, r.ID), r)
	})
	t.Run("full replacement", func(t *testing.T) {
		h := mrSub(h, t)
		h.clock.Advance(time.Minute)
		body := map[string]any{"patient_name": "Grace", "date_of_birth": "1906-12-09", "date_of_treatment": "2026-05-01",
			"doctor": "Dr. Knuth", "diagnosis": "Bug", "treatment": "Patch"}
		var u model.MedicalRecord
		lo := h.clock.Now()
		h.put(path, body, a.Access).expect(http.StatusOK).decode(&u)
		mrWithin(t, "updated", u.Updated, lo, h.clock.Now())
		want := model.MedicalRecord{ID: r.ID, UserID: a.ID, PatientName: "Grace", DateOfBirth: model.NewDate(1906, 12, 9),
			DateOfTreatment: model.NewDate(2026, 5, 1), Doctor: "Dr. Knuth", Diagnosis: "Bug", Treatment: "Patch",
			Created: r.Created, Updated: u.Updated}
		mrSame(t, "response", u, want)
		mrSame(t, "database", mrMustStored(h, r.ID), want)
	})
	t.Run("omitted optional texts are cleared", func(t *testing.T) {
		h := mrSub(h, t)
		var u model.MedicalRecord
		h.put(path, mrBody(map[string]any{"diagnosis": mrOmit, "treatment": mrOmit}), a.Access).expect(http.StatusOK).decode(&u)
		if got := mrMustStored(h, r.ID); got.Diagnosis != "" || got.Treatment != "" || u.Diagnosis != "" {
			t.Fatalf("PUT without diagnosis/treatment kept them: %+v", got)
		}
	})
	t.Run("future-date rule", func(t *testing.T) {
		h := mrSub(h, t)
		before := mrMustStored(h, r.ID)
		h.put(path, mrBody(map[string]any{"date_of_treatment": "2026-03-10"}), a.Access).
			expectError(http.StatusBadRequest, "Ensure treatment dates are in the future", "date_of_treatment")
		mrSame(t, "record after rejected PUT", mrMustStored(h, r.ID), before)
	})
}

func TestRecordPatch(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	r := mrCreate(h, a.Access, nil)
	path := mrPath + "/" + r.ID

	steps := []struct {
		body  map[string]any
		apply func(*model.MedicalRecord)
	}{
		{map[string]any{"diagnosis": "Hay fever"}, func(m *model.MedicalRecord) { m.Diagnosis = "Hay fever" }},
		{map[string]any{"treatment": ""}, func(m *model.MedicalRecord) { m.Treatment = "" }},
		{map[string]any{"patient_name": "Ada King", "doctor": "Dr. Babbage"}, func(m *model.MedicalRecord) {
			m.PatientName, m.Doctor = "Ada King", "Dr. Babbage"
		}},
		{map[string]any{"date_of_birth": "1815-12-10"}, func(m *model.MedicalRecord) { m.DateOfBirth = model.NewDate(1815, 12, 10) }},
		{map[string]any{"date_of_treatment": "2026-03-11"}, func(m *model.MedicalRecord) { m.DateOfTreatment = model.NewDate(2026, 3, 11) }},
		{map[string]any{}, func(*model.MedicalRecord) {}},
	}
	want := r
	for i, st := range steps {
		h.clock.Advance(time.Second)
		var got model.MedicalRecord
		lo := h.clock.Now()
		h.patch(path, st.body, a.Access).expect(http.StatusOK).decode(&got)
		mrWithin(t, "updated", got.Updated, lo, h.clock.Now())
		st.apply(&want)
		want.Updated = got.Updated
		mrSame(t, "response to patch "+string(rune('0'+i)), got, want)
		mrSame(t, "database after patch "+string(rune('0'+i)), mrMustStored(h, r.ID), want)
	}
	if !want.Created.Equal(r.Created) || want.Updated.Equal(r.Created) {
		t.Fatal("created must stay, updated must move")
	}

	rejected := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"blank patient_name", map[string]any{"patient_name": " "}, "patient_name"},
		{"null doctor", map[string]any{"doctor": nil}, "doctor"},
		{"long diagnosis", map[string]any{"diagnosis": strings.Repeat("x", 10001)}, "diagnosis"},
		{"future birth", map[string]any{"date_of_birth": "2026-03-11"}, "date_of_birth"},
		{"bad date", map[string]any{"date_of_birth": "11-03-2020"}, "date_of_birth"},
		{"past treatment", map[string]any{"date_of_treatment": "2026-03-01"}, "date_of_treatment"},
	}
	for _, tc := range rejected {
		t.Run(tc.name, func(t *testing.T) {
			h := mrSub(h, t)
			h.clock.Advance(time.Second)
			h.patch(path, tc.body, a.Access).expectError(http.StatusBadRequest, "", tc.field)
			mrSame(t, "record after rejected PATCH", mrMustStored(h, r.ID), want)
		})
	}
}

func TestRecordPatchAfterTreatmentDate(t *testing.T) {
	h := newHarness(t)
	h.signup("ann@example.org")
	a := h.login("ann@example.org", testPassword)
	r := mrCreate(h, a.Access, map[string]any{"date_of_treatment": "2026-03-12"})
	path := mrPath + "/" + r.ID

	// Five days on, the treatment date has passed ("today" is 2026-03-15).
	h.clock.Advance(5 * 24 * time.Hour)
	a = h.login("ann@example.org", testPassword)

	var got model.MedicalRecord
	h.patch(path, map[string]any{"diagnosis": "Follow-up notes"}, a.Access).expect(http.StatusOK).decode(&got)
	if got.Diagnosis != "Follow-up notes" || got.DateOfTreatment != model.NewDate(2026, 3, 12) {
		t.Fatalf("patch of a past record: %+v", got)
	}
	if s := mrMustStored(h, r.ID); s.Diagnosis != "Follow-up notes" {
		t.Fatalf("stored diagnosis %q", s.Diagnosis)
	}
	// Sending the unchanged date is not a change.
	h.patch(path, map[string]any{"date_of_treatment": "2026-03-12", "doctor": "Dr. Same"}, a.Access).expect(http.StatusOK)
	h.put(path, mrBody(map[string]any{"date_of_treatment": "2026-03-12", "diagnosis": "Put keeps the date"}), a.Access).expect(http.StatusOK)
	before := mrMustStored(h, r.ID)
	if before.Diagnosis != "Put keeps the date" {
		t.Fatalf("PUT with the unchanged past date not applied: %+v", before)
	}

	for _, d := range []string{"2026-03-13", "2026-03-15", "2026-03-11"} {
		e := h.patch(path, map[string]any{"date_of_treatment": d}, a.Access).
			expectError(http.StatusBadRequest, "Ensure treatment dates are in the future", "date_of_treatment")
		if !slices.Equal(e.Errors["date_of_treatment"], []string{"Ensure treatment dates are in the future"}) {
			t.Fatalf("errors.date_of_treatment = %q", e.Errors["date_of_treatment"])
		}
		mrSame(t, "record after rejected date "+d, mrMustStored(h, r.ID), before)
	}
	h.patch(path, map[string]any{"date_of_treatment": "2026-03-16"}, a.Access).expect(http.StatusOK)
	if s := mrMustStored(h, r.ID); s.DateOfTreatment != model.NewDate(2026, 3, 16) {
		t.Fatalf("stored date %v, want 2026-03-16", s.DateOfTreatment)
	}
}

func TestRecordOwnerChange(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	b := h.signup("bob@example.org")
	s := h.staff("sam@example.org")
	r := mrCreate(h, a.Access, nil)
	path := mrPath + "/" + r.ID

	h.patch(path, map[string]any{"user_id": b.ID}, a.Access).expectError(http.StatusForbidden, "")
	h.patch(path, map[string]any{"user_id": b.ID, "diagnosis": "sneaky"}, a.Access).expectError(http.StatusForbidden, "")
	h.put(path, mrBody(map[string]any{"user_id": b.ID}), a.Access).expectError(http.StatusForbidden, "")
	mrSame(t, "record after refused owner changes", mrMustStored(h, r.ID), r)

	// Naming oneself is not a change.
	h.clock.Advance(time.Second)
	h.patch(path, map[string]any{"user_id": a.ID, "doctor": "Dr. Self"}, a.Access).expect(http.StatusOK)
	if got := mrMustStored(h, r.ID); got.UserID != a.ID || got.Doctor != "Dr. Self" {
		t.Fatalf("after self patch: %+v", got)
	}

	// Staff: the user must exist.
	before := mrMustStored(h, r.ID)
	h.patch(path, map[string]any{"user_id": uuid.NewString()}, s.Access).
		expectError(http.StatusBadRequest, "User with the given ID does not exist", "user_id")
	mrSame(t, "record after unknown owner", mrMustStored(h, r.ID), before)

	// Staff may move it; then it is B's.
	var moved model.MedicalRecord
	h.patch(path, map[string]any{"user_id": b.ID}, s.Access).expect(http.StatusOK).decode(&moved)
	if moved.UserID != b.ID || mrMustStored(h, r.ID).UserID != b.ID {
		t.Fatalf("staff move: %+v", moved)
	}
	h.get(path, a.Access).expectError(http.StatusNotFound, "Not found.")
	h.get(path, b.Access).expect(http.StatusOK)
}

func TestRecordDelete(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	r := mrCreate(h, a.Access, nil)
	keep := mrCreate(h, a.Access, map[string]any{"patient_name": "Keep"})
	path := mrPath + "/" + r.ID

	res := h.delete(path, a.Access).expect(http.StatusNoContent)
	if len(res.Body) != 0 {
		t.Fatalf("204 with a body: %q", res.Body)
	}
	if _, err := mrStored(h, r.ID); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("deleted record still stored (err %v)", err)
	}
	h.get(path, a.Access).expectError(http.StatusNotFound, "Not found.")
	h.delete(path, a.Access).expectError(http.StatusNotFound, "Not found.")
	h.patch(path, map[string]any{"doctor": "x"}, a.Access).expectError(http.StatusNotFound, "Not found.")
	mrSame(t, "other record", mrMustStored(h, keep.ID), keep)
	if p := listPage[model.MedicalRecord](h, mrPath, a.Access); p.Count != 1 || !slices.Equal(mrIDs(p.Results), []string{keep.ID}) {
		t.Fatalf("list after delete: count %d, %v", p.Count, mrIDs(p.Results))
	}
}

func TestRecordAudit(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	s := h.staff("sam@example.org")

	step := func() { h.clock.Advance(time.Second) }
	r := mrCreate(h, a.Access, nil)
	path := mrPath + "/" + r.ID
	step()
	h.get(path, a.Access).expect(http.StatusOK)
	step()
	listPage[model.MedicalRecord](h, mrPath, a.Access) // one event naming the records served
	step()
	h.patch(path, map[string]any{"doctor": ""}, a.Access).expect(http.StatusBadRequest) // no change, no event
	step()
	h.patch(path, map[string]any{"doctor": "Dr. Audit"}, a.Access).expect(http.StatusOK)
	step()
	h.get(path, s.Access).expect(http.StatusOK)
	step()
	h.put(path, mrBody(nil), s.Access).expect(http.StatusOK)
	step()
	h.delete(path, a.Access).expect(http.StatusNoContent)

	want := []struct{ action, actor string }{
		{model.ActionRecordCreate, a.ID},
		{model.ActionRecordRead, a.ID},
		{model.ActionRecordList, a.ID},
		{model.ActionRecordUpdate, a.ID},
		{model.ActionRecordRead, s.ID},
		{model.ActionRecordUpdate, s.ID},
		{model.ActionRecordDelete, a.ID},
	}
	wantActions := make([]string, len(want))
	for i, w := range want {
		wantActions[i] = w.action
	}
	if got := h.auditActions(r.ID); !slices.Equal(got, wantActions) {
		t.Fatalf("audit actions %v, want %v", got, wantActions)
	}
	events, _, err := h.store.Read().ListAudit(context.Background(), db.AuditFilter{EntityID: r.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(events)
	start := time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)
	for i, e := range events {
		w := want[i]
		if e.ActorID == nil || *e.ActorID != w.actor {
			t.Errorf("event %d (%s) actor %v, want %s", i, e.Action, e.ActorID, w.actor)
		}
		switch {
		case e.Action == model.ActionRecordList:
			// A list is about no one record; it names those it served.
			if e.Entity != model.EntityRecord || e.EntityID != nil || !slices.Equal(e.RecordIDs, []string{r.ID}) || len(e.Detail) == 0 {
				t.Errorf("event %d: entity %s/%v, records %v, detail %s", i, e.Entity, e.EntityID, e.RecordIDs, e.Detail)
			}
		case e.Entity != model.EntityRecord || e.EntityID == nil || *e.EntityID != r.ID:
			t.Errorf("event %d entity %s/%v", i, e.Entity, e.EntityID)
		}
		if e.IP == "" {
			t.Errorf("event %d has no ip", i)
		}
		if !model.ValidUUID(e.ID) {
			t.Errorf("event %d id %q", i, e.ID)
		}
		if e.At.Before(start) || e.At.After(h.clock.Now()) {
			t.Errorf("event %d at %v, outside the test's clock", i, e.At)
		}
	}
}

// mrSeed creates n records for token, advancing the clock a second before
// each so created times differ.
func mrSeed(h *harness, token string, n int, over func(i int) map[string]any) []model.MedicalRecord {
	h.t.Helper()
	out := make([]model.MedicalRecord, n)
	for i := range n {
		h.clock.Advance(time.Second)
		var o map[string]any
		if over != nil {
			o = over(i)
		}
		out[i] = mrCreate(h, token, o)
	}
	return out
}

func TestRecordListPagination(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	created := mrSeed(h, a.Access, 45, func(i int) map[string]any {
		return map[string]any{"patient_name": "Patient " + string(rune('A'+i%26)) + string(rune('a'+i/26))}
	})

	checkLink := func(t *testing.T, link *string, wantPage string, wantNil bool) {
		t.Helper()
		if wantNil {
			if link != nil {
				t.Fatalf("link %q, want null", *link)
			}
			return
		}
		if link == nil {
			t.Fatalf("link is null, want page %s", wantPage)
		}
		u, err := url.Parse(*link)
		if err != nil || !u.IsAbs() || u.Host == "" {
			t.Fatalf("link %q is not an absolute URL", *link)
		}
		if u.Path != mrPath && u.Path != mrPath+"/" {
			t.Fatalf("link %q has path %q", *link, u.Path)
		}
		if q := u.Query(); q.Get("page") != wantPage || q.Get("page_size") != "20" {
			t.Fatalf("link %q: page %q page_size %q, want %s and 20", *link, q.Get("page"), q.Get("page_size"), wantPage)
		}
	}

	var all []string
	pages := []struct {
		page           string
		results        int
		next, prev     string
		noNext, noPrev bool
	}{
		{"1", 20, "2", "", false, true},
		{"2", 20, "3", "1", false, false},
		{"3", 5, "", "2", true, false},
	}
	for _, pg := range pages {
		t.Run("page "+pg.page, func(t *testing.T) {
			h := mrSub(h, t)
			p := listPage[model.MedicalRecord](h, mrPath+"?page_size=20&page="+pg.page, a.Access)
			if p.Count != 45 || p.NumberOfPages != 3 || len(p.Results) != pg.results {
				t.Fatalf("count %d pages %d results %d, want 45, 3, %d", p.Count, p.NumberOfPages, len(p.Results), pg.results)
			}
			checkLink(t, p.Next, pg.next, pg.noNext)
			checkLink(t, p.Previous, pg.prev, pg.noPrev)
			all = append(all, mrIDs(p.Results)...)
		})
	}
	// Newest first by default, every record exactly once.
	want := mrIDs(created)
	slices.Reverse(want)
	if !slices.Equal(all, want) {
		t.Fatalf("the three pages hold\n%v\nwant (newest first)\n%v", all, want)
	}

	// Following next links walks the same pages.
	var walked []string
	link := mrPath + "?page_size=20"
	for n := 0; link != ""; n++ {
		if n > 5 {
			t.Fatal("next links do not end")
		}
		p := listPage[model.MedicalRecord](h, link, a.Access)
		walked = append(walked, mrIDs(p.Results)...)
		link = ""
		if p.Next != nil {
			u, _ := url.Parse(*p.Next)
			link = u.RequestURI()
		}
	}
	if !slices.Equal(walked, want) {
		t.Fatalf("following next links gave %d records", len(walked))
	}

	// Other parameters survive in the links.
	p := listPage[model.MedicalRecord](h, mrPath+"?page_size=20&ordering=patient_name&search=patient", a.Access)
	if p.Next == nil || !strings.Contains(*p.Next, "ordering=patient_name") || !strings.Contains(*p.Next, "search=patient") {
		t.Fatalf("next link %v lost the query", p.Next)
	}

	// Past the end.
	res := h.get(mrPath+"?page_size=20&page=4", a.Access)
	res.expectError(http.StatusNotFound, "Invalid page.")
	if body := strings.TrimSpace(string(res.Body)); body != `{"message":"Invalid page."}` {
		t.Fatalf("page past the end: body %s, want {\"message\":\"Invalid page.\"}", body)
	}
	h.get(mrPath+"?page=99", a.Access).expectError(http.StatusNotFound, "Invalid page.")

	// Defaults and bounds of page_size.
	if p := listPage[model.MedicalRecord](h, mrPath, a.Access); len(p.Results) != 20 || p.NumberOfPages != 3 {
		t.Fatalf("default page size: %d results, %d pages", len(p.Results), p.NumberOfPages)
	}
	if p := listPage[model.MedicalRecord](h, mrPath+"?page_size=100", a.Access); len(p.Results) != 45 || p.NumberOfPages != 1 || p.Next != nil || p.Previous != nil {
		t.Fatalf("page_size=100: %d results, %d pages", len(p.Results), p.NumberOfPages)
	}
	if p := listPage[model.MedicalRecord](h, mrPath+"?page_size=1&page=45", a.Access); len(p.Results) != 1 || p.NumberOfPages != 45 || p.Results[0].ID != created[0].ID {
		t.Fatalf("page_size=1 page 45: %+v", p)
	}
}

func TestRecordListEmpty(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	res := h.get(mrPath, a.Access).expect(http.StatusOK)
	var raw map[string]any
	res.decode(&raw)
	if raw["count"] != float64(0) || raw["next"] != nil || raw["previous"] != nil {
		t.Fatalf("empty page: %s", res.Body)
	}
	if results, ok := raw["results"].([]any); !ok || len(results) != 0 {
		t.Fatalf("results must be [], got %s", res.Body)
	}
	for _, k := range []string{"count", "number_of_pages", "next", "previous", "results"} {
		if _, ok := raw[k]; !ok {
			t.Fatalf("page lacks %q: %s", k, res.Body)
		}
	}
	h.get(mrPath+"?page=1", a.Access).expect(http.StatusOK)
	h.get(mrPath+"?page=2", a.Access).expectError(http.StatusNotFound, "Invalid page.")
	// A filter that matches nothing is an empty page too.
	mrCreate(h, a.Access, nil)
	if p := listPage[model.MedicalRecord](h, mrPath+"?search=nothing-matches", a.Access); p.Count != 0 || p.Results == nil || len(p.Results) != 0 {
		t.Fatalf("no matches: %+v", p)
	}
}

func TestRecordListInvalidParameters(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	mrCreate(h, a.Access, nil)
	cases := []struct {
		query  string
		fields []string
	}{
		{"page_size=0", []string{"page_size"}},
		{"page_size=101", []string{"page_size"}},
		{"page_size=abc", []string{"page_size"}},
		{"page_size=-5", []string{"page_size"}},
		{"page_size=2.5", []string{"page_size"}},
		{"page=0", []string{"page"}},
		{"page=abc", []string{"page"}},
		{"page=-1", []string{"page"}},
		{"page=0&page_size=0", []string{"page", "page_size"}},
		{"ordering=foo", []string{"ordering"}},
		{"ordering=--created", []string{"ordering"}},
		{"ordering=id", []string{"ordering"}},
		{"ordering=created,doctor", []string{"ordering"}},
		{"ordering=-", []string{"ordering"}},
		{"date_of_treatment_after=2026-13-01", []string{"date_of_treatment_after"}},
		{"date_of_treatment_after=tomorrow", []string{"date_of_treatment_after"}},
		{"date_of_treatment_before=10%2F03%2F2026", []string{"date_of_treatment_before"}},
		{"date_of_treatment_before=2026-3-1", []string{"date_of_treatment_before"}},
		{"date_of_treatment_after=x&date_of_treatment_before=y", []string{"date_of_treatment_after", "date_of_treatment_before"}},
		{"user_id=not-a-uuid", []string{"user_id"}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			h := mrSub(h, t)
			e := h.get(mrPath+"?"+tc.query, a.Access).expectError(http.StatusBadRequest, "", tc.fields...)
			if len(tc.fields) == 1 && e.Message != e.Errors[tc.fields[0]][0] {
				t.Fatalf("message %q is not the field error %q", e.Message, e.Errors[tc.fields[0]])
			}
		})
	}
	for q, want := range map[string]string{
		"date_of_treatment_after=2026-02-30": "This date does not exist. February 2026 has 28 days.",
		"date_of_treatment_before=2026-3-1":  model.MsgDateFormat,
	} {
		field, _, _ := strings.Cut(q, "=")
		h.get(mrPath+"?"+q, a.Access).expectError(http.StatusBadRequest, want, field)
	}
	for _, ok := range []string{"page_size=1", "page_size=100", "page=1", "ordering=-patient_name", "date_of_treatment_after=2026-03-10"} {
		t.Run("valid "+ok, func(t *testing.T) {
			h := mrSub(h, t)
			h.get(mrPath+"?"+ok, a.Access).expect(http.StatusOK)
		})
	}
}

func TestRecordListSearchAndFilters(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	seed := []map[string]any{
		{"patient_name": "Ada Lovelace", "doctor": "Dr. Grace Hopper", "diagnosis": "Seasonal rhinitis", "treatment": "secretword", "date_of_treatment": "2026-03-11"},
		{"patient_name": "Alan Turing", "doctor": "Dr. John Watson", "diagnosis": "100% recovered", "treatment": "", "date_of_treatment": "2026-03-15"},
		{"patient_name": "Marie_Curie", "doctor": "dr. grace hopper", "diagnosis": "Radiation burn", "treatment": "", "date_of_treatment": "2026-03-20"},
		{"patient_name": "Rosalind Franklin", "doctor": "Dr. House", "diagnosis": "", "treatment": "", "date_of_treatment": "2026-04-01"},
		{"patient_name": "Edsger Dijkstra", "doctor": "Dr. Grace Hopperton", "diagnosis": "Considered harmful", "treatment": "", "date_of_treatment": "2026-04-02"},
	}
	rs := mrSeed(h, a.Access, len(seed), func(i int) map[string]any { return seed[i] })
	byName := map[string]string{}
	for _, r := range rs {
		byName[r.PatientName] = r.ID
	}

	cases := []struct {
		query string
		want  []string // patient names, any order
	}{
		{"search=ada", []string{"Ada Lovelace"}},
		{"search=LOVELACE", []string{"Ada Lovelace"}},
		{"search=hopper", []string{"Ada Lovelace", "Marie_Curie", "Edsger Dijkstra"}},
		{"search=WATSON", []string{"Alan Turing"}},
		{"search=rhinit", []string{"Ada Lovelace"}},
		{"search=HARMFUL", []string{"Edsger Dijkstra"}},
		// Each word of the search must start a word (issue 14): "an"
		// is inside "Alan" and "Franklin" but starts no word.
		{"search=an", nil},
		{"search=al", []string{"Alan Turing"}},
		{"search=grace+hop", []string{"Ada Lovelace", "Marie_Curie", "Edsger Dijkstra"}},
		{"search=hopper+ADA", []string{"Ada Lovelace"}},
		{"search=lovelace+turing", nil},
		// Punctuation separates words: % and _ match nothing by themselves.
		{"search=%25", nil},
		{"search=100%25", []string{"Alan Turing"}},
		{"search=_", nil},
		{"search=curie", []string{"Marie_Curie"}},
		{"search=e_c", []string{"Edsger Dijkstra"}},
		{"search=a%25e", nil},
		{"search=secretword", nil}, // treatment is not searched
		{"search=zzz", nil},
		{"search=+ada+", []string{"Ada Lovelace"}},
		{"doctor=Dr.+Grace+Hopper", []string{"Ada Lovelace", "Marie_Curie"}},
		{"doctor=DR.+GRACE+HOPPER", []string{"Ada Lovelace", "Marie_Curie"}},
		{"doctor=Dr.+House", []string{"Rosalind Franklin"}},
		{"doctor=Dr.+Nobody", nil},
		{"date_of_treatment_after=2026-03-15", []string{"Alan Turing", "Marie_Curie", "Rosalind Franklin", "Edsger Dijkstra"}},
		{"date_of_treatment_before=2026-03-20", []string{"Ada Lovelace", "Alan Turing", "Marie_Curie"}},
		{"date_of_treatment_after=2026-03-15&date_of_treatment_before=2026-04-01", []string{"Alan Turing", "Marie_Curie", "Rosalind Franklin"}},
		{"date_of_treatment_after=2026-03-20&date_of_treatment_before=2026-03-20", []string{"Marie_Curie"}},
		{"date_of_treatment_after=2026-04-02&date_of_treatment_before=2026-03-11", nil},
		{"date_of_treatment_after=2026-04-03", nil},
		{"search=hopper&date_of_treatment_after=2026-03-12", []string{"Marie_Curie", "Edsger Dijkstra"}},
		{"search=hopper&doctor=dr.+grace+hopper&date_of_treatment_before=2026-03-19", []string{"Ada Lovelace"}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			h := mrSub(h, t)
			p := listPage[model.MedicalRecord](h, mrPath+"?"+tc.query, a.Access)
			got := mrNames(p.Results)
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) || p.Count != len(want) {
				t.Fatalf("got %v (count %d), want %v", got, p.Count, want)
			}
			for _, r := range p.Results {
				if r.ID != byName[r.PatientName] {
					t.Fatalf("result %s has id %s", r.PatientName, r.ID)
				}
			}
		})
	}
}

// The contract asks for a case-insensitive search; patient names are not
// all ASCII.
func TestRecordListSearchNonASCIICase(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	r := mrCreate(h, a.Access, map[string]any{"patient_name": "Élodie Müller"})
	mrCreate(h, a.Access, map[string]any{"patient_name": "Someone Else"})
	for _, q := range []string{"Élodie", "élodie", "MÜLLER", "müller"} {
		p := listPage[model.MedicalRecord](h, mrPath+"?search="+url.QueryEscape(q), a.Access)
		if !slices.Equal(mrIDs(p.Results), []string{r.ID}) {
			t.Errorf("search %q found %v, want only %q", q, mrNames(p.Results), r.PatientName)
		}
	}
}

func TestRecordListOrdering(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	// Created in this order, with distinct dates and names in other orders.
	seed := []struct{ name, date string }{
		{"Carol", "2026-05-01"},
		{"Alice", "2026-07-01"},
		{"Dave", "2026-04-01"},
		{"Bob", "2026-06-01"},
	}
	rs := mrSeed(h, a.Access, len(seed), func(i int) map[string]any {
		return map[string]any{"patient_name": seed[i].name, "date_of_treatment": seed[i].date}
	})
	// Touch them so updated order is Bob, Carol, Dave, Alice (oldest first).
	for _, i := range []int{3, 0, 2, 1} {
		h.clock.Advance(time.Second)
		h.patch(mrPath+"/"+rs[i].ID, map[string]any{"treatment": "touched"}, a.Access).expect(http.StatusOK)
	}

	cases := []struct {
		ordering string
		want     []string
	}{
		{"", []string{"Bob", "Dave", "Alice", "Carol"}}, // default -created
		{"created", []string{"Carol", "Alice", "Dave", "Bob"}},
		{"-created", []string{"Bob", "Dave", "Alice", "Carol"}},
		{"updated", []string{"Bob", "Carol", "Dave", "Alice"}},
		{"-updated", []string{"Alice", "Dave", "Carol", "Bob"}},
		{"date_of_treatment", []string{"Dave", "Carol", "Bob", "Alice"}},
		{"-date_of_treatment", []string{"Alice", "Bob", "Carol", "Dave"}},
		{"patient_name", []string{"Alice", "Bob", "Carol", "Dave"}},
		{"-patient_name", []string{"Dave", "Carol", "Bob", "Alice"}},
	}
	for _, tc := range cases {
		t.Run("ordering="+tc.ordering, func(t *testing.T) {
			h := mrSub(h, t)
			path := mrPath
			if tc.ordering != "" {
				path += "?ordering=" + tc.ordering
			}
			if got := mrNames(listPage[model.MedicalRecord](h, path, a.Access).Results); !slices.Equal(got, tc.want) {
				t.Fatalf("order %v, want %v", got, tc.want)
			}
			// The order holds across pages.
			sep := "?"
			if tc.ordering != "" {
				sep = "&"
			}
			var paged []string
			for page := 1; page <= 2; page++ {
				p := listPage[model.MedicalRecord](h, path+sep+"page_size=2&page="+string(rune('0'+page)), a.Access)
				paged = append(paged, mrNames(p.Results)...)
			}
			if !slices.Equal(paged, tc.want) {
				t.Fatalf("paged order %v, want %v", paged, tc.want)
			}
		})
	}
	h.get(mrPath+"?ordering=doctor", a.Access).expectError(http.StatusBadRequest, "", "ordering")
}

func TestRecordListVisibility(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	b := h.signup("bob@example.org")
	s := h.staff("sam@example.org")
	ra := mrSeed(h, a.Access, 2, nil)
	rb := mrSeed(h, b.Access, 3, nil)
	rs := mrCreate(h, s.Access, map[string]any{"user_id": b.ID}) // staff-made, B's

	onlyOwn := func(t *testing.T, p model.Page[model.MedicalRecord], owner string, want []model.MedicalRecord) {
		t.Helper()
		for _, r := range p.Results {
			if r.UserID != owner {
				t.Fatalf("list shows record %s of user %s", r.ID, r.UserID)
			}
		}
		got, w := mrIDs(p.Results), mrIDs(want)
		slices.Sort(got)
		slices.Sort(w)
		if !slices.Equal(got, w) || p.Count != len(w) {
			t.Fatalf("list %v (count %d), want %v", got, p.Count, w)
		}
	}

	t.Run("patient", func(t *testing.T) {
		h := mrSub(h, t)
		onlyOwn(t, listPage[model.MedicalRecord](h, mrPath, a.Access), a.ID, ra)
		onlyOwn(t, listPage[model.MedicalRecord](h, mrPath, b.Access), b.ID, append(slices.Clone(rb), rs))
		onlyOwn(t, listPage[model.MedicalRecord](h, mrPath+"?user_id="+a.ID, a.Access), a.ID, ra)
	})
	t.Run("patient asking for another's", func(t *testing.T) {
		h := mrSub(h, t)
		for _, q := range []string{"?user_id=" + b.ID, "?user_id=" + s.ID, "?user_id=" + b.ID + "&page_size=100"} {
			p := listPage[model.MedicalRecord](h, mrPath+q, a.Access)
			for _, r := range p.Results {
				if r.UserID != a.ID {
					t.Fatalf("%s: patient A sees record %s of %s", q, r.ID, r.UserID)
				}
			}
			if p.Count > len(ra) {
				t.Fatalf("%s: count %d reveals others' records", q, p.Count)
			}
		}
	})
	t.Run("staff", func(t *testing.T) {
		h := mrSub(h, t)
		p := listPage[model.MedicalRecord](h, mrPath, s.Access)
		if p.Count != 6 {
			t.Fatalf("staff count %d, want 6", p.Count)
		}
		onlyOwn(t, listPage[model.MedicalRecord](h, mrPath+"?user_id="+a.ID, s.Access), a.ID, ra)
		onlyOwn(t, listPage[model.MedicalRecord](h, mrPath+"?user_id="+b.ID, s.Access), b.ID, append(slices.Clone(rb), rs))
		onlyOwn(t, listPage[model.MedicalRecord](h, mrPath+"?user_id="+uuid.NewString(), s.Access), "", nil)
		onlyOwn(t, listPage[model.MedicalRecord](h, mrPath+"?user_id="+s.ID, s.Access), s.ID, nil)
	})
	t.Run("unauthenticated", func(t *testing.T) {
		h := mrSub(h, t)
		h.get(mrPath, "").expectError(http.StatusUnauthorized, "")
	})
}

func TestRecordTrailingSlash(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	var r model.MedicalRecord
	h.post(mrPath+"/", mrBody(nil), a.Access).expect(http.StatusCreated).decode(&r)
	if mrMustStored(h, r.ID).UserID != a.ID {
		t.Fatal("record created through the trailing slash not stored")
	}
	mrSeed(h, a.Access, 2, nil)

	with := listPage[model.MedicalRecord](h, mrPath+"/?page_size=2&ordering=patient_name", a.Access)
	without := listPage[model.MedicalRecord](h, mrPath+"?page_size=2&ordering=patient_name", a.Access)
	if with.Count != 3 || !slices.Equal(mrIDs(with.Results), mrIDs(without.Results)) || with.NumberOfPages != without.NumberOfPages {
		t.Fatalf("with slash %+v, without %+v", with, without)
	}
	if with.Next == nil || !strings.Contains(*with.Next, "page=2") {
		t.Fatalf("next link %v", with.Next)
	}
	h.get(mrPath+"/?page_size=0", a.Access).expectError(http.StatusBadRequest, "", "page_size")

	var got model.MedicalRecord
	h.get(mrPath+"/"+r.ID+"/", a.Access).expect(http.StatusOK).decode(&got)
	mrSame(t, "GET with trailing slash", got, r)
	h.patch(mrPath+"/"+r.ID+"/", map[string]any{"doctor": "Dr. Slash"}, a.Access).expect(http.StatusOK)
	if mrMustStored(h, r.ID).Doctor != "Dr. Slash" {
		t.Fatal("PATCH with trailing slash not applied")
	}
	h.delete(mrPath+"/"+r.ID+"/", a.Access).expect(http.StatusNoContent)
	if _, err := mrStored(h, r.ID); !errors.Is(err, db.ErrNotFound) {
		t.Fatal("DELETE with trailing slash did not delete")
	}
}
