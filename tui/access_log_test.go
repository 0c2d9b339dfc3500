package tui_test

import (
	"context"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// TestPatientSeesWhoAccessed: p then w opens the patient's access log,
// newest first, naming the staff member who listed and opened their
// record; enter shows one access in full; f filters by a first day; a
// record's view shows who accessed that record alone.
func TestPatientSeesWhoAccessed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sam := e.staff("sam@example.org")
	ann := e.patient("ann@example.org", "Ann", "Smith")
	rec := ann.record(t, client.RecordInput{PatientName: "Ann Smith", Diagnosis: "Influenza"})
	if _, err := sam.c.GetRecord(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := sam.c.ListRecords(ctx, client.RecordQuery{UserID: ann.ID}); err != nil {
		t.Fatal(err)
	}
	// Staff saw nothing of this one, and Ann's own reads are not in her log.
	ann.record(t, client.RecordInput{PatientName: "Ann Second", Diagnosis: "Sprain"})
	ann.records(t)

	d := signedIn(t, ann, 110, 32)
	d.typ("p")
	d.sees("Your data", "w who accessed my records", "x export my data")
	d.typ("w")
	d.sees("Who accessed my records", "2 events", "Sam Staff (staff)", "127.0.0.1")
	listed, viewed := d.lineWith("listed records (1 of yours)"), d.lineWith("viewed record")
	if !strings.Contains(viewed, rec.ID[:8]) || !strings.Contains(listed, rec.ID[:8]) {
		t.Fatalf("the record's short id is not shown:\n%s", d.view())
	}
	v := d.view()
	if strings.Index(v, "listed records") > strings.Index(v, "viewed record") {
		t.Fatalf("not newest first:\n%s", v)
	}
	if n := accessLogReads(t, e); n != 1 {
		t.Fatalf("%d access-log reads audited, want 1", n)
	}

	// enter: the newest access in full.
	d.press(tea.KeyEnter)
	d.sees("Access to your data", "Sam Staff (staff)", "account "+sam.ID, "listed records (1 of yours)",
		"record.list", rec.ID, "127.0.0.1", "the API")
	d.press(tea.KeyEsc)
	d.sees("Who accessed my records", "2 events")

	// f: since tomorrow keeps nothing; clearing the filters brings them back.
	d.typ("f")
	d.sees("Filter who accessed", "Since", "Record ID")
	d.typ(future(1).String())
	d.press(tea.KeyCtrlS)
	d.sees("0 events", "since "+future(1).String(), "Nobody else accessed them in what these filters keep")
	d.typ("f")
	d.clear()
	d.typ("2026-02-30")
	d.press(tea.KeyTab)
	d.typ("not-a-record")
	d.press(tea.KeyCtrlS)
	d.sees("Not a record ID")
	if !strings.Contains(d.below("Since"), "✗") {
		t.Fatalf("a day that does not exist is not flagged:\n%s", d.view())
	}
	d.tabs(3) // Clear all
	d.press(tea.KeyEnter)
	d.sees("Who accessed my records", "2 events")
	d.misses("since ")

	// A record's view: w shows who accessed that record.
	d.press(tea.KeyEsc, tea.KeyEsc)
	d.sees("Medical records")
	d.typ("/")
	d.typ("Second")
	d.press(tea.KeyEnter, tea.KeyEnter)
	d.sees("Ann Second", "Sprain")
	d.typ("w")
	d.sees("Who accessed my records", "0 events", "the record of", "Nobody else has accessed this record.")
	d.press(tea.KeyEsc, tea.KeyEsc)
	d.typ("/")
	d.clear()
	d.typ("Influenza")
	d.press(tea.KeyEnter, tea.KeyEnter)
	d.sees("Ann Smith", "Influenza")
	d.typ("w")
	d.sees("2 events", "the record of "+rec.DateOfTreatment.String(), "viewed record", "listed records (1 of yours)")
}

// TestAccessLogEmpty: nobody else has looked at a new patient's data.
func TestAccessLogEmpty(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	ann.record(t, client.RecordInput{PatientName: "Ann Smith"})
	d := signedIn(t, ann, 100, 30)
	d.typ("p")
	d.typ("w")
	d.sees("Who accessed my records", "0 events", "Nobody else has accessed your records or your account yet.")
	for _, color := range []bool{false, true} {
		opts := signedInOpts(ann.c)
		if color {
			opts.Renderer = colorRenderer()
		}
		d := start(t, opts, 80, 24)
		d.typ("p")
		fits(t, d, 80, 24, "profile")
		d.typ("w")
		fits(t, d, 80, 24, "who accessed")
		d.typ("f")
		fits(t, d, 80, 24, "who accessed: filters")
		d.press(tea.KeyEsc, tea.KeyEsc)
		d.typ("x")
		fits(t, d, 80, 24, "export")
	}
}

// TestStaffSeesPersonAccessLog: on a person's page w shows their access
// log, in which staff reading it shows too.
func TestStaffSeesPersonAccessLog(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sam := e.staff("sam@example.org")
	ann := e.patient("ann@example.org", "Ann", "Smith")
	rec := ann.record(t, client.RecordInput{PatientName: "Ann Smith", Diagnosis: "Influenza"})
	if _, err := sam.c.GetRecord(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}

	d := signedIn(t, sam, 110, 32)
	d.typ("u")
	d.typ("/")
	d.typ("ann")
	d.press(tea.KeyEnter, tea.KeyEnter)
	d.sees("ann@example.org · patient", "w who accessed", "x export data")
	d.typ("w")
	d.sees("Who accessed the records of Ann Smith", "Sam Staff (staff)", "viewed record")
	// Reading it is audited, about Ann: r shows that read.
	d.typ("r")
	d.sees("viewed their access log")
	d.press(tea.KeyEnter)
	d.sees("Access to their data", "viewed their access log", "their account")
	d.press(tea.KeyEsc, tea.KeyEsc)

	// The same from the record's view, for that record.
	d.press(tea.KeyEnter)
	d.sees("Influenza")
	d.typ("w")
	d.sees("Who accessed the records of Ann Smith", "the record of "+rec.DateOfTreatment.String(), "viewed record")
	d.misses("viewed their access log")

	// Ann sees Sam reading her log.
	p, err := ann.c.AccessLog(ctx, "", client.AccessLogQuery{})
	if err != nil {
		t.Fatal(err)
	}
	reads := 0
	for _, en := range p.Results {
		if en.Action == model.ActionAccessLogRead && en.Actor != nil && en.Actor.ID == sam.ID {
			reads++
		}
	}
	if reads < 2 {
		t.Fatalf("ann's log shows %d reads of it by sam, want at least 2: %+v", reads, p.Results)
	}
}

// TestAccessLogSanitised: a staff member's name with escape sequences and
// direction overrides reaches the patient's terminal inert.
func TestAccessLogSanitised(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sam := e.staff("sam@example.org")
	first := hostileName
	if _, err := sam.c.UpdateMe(ctx, client.UserPatch{FirstName: &first}); err != nil {
		t.Fatal(err)
	}
	ann := e.patient("ann@example.org", "Ann", "Smith")
	rec := ann.record(t, client.RecordInput{PatientName: "Ann Smith"})
	if _, err := sam.c.GetRecord(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	d := signedIn(t, ann, 110, 32)
	d.typ("p")
	d.typ("w")
	d.sees("␛[31mRED␛[0m", "viewed record")
	raw := func() {
		t.Helper()
		if v := d.m.View(); strings.ContainsAny(v, "\x1b\u202e") {
			t.Fatalf("a server string reached the terminal raw: %q", v)
		}
	}
	raw()
	d.press(tea.KeyEnter)
	d.sees("␛[31mRED␛[0m", "LTR Staff (staff)")
	raw()
}

// accessLogReads counts the audited reads of access logs.
func accessLogReads(t *testing.T, e *env) int {
	t.Helper()
	_, n, err := e.store.Read().ListAudit(context.Background(), db.AuditFilter{Action: model.ActionAccessLogRead, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
