package server_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/export"
	"github.com/anavara/anavara/model"
)

// exportLines splits a FHIR NDJSON export into its resources, by type.
func exportLines(t *testing.T, body []byte) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		typ, _ := r["resourceType"].(string)
		out[typ] = append(out[typ], r)
	}
	return out
}

// ids are the resources' ids.
func ids(rs []map[string]any) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r["id"].(string))
	}
	slices.Sort(out)
	return out
}

// checkExportEvent fails unless the newest event of actor is the export
// of person's data, about their account, and staff find it in the trail.
func (h *harness) checkExportEvent(actor account, person string, staffToken string) {
	h.t.Helper()
	e := h.newestEventBy(actor.ID)
	if e.Action != model.ActionUserExport || e.Entity != model.EntityUser || e.EntityID == nil || *e.EntityID != person ||
		!slices.Equal(e.SubjectIDs, []string{person}) || e.IP == "" {
		h.t.Fatalf("newest event of %s: %+v, want the export of %s", actor.Email, e, person)
	}
	page := listPage[model.AuditEvent](h, "/api/audit-events?action=user.export&entity_id="+person, staffToken)
	if !slices.ContainsFunc(page.Results, func(x model.AuditEvent) bool { return x.ID == e.ID && *x.ActorID == actor.ID }) {
		h.t.Fatalf("GET /api/audit-events does not list export %s: %+v", e.ID, page.Results)
	}
}

// A patient exports their own data; staff export anyone's; every export
// is audited before it is sent, and the person's access log in the export
// shows who else looked.
func TestPersonExport(t *testing.T) {
	h := newHarness(t)
	ann := h.signup("ann@example.org")
	bob := h.signup("bob@example.org")
	sam := h.staff("sam@example.org")
	r1 := mrCreate(h, ann.Access, map[string]any{"diagnosis": "Asthma, \"mild\"", "doctor": "Dr. Osei"})
	h.clock.Advance(time.Second)
	r2 := mrCreate(h, ann.Access, map[string]any{"diagnosis": "Gout", "date_of_birth": "1985-12-11"})
	mrCreate(h, bob.Access, map[string]any{"diagnosis": "Bob's flu"})

	res := h.get("/api/users/me/export", ann.Access).expect(http.StatusOK)
	if ct := res.Header.Get("Content-Type"); ct != "application/fhir+ndjson" {
		t.Fatalf("Content-Type %q", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="anavara-export-`+ann.ID+`.ndjson"` {
		t.Fatalf("Content-Disposition %q", cd)
	}
	got := exportLines(t, res.Body)
	if len(got["Patient"]) != 1 || got["Patient"][0]["id"] != ann.ID || got["Patient"][0]["birthDate"] != "1985-12-11" {
		t.Fatalf("Patient %v", got["Patient"])
	}
	if !slices.Equal(ids(got["Condition"]), slices.Sorted(slices.Values([]string{r1.ID, r2.ID}))) || len(got["Procedure"]) != 2 {
		t.Fatalf("conditions %v, procedures %d; want Ann's two records", ids(got["Condition"]), len(got["Procedure"]))
	}
	if len(got["AuditEvent"]) != 0 {
		t.Fatalf("Ann's access log holds %v before anyone else looked", got["AuditEvent"])
	}
	if bytes.Contains(res.Body, []byte("Bob's flu")) || bytes.Contains(res.Body, []byte(bob.ID)) {
		t.Fatal("Ann's export holds Bob's data")
	}
	h.checkExportEvent(ann, ann.ID, sam.Access)

	// Staff open one of her records, then export her data: the read, and
	// the export, committed before the snapshot the data comes from, are
	// in it, by name.
	h.get(mrPath+"/"+r1.ID, sam.Access).expect(http.StatusOK)
	h.clock.Advance(time.Second)
	res = h.get("/api/users/"+ann.ID+"/export", sam.Access).expect(http.StatusOK)
	got = exportLines(t, res.Body)
	if len(got["Condition"]) != 2 || len(got["AuditEvent"]) != 2 {
		t.Fatalf("staff export: %d conditions, events %v", len(got["Condition"]), got["AuditEvent"])
	}
	events := mustJSON(t, got["AuditEvent"])
	for _, want := range []string{`"code":"record.read"`, `"reference":"Condition/` + r1.ID + `"`, `"code":"user.export"`,
		`"reference":"Patient/` + ann.ID + `"`, `"display":"Sam Staff"`} {
		if !strings.Contains(events, want) {
			t.Fatalf("the staff read and export lack %s: %s", want, events)
		}
	}
	h.checkExportEvent(sam, ann.ID, sam.Access)

	// Her own export by id: the staff's read and export are in it, her own
	// exports are not.
	res = h.get("/api/users/"+ann.ID+"/export", ann.Access).expect(http.StatusOK)
	got = exportLines(t, res.Body)
	if len(got["AuditEvent"]) != 2 || strings.Count(mustJSON(t, got["AuditEvent"]), `"code":"user.export"`) != 1 {
		t.Fatalf("events %s, want the staff read and export, not her own exports", mustJSON(t, got["AuditEvent"]))
	}
	h.checkExportEvent(ann, ann.ID, sam.Access)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Nobody exports what they may not see, an unknown account is 404, a
// format other than fhir and csv is 400 naming format; none of these is
// audited as an export.
func TestPersonExportRefusals(t *testing.T) {
	h := newHarness(t)
	ann := h.signup("ann@example.org")
	bob := h.signup("bob@example.org")
	sam := h.staff("sam@example.org")
	for _, tc := range []struct {
		name, path, token string
		status            int
		fields            []string
	}{
		{"patient asking for another's", "/api/users/" + bob.ID + "/export", ann.Access, http.StatusNotFound, nil},
		{"patient asking for another's as csv", "/api/users/" + bob.ID + "/export?format=csv", ann.Access, http.StatusNotFound, nil},
		{"staff asking for an unknown account", "/api/users/00000000-0000-4000-8000-000000000000/export", sam.Access, http.StatusNotFound, nil},
		{"a malformed id", "/api/users/not-an-id/export", sam.Access, http.StatusNotFound, nil},
		{"unknown format", "/api/users/me/export?format=xml", ann.Access, http.StatusBadRequest, []string{"format"}},
		{"empty format", "/api/users/" + ann.ID + "/export?format=", sam.Access, http.StatusBadRequest, []string{"format"}},
		{"no token", "/api/users/me/export", "", http.StatusUnauthorized, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := mrSub(h, t)
			res := h.get(tc.path, tc.token)
			res.expectError(tc.status, "", tc.fields...)
			page := listPage[model.AuditEvent](h, "/api/audit-events?action=user.export", sam.Access)
			if page.Count != 0 {
				t.Fatalf("a refused export was audited: %+v", page.Results)
			}
		})
	}
}

// The CSV export has a header row and quotes commas, quotes and line
// breaks; a cell a spreadsheet would run as a formula starts with a quote.
func TestPersonExportCSV(t *testing.T) {
	h := newHarness(t)
	ann := h.signup("ann@example.org")
	sam := h.staff("sam@example.org")
	texts := []string{`Sprain, "left" ankle`, "two\nlines", "=1+1", "+44 20", "-1", "@SUM(A1)", "\tTab"}
	for _, text := range texts {
		h.clock.Advance(time.Second)
		mrCreate(h, ann.Access, map[string]any{"diagnosis": text})
	}
	res := h.get("/api/users/"+ann.ID+"/export?format=csv", sam.Access).expect(http.StatusOK)
	if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="anavara-export-`+ann.ID+`.csv"` {
		t.Fatalf("Content-Disposition %q", cd)
	}
	rows, err := csv.NewReader(bytes.NewReader(res.Body)).ReadAll()
	if err != nil {
		t.Fatalf("%v: %s", err, res.Body)
	}
	if !slices.Equal(rows[0], export.CSVHeader) || len(rows) != len(texts)+1 {
		t.Fatalf("rows %q", rows)
	}
	col := slices.Index(export.CSVHeader, "diagnosis")
	var diagnoses []string
	for _, row := range rows[1:] {
		diagnoses = append(diagnoses, row[col])
	}
	want := []string{`Sprain, "left" ankle`, "two\nlines", "'=1+1", "'+44 20", "'-1", "'@SUM(A1)", "'\tTab"}
	if !slices.Equal(diagnoses, want) {
		t.Fatalf("diagnoses %q, want %q", diagnoses, want)
	}
	if !bytes.Contains(res.Body, []byte(`"Sprain, ""left"" ankle"`)) {
		t.Fatalf("the comma and quotes are not quoted:\n%s", res.Body)
	}
	h.checkExportEvent(sam, ann.ID, sam.Access)
}

// Staff download the whole database as a zip of the Bulk Data files; the
// export is audited first, so it is in its own AuditEvent file; patients
// get 403.
func TestPopulationExport(t *testing.T) {
	h := newHarness(t)
	ann := h.signup("ann@example.org")
	bob := h.signup("bob@example.org")
	sam := h.staff("sam@example.org")
	mrCreate(h, ann.Access, nil)
	mrCreate(h, bob.Access, nil)
	mrCreate(h, bob.Access, nil)

	h.get("/api/export", ann.Access).expectError(http.StatusForbidden, "")
	res := h.get("/api/export", sam.Access).expect(http.StatusOK)
	if ct := res.Header.Get("Content-Type"); ct != "application/zip" {
		t.Fatalf("Content-Type %q", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="anavara-export-`) || !strings.HasSuffix(cd, `.zip"`) {
		t.Fatalf("Content-Disposition %q", cd)
	}
	zr, err := zip.NewReader(bytes.NewReader(res.Body), int64(len(res.Body)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	var m export.Manifest
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	e := h.newestEventBy(sam.ID)
	if e.Action != model.ActionPopulationExport || e.Entity != model.EntityDatabase || e.EntityID != nil || len(e.SubjectIDs) != 0 {
		t.Fatalf("newest event of staff %+v, want the population export", e)
	}
	for _, tc := range []struct {
		file  string
		count int
	}{{"Patient.ndjson", 2}, {"Condition.ndjson", 3}, {"Procedure.ndjson", 3}} {
		lines := exportLines(t, files[tc.file])
		typ := strings.TrimSuffix(tc.file, ".ndjson")
		if len(lines[typ]) != tc.count || len(lines) != 1 || m.Count(typ) != int64(tc.count) {
			t.Errorf("%s holds %d (manifest %d), want %d", tc.file, len(lines[typ]), m.Count(typ), tc.count)
		}
	}
	events := exportLines(t, files["AuditEvent.ndjson"])["AuditEvent"]
	if len(events) == 0 || events[len(events)-1]["id"] != e.ID || m.Count("AuditEvent") != int64(len(events)) {
		t.Fatalf("the trail's last exported event is %v, want the export %s", events[len(events)-1]["id"], e.ID)
	}
	if m.AuditHead.Count != int64(len(events)) || m.AuditHead.HeadHash != e.Hash {
		t.Fatalf("manifest head %+v, want %d events ending in %s", m.AuditHead, len(events), e.Hash)
	}

	// The population export shows in each patient's own export.
	res = h.get("/api/users/me/export", ann.Access).expect(http.StatusOK)
	if !strings.Contains(mustJSON(t, exportLines(t, res.Body)["AuditEvent"]), `"code":"export.population"`) {
		t.Fatal("the population export is not in Ann's access log")
	}
}

// An export whose event cannot be written sends nothing: no data leaves
// the server without its trace in the trail.
func TestExportNotSentWithoutItsEvent(t *testing.T) {
	h := newHarness(t, withBusyTimeout(200*time.Millisecond))
	ann := h.signup("ann@example.org")
	sam := h.staff("sam@example.org")
	mrCreate(h, ann.Access, map[string]any{"diagnosis": "Confidential diagnosis"})
	release := h.holdWriteLock()
	for _, tc := range []struct{ path, token string }{
		{"/api/users/me/export", ann.Access},
		{"/api/users/me/export?format=csv", ann.Access},
		{"/api/users/" + ann.ID + "/export", sam.Access},
		{"/api/export", sam.Access},
	} {
		res := h.get(tc.path, tc.token)
		if res.Status < 500 || bytes.Contains(res.Body, []byte("Confidential")) || bytes.Contains(res.Body, []byte(ann.ID)) ||
			res.Header.Get("Content-Disposition") != "" {
			t.Errorf("GET %s with the trail unwritable: %d %v %s", tc.path, res.Status, res.Header, res.Body)
		}
	}
	release()
	page := listPage[model.AuditEvent](h, "/api/audit-events?action=user.export", sam.Access)
	if page.Count != 0 {
		t.Fatalf("exports audited: %+v", page.Results)
	}
	h.get("/api/users/me/export", ann.Access).expect(http.StatusOK)
}
