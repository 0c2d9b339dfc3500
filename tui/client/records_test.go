package client_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// storedRecord reads a record straight from the database.
func (e *env) storedRecord(id string) model.MedicalRecord {
	e.t.Helper()
	r, err := e.store.Read().RecordByID(context.Background(), id)
	if err != nil {
		e.t.Fatalf("record %s: %v", id, err)
	}
	return r
}

func TestRecordsCRUD(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin, _ := e.staff("admin@example.org")
	c, pat := e.patient("pat@example.org")
	other, otherUser := e.patient("other@example.org")

	in := client.RecordInput{
		PatientName: "Pat Ient", DateOfBirth: date(t, "1980-02-29"), Diagnosis: "Sprained ankle",
		Treatment: "Rest", DateOfTreatment: date(t, "2026-04-01"), Doctor: "Dr Grey",
	}
	rec, err := c.CreateRecord(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if rec.ID == "" || rec.UserID != pat.ID || rec.PatientName != "Pat Ient" || rec.DateOfBirth != in.DateOfBirth ||
		rec.Diagnosis != "Sprained ankle" || rec.Treatment != "Rest" || rec.DateOfTreatment != in.DateOfTreatment ||
		rec.Doctor != "Dr Grey" || rec.Created.IsZero() || !rec.Updated.Equal(rec.Created) {
		t.Fatalf("created %+v", rec)
	}
	if stored := e.storedRecord(rec.ID); stored != rec {
		t.Fatalf("stored %+v, returned %+v", stored, rec)
	}

	// Validation errors name their fields.
	bad := in
	bad.DateOfTreatment = date(t, "2026-03-10") // today on the server clock
	_, err = c.CreateRecord(ctx, bad)
	if ae := apiError(t, err, http.StatusBadRequest); ae.Field("date_of_treatment") != model.MsgTreatmentFuture || ae.Message != model.MsgTreatmentFuture {
		t.Fatalf("treatment today: %+v", ae)
	}
	bad = in
	bad.DateOfBirth = model.Date{}
	bad.PatientName = ""
	_, err = c.CreateRecord(ctx, bad)
	if ae := apiError(t, err, http.StatusBadRequest); ae.Field("date_of_birth") != model.MsgRequired || ae.Field("patient_name") != model.MsgBlank {
		t.Fatalf("missing fields: %+v", ae.Fields)
	}
	bad = in
	bad.UserID = otherUser.ID
	_, err = c.CreateRecord(ctx, bad)
	apiError(t, err, http.StatusForbidden)
	bad.UserID = "00000000-0000-4000-8000-000000000000"
	_, err = admin.CreateRecord(ctx, bad)
	if ae := apiError(t, err, http.StatusBadRequest); ae.Field("user_id") != model.MsgUnknownUser {
		t.Fatalf("unknown user: %+v", ae)
	}

	// Staff create on a patient's behalf.
	forOther := in
	forOther.UserID = otherUser.ID
	forOther.PatientName = "Other Person"
	rec2, err := admin.CreateRecord(ctx, forOther)
	if err != nil || rec2.UserID != otherUser.ID {
		t.Fatalf("staff create = %+v, %v", rec2, err)
	}

	got, err := c.GetRecord(ctx, rec.ID)
	if err != nil || got != rec {
		t.Fatalf("GetRecord = %+v, %v; want %+v", got, err, rec)
	}
	if got, err := admin.GetRecord(ctx, rec.ID); err != nil || got != rec {
		t.Fatalf("staff GetRecord = %+v, %v", got, err)
	}

	// Another patient sees nothing of it.
	_, err = other.GetRecord(ctx, rec.ID)
	apiError(t, err, http.StatusNotFound)
	_, err = other.PatchRecord(ctx, rec.ID, client.RecordPatch{Diagnosis: ptr("stolen")})
	apiError(t, err, http.StatusNotFound)
	_, err = other.ReplaceRecord(ctx, rec.ID, in)
	apiError(t, err, http.StatusNotFound)
	apiError(t, other.DeleteRecord(ctx, rec.ID, 0), http.StatusNotFound)
	if stored := e.storedRecord(rec.ID); stored != rec {
		t.Fatalf("another patient changed the record: %+v", stored)
	}

	// PUT replaces every writable field; an empty diagnosis clears it.
	repl := client.RecordInput{
		PatientName: "Pat Ient-Smith", DateOfBirth: date(t, "1981-03-01"), Treatment: "Physiotherapy",
		DateOfTreatment: date(t, "2026-05-02"), Doctor: "Dr House",
	}
	replaced, err := c.ReplaceRecord(ctx, rec.ID, repl)
	if err != nil {
		t.Fatal(err)
	}
	if replaced.ID != rec.ID || replaced.UserID != pat.ID || replaced.PatientName != "Pat Ient-Smith" ||
		replaced.DateOfBirth != repl.DateOfBirth || replaced.Diagnosis != "" || replaced.Treatment != "Physiotherapy" ||
		replaced.DateOfTreatment != repl.DateOfTreatment || replaced.Doctor != "Dr House" ||
		!replaced.Created.Equal(rec.Created) || !replaced.Updated.After(rec.Updated) {
		t.Fatalf("replaced %+v", replaced)
	}
	if stored := e.storedRecord(rec.ID); stored != replaced {
		t.Fatalf("stored %+v, returned %+v", stored, replaced)
	}

	// PATCH changes only what it sends.
	patched, err := c.PatchRecord(ctx, rec.ID, client.RecordPatch{Diagnosis: ptr("Torn ligament"), Doctor: ptr("Dr Wilson")})
	if err != nil {
		t.Fatal(err)
	}
	want := replaced
	want.Diagnosis, want.Doctor, want.Updated = "Torn ligament", "Dr Wilson", patched.Updated
	want.Version = replaced.Version + 1 // from the ETag
	if patched != want || !patched.Updated.After(replaced.Updated) {
		t.Fatalf("patched %+v, want %+v", patched, want)
	}
	patched, err = c.PatchRecord(ctx, rec.ID, client.RecordPatch{
		PatientName: ptr("P. Ient"), Treatment: ptr(""), DateOfBirth: ptr(date(t, "1981-03-02")), DateOfTreatment: ptr(date(t, "2026-06-03")),
	})
	if err != nil {
		t.Fatal(err)
	}
	if patched.PatientName != "P. Ient" || patched.Treatment != "" || patched.DateOfBirth.String() != "1981-03-02" ||
		patched.DateOfTreatment.String() != "2026-06-03" || patched.Diagnosis != "Torn ligament" {
		t.Fatalf("patched %+v", patched)
	}
	_, err = c.PatchRecord(ctx, rec.ID, client.RecordPatch{DateOfTreatment: ptr(date(t, "2026-01-01"))})
	if ae := apiError(t, err, http.StatusBadRequest); ae.Field("date_of_treatment") != model.MsgTreatmentFuture {
		t.Fatalf("past treatment date: %+v", ae)
	}
	_, err = c.PatchRecord(ctx, rec.ID, client.RecordPatch{UserID: ptr(otherUser.ID)})
	apiError(t, err, http.StatusForbidden)
	if stored := e.storedRecord(rec.ID); stored != patched {
		t.Fatalf("stored %+v, want %+v", stored, patched)
	}

	// Staff may move a record to another account.
	moved, err := admin.PatchRecord(ctx, rec2.ID, client.RecordPatch{UserID: ptr(pat.ID)})
	if err != nil || moved.UserID != pat.ID || e.storedRecord(rec2.ID).UserID != pat.ID {
		t.Fatalf("staff move = %+v, %v", moved, err)
	}

	if err := c.DeleteRecord(ctx, rec.ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Read().RecordByID(ctx, rec.ID); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("deleted record still stored: %v", err)
	}
	_, err = c.GetRecord(ctx, rec.ID)
	apiError(t, err, http.StatusNotFound)
	apiError(t, c.DeleteRecord(ctx, rec.ID, 0), http.StatusNotFound)

	wantAudit := []string{model.ActionRecordCreate, model.ActionRecordRead, model.ActionRecordRead,
		model.ActionRecordUpdate, model.ActionRecordUpdate, model.ActionRecordUpdate, model.ActionRecordDelete}
	if got := e.auditActions(rec.ID); !slices.Equal(got, wantAudit) {
		t.Fatalf("audit %v, want %v", got, wantAudit)
	}
}

func TestListRecords(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin, _ := e.staff("admin@example.org")
	a, userA := e.patient("a@example.org")
	b, userB := e.patient("b@example.org")

	add := func(c *client.Client, name, doctor, diagnosis, treated string) model.MedicalRecord {
		t.Helper()
		r, err := c.CreateRecord(ctx, client.RecordInput{
			PatientName: name, DateOfBirth: date(t, "1990-01-01"), Diagnosis: diagnosis,
			DateOfTreatment: date(t, treated), Doctor: doctor,
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	ash := add(a, "Alice Ash", "Dr House", "flu", "2026-04-01")
	birch := add(a, "Bob Birch", "Dr Grey", "fracture", "2026-05-01")
	cedar := add(a, "Carl Cedar", "Dr House", "migraine", "2026-06-01")
	dale := add(b, "Dora Dale", "Dr Grey", "Flu season", "2026-07-01")

	names := func(p model.Page[model.MedicalRecord]) []string {
		var out []string
		for _, r := range p.Results {
			out = append(out, r.PatientName)
		}
		return out
	}
	list := func(c *client.Client, q client.RecordQuery) model.Page[model.MedicalRecord] {
		t.Helper()
		p, err := c.ListRecords(ctx, q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		return p
	}

	all := list(admin, client.RecordQuery{})
	if all.Count != 4 || all.NumberOfPages != 1 || all.Next != nil || all.Previous != nil {
		t.Fatalf("all records: %+v", all)
	}
	if got := names(all); !slices.Equal(got, []string{"Dora Dale", "Carl Cedar", "Bob Birch", "Alice Ash"}) {
		t.Fatalf("default order %v", got)
	}
	// A list's records carry no version (only one record's ETag does).
	unversioned := func(rs ...model.MedicalRecord) []model.MedicalRecord {
		for i := range rs {
			rs[i].Version = 0
		}
		return rs
	}
	if !slices.Equal(all.Results, unversioned(dale, cedar, birch, ash)) {
		t.Fatalf("listed records differ from created ones: %+v", all.Results)
	}

	for _, tc := range []struct {
		name string
		q    client.RecordQuery
		want []string
	}{
		{"search", client.RecordQuery{Search: "FLU", Ordering: "patient_name"}, []string{"Alice Ash", "Dora Dale"}},
		{"search doctor", client.RecordQuery{Search: "house", Ordering: "patient_name"}, []string{"Alice Ash", "Carl Cedar"}},
		{"doctor", client.RecordQuery{Doctor: "dr grey", Ordering: "patient_name"}, []string{"Bob Birch", "Dora Dale"}},
		{"user", client.RecordQuery{UserID: userB.ID}, []string{"Dora Dale"}},
		{"ordering asc", client.RecordQuery{Ordering: "patient_name"}, []string{"Alice Ash", "Bob Birch", "Carl Cedar", "Dora Dale"}},
		{"ordering desc", client.RecordQuery{Ordering: "-date_of_treatment"}, []string{"Dora Dale", "Carl Cedar", "Bob Birch", "Alice Ash"}},
		{"ordering created", client.RecordQuery{Ordering: "created"}, []string{"Alice Ash", "Bob Birch", "Carl Cedar", "Dora Dale"}},
		{"after", client.RecordQuery{TreatedAfter: ptr(date(t, "2026-05-01")), Ordering: "date_of_treatment"}, []string{"Bob Birch", "Carl Cedar", "Dora Dale"}},
		{"before", client.RecordQuery{TreatedBefore: ptr(date(t, "2026-05-01")), Ordering: "date_of_treatment"}, []string{"Alice Ash", "Bob Birch"}},
		{"between", client.RecordQuery{TreatedAfter: ptr(date(t, "2026-04-02")), TreatedBefore: ptr(date(t, "2026-06-30"))}, []string{"Carl Cedar", "Bob Birch"}},
		{"combined", client.RecordQuery{UserID: userA.ID, Doctor: "Dr House", Search: "mig"}, []string{"Carl Cedar"}},
		{"none", client.RecordQuery{Search: "no such thing"}, nil},
	} {
		p := list(admin, tc.q)
		if got := names(p); !slices.Equal(got, tc.want) || p.Count != len(tc.want) {
			t.Errorf("%s: %v (count %d), want %v", tc.name, got, p.Count, tc.want)
		}
	}

	p1 := list(admin, client.RecordQuery{PageSize: 3, Ordering: "patient_name"})
	p2 := list(admin, client.RecordQuery{Page: 2, PageSize: 3, Ordering: "patient_name"})
	if p1.Count != 4 || p1.NumberOfPages != 2 || !slices.Equal(names(p1), []string{"Alice Ash", "Bob Birch", "Carl Cedar"}) || p1.Next == nil || p1.Previous != nil {
		t.Fatalf("page 1 %+v", p1)
	}
	if !slices.Equal(names(p2), []string{"Dora Dale"}) || p2.Next != nil || p2.Previous == nil {
		t.Fatalf("page 2 %+v", p2)
	}
	_, err := admin.ListRecords(ctx, client.RecordQuery{Page: 3, PageSize: 3})
	if ae := apiError(t, err, http.StatusNotFound); ae.Message != "Invalid page." {
		t.Fatalf("page past the end: %+v", ae)
	}
	_, err = admin.ListRecords(ctx, client.RecordQuery{Ordering: "colour"})
	if ae := apiError(t, err, http.StatusBadRequest); ae.Field("ordering") != model.MsgInvalidOrdering {
		t.Fatalf("bad ordering: %+v", ae)
	}
	_, err = admin.ListRecords(ctx, client.RecordQuery{UserID: "someone"})
	if ae := apiError(t, err, http.StatusBadRequest); ae.Field("user_id") != model.MsgInvalidUUID {
		t.Fatalf("bad user id: %+v", ae)
	}

	// Patients see only their own.
	if got := names(list(a, client.RecordQuery{Ordering: "patient_name"})); !slices.Equal(got, []string{"Alice Ash", "Bob Birch", "Carl Cedar"}) {
		t.Fatalf("patient A sees %v", got)
	}
	if p := list(a, client.RecordQuery{UserID: userB.ID}); p.Count != 0 || len(p.Results) != 0 {
		t.Fatalf("patient A sees B's records: %+v", p)
	}
	if got := names(list(b, client.RecordQuery{Search: "flu"})); !slices.Equal(got, []string{"Dora Dale"}) {
		t.Fatalf("patient B search %v", got)
	}
}

// A walk by cursor follows NextCursor to the end and PreviousCursor back,
// and lists what a page by number lists.
func TestListRecordsByCursor(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, _ := e.patient("walker@example.org")
	for _, name := range []string{"Ann", "Bo", "Cy", "Di", "Ed", "Flo", "Gus"} {
		in := client.RecordInput{PatientName: name, DateOfBirth: date(t, "1980-02-29"), Diagnosis: "Flu",
			Treatment: "Rest", DateOfTreatment: date(t, "2026-04-01"), Doctor: "Dr Grey"}
		if _, err := c.CreateRecord(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	all, err := c.ListRecords(ctx, client.RecordQuery{Ordering: "patient_name", PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range all.Results {
		want = append(want, r.ID)
	}
	q := client.RecordQuery{Ordering: "patient_name", PageSize: 3, ByCursor: true}
	var got []string
	var page model.Page[model.MedicalRecord]
	for {
		if page, err = c.ListRecords(ctx, q); err != nil {
			t.Fatal(err)
		}
		if page.Cursors == nil || page.NumberOfPages != 0 || page.Count != 7 {
			t.Fatalf("a page by cursor: %+v", page)
		}
		for _, r := range page.Results {
			got = append(got, r.ID)
		}
		if page.NextCursor == nil {
			break
		}
		q.Cursor = *page.NextCursor
	}
	if !slices.Equal(got, want) {
		t.Fatalf("walk by cursor:\n got  %v\n want %v", got, want)
	}
	// The last page holds the seventh record; the one before it three more.
	q.Cursor = *page.PreviousCursor
	back, err := c.ListRecords(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Results) != 3 || back.Results[0].ID != want[3] || back.Results[2].ID != want[5] {
		t.Fatalf("previous page: %+v", back.Results)
	}
	// A page by number has no cursors.
	if numbered, err := c.ListRecords(ctx, client.RecordQuery{Page: 1, PageSize: 3}); err != nil || numbered.Cursors != nil || numbered.NumberOfPages != 3 {
		t.Fatalf("a page by number: %+v, %v", numbered, err)
	}
}
