package export_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/export"
	"github.com/anavara/anavara/model"
)

// parsed is an export read back.
type parsed struct {
	patients   map[string]export.Patient
	conditions map[string]export.Condition
	procedures map[string]export.Procedure
	events     []export.AuditEvent
}

func parse(t *testing.T, r io.Reader, into *parsed) {
	t.Helper()
	if into.patients == nil {
		into.patients, into.conditions, into.procedures = map[string]export.Patient{}, map[string]export.Condition{}, map[string]export.Procedure{}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var head struct{ ResourceType string }
		must(t, json.Unmarshal(line, &head))
		switch head.ResourceType {
		case "Patient":
			var p export.Patient
			must(t, json.Unmarshal(line, &p))
			into.patients[p.ID] = p
		case "Condition":
			var c export.Condition
			must(t, json.Unmarshal(line, &c))
			into.conditions[c.ID] = c
		case "Procedure":
			var p export.Procedure
			must(t, json.Unmarshal(line, &p))
			into.procedures[p.ID] = p
		case "AuditEvent":
			var e export.AuditEvent
			must(t, json.Unmarshal(line, &e))
			into.events = append(into.events, e)
		default:
			t.Fatalf("unexpected resource %s", line)
		}
	}
	must(t, sc.Err())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// record rebuilds the medical record a Condition and its Procedure came
// from: every field of the record must survive the export.
func (p *parsed) record(t *testing.T, id string) model.MedicalRecord {
	t.Helper()
	c, ok := p.conditions[id]
	if !ok {
		t.Fatalf("no Condition for record %s", id)
	}
	proc, ok := p.procedures[export.ProcedureIDPrefix+id]
	if !ok {
		t.Fatalf("no Procedure for record %s", id)
	}
	if c.Identifier[0] != proc.Identifier[0] || c.Identifier[0] != (export.Identifier{System: export.SystemRecord, Value: id}) {
		t.Errorf("record %s: Condition identifier %v, Procedure's %v", id, c.Identifier, proc.Identifier)
	}
	if len(proc.ReasonReference) != 1 || proc.ReasonReference[0].Reference != "Condition/"+id {
		t.Errorf("record %s: Procedure reason %v", id, proc.ReasonReference)
	}
	if c.Subject.Reference != proc.Subject.Reference {
		t.Errorf("record %s: subjects %v and %v", id, c.Subject, proc.Subject)
	}
	r := model.MedicalRecord{ID: c.ID, UserID: strings.TrimPrefix(c.Subject.Reference, "Patient/"), PatientName: c.Subject.Display}
	for _, x := range c.Extension {
		if x.URL == export.ExtensionRecordBirthDate {
			r.DateOfBirth = parseDate(t, x.ValueDate)
		}
	}
	if c.Code != nil {
		r.Diagnosis = c.Code.Text
	}
	if proc.Code != nil {
		r.Treatment = proc.Code.Text
	}
	r.DateOfTreatment = parseDate(t, proc.PerformedDateTime)
	if len(proc.Performer) > 0 {
		r.Doctor = proc.Performer[0].Actor.Display
	}
	r.Created = parseTime(t, c.RecordedDate)
	r.Updated = parseTime(t, c.Meta.LastUpdated)
	v, err := strconv.ParseInt(c.Meta.VersionID, 10, 64)
	must(t, err)
	r.Version = v
	return r
}

func parseDate(t *testing.T, s string) model.Date {
	t.Helper()
	d, err := model.ParseDate(s)
	must(t, err)
	return d
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	must(t, err)
	return at
}

func sameRecord(t *testing.T, got, want model.MedicalRecord) {
	t.Helper()
	if got.ID != want.ID || got.UserID != want.UserID || got.PatientName != want.PatientName ||
		got.DateOfBirth != want.DateOfBirth || got.Diagnosis != want.Diagnosis || got.Treatment != want.Treatment ||
		got.DateOfTreatment != want.DateOfTreatment || got.Doctor != want.Doctor || !got.Created.Equal(want.Created) ||
		!got.Updated.Equal(want.Updated) || got.Version != want.Version {
		t.Errorf("record read back\n got %+v\nwant %+v", got, want)
	}
}

// checkEvent compares an exported AuditEvent with the trail's event.
func checkEvent(t *testing.T, got export.AuditEvent, want model.AuditEvent) {
	t.Helper()
	if got.ID != want.ID || got.Subtype[0].Code != want.Action || !parseTime(t, got.Recorded).Equal(want.At) || got.Source.Site != want.Via {
		t.Errorf("event %s read back as %+v, want %+v", want.ID, got, want)
	}
	agent := got.Agent[0]
	switch {
	case want.ActorID == nil:
		if agent.Who.Identifier != nil {
			t.Errorf("event %s: agent %+v, want none", want.ID, agent.Who)
		}
	case agent.Who.Identifier == nil || agent.Who.Identifier.Value != *want.ActorID:
		t.Errorf("event %s: agent %+v, want account %s", want.ID, agent.Who, *want.ActorID)
	}
	if agent.Network == nil || agent.Network.Address != want.IP {
		t.Errorf("event %s: network %+v, want %s", want.ID, agent.Network, want.IP)
	}
}

// entityIDs are the ids an exported event is about.
func entityIDs(e export.AuditEvent) []string {
	var ids []string
	for _, x := range e.Entity {
		if x.What.Identifier != nil {
			ids = append(ids, x.What.Identifier.Value)
		}
	}
	return ids
}

// A person's export holds their Patient, every one of their records and
// every event of their access log, and nothing of anyone else's.
func TestPersonRoundTrip(t *testing.T) {
	f := seed(t)
	var buf bytes.Buffer
	var counts export.Counts
	f.snapshot(t, func(snap db.Snapshot) error {
		var err error
		counts, err = export.Person(context.Background(), snap, f.ann.ID, &buf)
		return err
	})
	types := validateNDJSON(t, bytes.NewReader(buf.Bytes()))
	want := export.Counts{Patient: 1, Condition: int64(len(f.annRecords)), Procedure: int64(len(f.annRecords)), AuditEvent: int64(len(f.annLog))}
	if counts != want {
		t.Fatalf("counts %+v, want %+v", counts, want)
	}
	if types["Patient"] != 1 || types["Condition"] != len(f.annRecords) || types["Procedure"] != len(f.annRecords) || types["AuditEvent"] != len(f.annLog) {
		t.Fatalf("the file holds %v", types)
	}
	if first, _, _ := bytes.Cut(buf.Bytes(), []byte("\n")); !bytes.Contains(first, []byte(`"resourceType":"Patient"`)) {
		t.Errorf("first line %s, want the Patient", first)
	}
	var p parsed
	parse(t, &buf, &p)
	pat := p.patients[f.ann.ID]
	if pat.BirthDate != f.annBirth.String() || pat.Name[0].Family != f.ann.LastName || pat.Name[0].Given[0] != f.ann.FirstName ||
		!pat.Active || pat.Identifier[0] != (export.Identifier{System: export.SystemAccount, Value: f.ann.ID}) {
		t.Errorf("Patient %+v", pat)
	}
	for _, r := range f.annRecords {
		sameRecord(t, p.record(t, r.ID), r)
	}
	byID := map[string]model.AuditEvent{}
	for _, e := range f.events {
		byID[e.ID] = e
	}
	var got []string
	for _, e := range p.events {
		got = append(got, e.ID)
		checkEvent(t, e, byID[e.ID])
		if e.ID == f.events[1].ID && !slices.Equal(entityIDs(e), []string{f.annRecords[0].ID}) {
			t.Errorf("the staff list shows Ann %v, want her record alone", entityIDs(e))
		}
		if e.Agent[0].Who.Identifier != nil && e.Agent[0].Who.Identifier.Value == f.sam.ID && e.Agent[0].Who.Display != "Sam Staff" {
			t.Errorf("staff agent %+v, want named", e.Agent[0].Who)
		}
	}
	slices.Sort(got)
	wantLog := slices.Sorted(slices.Values(f.annLog))
	if !slices.Equal(got, wantLog) {
		t.Errorf("access events %v, want %v", got, wantLog)
	}
	if strings.Contains(buf.String(), f.bob.ID) || strings.Contains(buf.String(), "Gout") {
		t.Error("Ann's export mentions Bob or his record")
	}
}

// A person without records exports their Patient, without a birth date,
// and their access log; an unknown account is db.ErrNotFound.
func TestPersonWithoutRecords(t *testing.T) {
	f := seed(t)
	var buf bytes.Buffer
	f.snapshot(t, func(snap db.Snapshot) error {
		counts, err := export.Person(context.Background(), snap, f.cy.ID, &buf)
		if err != nil {
			return err
		}
		// The population export shows in every access log.
		if counts != (export.Counts{Patient: 1, AuditEvent: 1}) {
			t.Errorf("counts %+v", counts)
		}
		if _, err := export.Person(context.Background(), snap, "00000000-0000-4000-8000-000000000000", io.Discard); !errorsIsNotFound(err) {
			t.Errorf("unknown account: %v, want db.ErrNotFound", err)
		}
		return nil
	})
	validateNDJSON(t, bytes.NewReader(buf.Bytes()))
	var p parsed
	parse(t, &buf, &p)
	pat := p.patients[f.cy.ID]
	if pat.BirthDate != "" || pat.Active || pat.Name[0].Family != "" || pat.Name[0].Text != "Cy" {
		t.Errorf("Patient %+v", pat)
	}
}

// The population export holds every patient, every record with every
// field, and the whole trail in chain order; the manifest counts them and
// names the snapshot's audit head. Both sinks write the same files.
func TestPopulationRoundTrip(t *testing.T) {
	f := seed(t)
	for _, sinkName := range []string{"dir", "zip"} {
		t.Run(sinkName, func(t *testing.T) {
			files := map[string][]byte{}
			var m export.Manifest
			var head model.AuditHead
			var progress []export.Progress
			f.snapshot(t, func(snap db.Snapshot) error {
				var err error
				head, err = snap.AuditHead(context.Background())
				if err != nil {
					return err
				}
				report := func(p export.Progress) { progress = append(progress, p) }
				switch sinkName {
				case "dir":
					dir := filepath.Join(t.TempDir(), "out")
					sink, err := export.NewDirSink(dir)
					if err != nil {
						return err
					}
					if m, err = export.Population(context.Background(), snap, sink, "test", report); err != nil {
						return err
					}
					must(t, sink.Finish())
					entries, err := os.ReadDir(dir)
					must(t, err)
					for _, e := range entries {
						info, _ := e.Info()
						if info.Mode().Perm() != 0o600 {
							t.Errorf("%s has mode %v, want 0600", e.Name(), info.Mode().Perm())
						}
						data, err := os.ReadFile(filepath.Join(dir, e.Name()))
						must(t, err)
						files[e.Name()] = data
					}
				case "zip":
					var buf bytes.Buffer
					sink := export.NewZipSink(&buf, snap.At())
					if m, err = export.Population(context.Background(), snap, sink, "test", report); err != nil {
						return err
					}
					must(t, sink.Close())
					zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
					must(t, err)
					for _, zf := range zr.File {
						rc, err := zf.Open()
						must(t, err)
						data, err := io.ReadAll(rc)
						must(t, err)
						files[zf.Name] = data
					}
				}
				return nil
			})
			names := slices.Sorted(func(yield func(string) bool) {
				for n := range files {
					if !yield(n) {
						return
					}
				}
			})
			if !slices.Equal(names, []string{"AuditEvent.ndjson", "Condition.ndjson", "Patient.ndjson", "Procedure.ndjson", "manifest.json"}) {
				t.Fatalf("files %v", names)
			}
			var p parsed
			for _, name := range names[:4] {
				types := validateNDJSON(t, bytes.NewReader(files[name]))
				typ := strings.TrimSuffix(name, ".ndjson")
				if len(types) != 1 || types[typ] == 0 {
					t.Errorf("%s holds %v", name, types)
				}
				parse(t, bytes.NewReader(files[name]), &p)
			}
			all := append(append([]model.MedicalRecord{}, f.annRecords...), f.bobRecords...)
			if len(p.conditions) != len(all) || len(p.procedures) != len(all) {
				t.Errorf("%d conditions and %d procedures, want %d", len(p.conditions), len(p.procedures), len(all))
			}
			for _, r := range all {
				sameRecord(t, p.record(t, r.ID), r)
			}
			if len(p.patients) != 3 {
				t.Errorf("patients %v, want Ann, Bob and Cy (not staff)", p.patients)
			}
			for _, u := range []model.User{f.ann, f.bob, f.cy} {
				if _, ok := p.patients[u.ID]; !ok {
					t.Errorf("no Patient for %s", u.FirstName)
				}
			}
			if p.patients[f.ann.ID].BirthDate != f.annBirth.String() || p.patients[f.bob.ID].BirthDate != "1970-01-31" || p.patients[f.cy.ID].BirthDate != "" {
				t.Errorf("birth dates %q %q %q", p.patients[f.ann.ID].BirthDate, p.patients[f.bob.ID].BirthDate, p.patients[f.cy.ID].BirthDate)
			}
			if len(p.events) != len(f.events) {
				t.Fatalf("%d events, want %d", len(p.events), len(f.events))
			}
			for i, e := range f.events {
				checkEvent(t, p.events[i], e)
			}
			// The read through Sam's API token names the token as a second
			// agent; the token's revocation names it as what it was about.
			token := *f.events[4].TokenID
			if a := p.events[4].Agent; len(a) != 2 || a[1].Requestor || a[1].Who.Identifier == nil ||
				*a[1].Who.Identifier != (export.Identifier{System: export.SystemAPIToken, Value: token}) {
				t.Errorf("the read through a token has agents %+v, want Sam and the token %s", a, token)
			}
			if len(p.events[0].Agent) != 1 {
				t.Errorf("a read of a session has agents %+v, want Sam alone", p.events[0].Agent)
			}
			if ids := entityIDs(p.events[7]); !slices.Equal(ids, []string{token}) || p.events[7].Entity[0].What.Identifier.System != export.SystemAPIToken {
				t.Errorf("the token's revocation is about %+v, want the token %s", p.events[7].Entity, token)
			}
			if ids := entityIDs(p.events[1]); !slices.Equal(ids, f.events[1].RecordIDs) {
				t.Errorf("the list names %v, want %v", ids, f.events[1].RecordIDs)
			}
			var onDisk export.Manifest
			must(t, json.Unmarshal(files["manifest.json"], &onDisk))
			want := map[string]int64{"Patient": 3, "Condition": int64(len(all)), "Procedure": int64(len(all)), "AuditEvent": int64(len(f.events))}
			for typ, n := range want {
				if onDisk.Count(typ) != n || m.Count(typ) != n {
					t.Errorf("manifest counts %d %s, want %d", onDisk.Count(typ), typ, n)
				}
			}
			if onDisk.Documentation != export.DocumentationURL || onDisk.AuditHead.HeadHash != head.HeadHash || onDisk.AuditHead.Count != head.Count ||
				onDisk.TransactionTime.IsZero() || len(onDisk.Output) != 4 || onDisk.Output[0].URL != "Patient.ndjson" {
				t.Errorf("manifest %s", files["manifest.json"])
			}
			finished := 0
			for _, pr := range progress {
				if pr.Finished {
					finished++
				}
			}
			if finished != 4 {
				t.Errorf("progress reported %d finished files, want 4", finished)
			}
		})
	}
}
