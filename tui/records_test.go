package tui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

func TestCreateEditDeleteRecord(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	d := signedIn(t, ann, 100, 30)
	d.sees("No records yet")

	// New record: the patient's own name is suggested.
	d.typ("n")
	d.sees("New medical record", "Patient name", "Date of birth", "Treatment date", "YYYY-MM-DD")
	treated := future(10).String()
	d.press(tea.KeyTab)
	d.typ("1990-04-23")
	d.press(tea.KeyTab)
	d.typ(treated)
	d.press(tea.KeyTab)
	d.typ("Dr. Grey")
	d.press(tea.KeyTab)
	d.typ("Seasonal flu")
	d.press(tea.KeyEnter) // a new line in the diagnosis
	d.typ("mild fever")
	d.press(tea.KeyTab)
	d.typ("Rest and fluids")
	d.press(tea.KeyCtrlS)

	d.sees("Record created for Ann Smith.", "1 record", "Ann Smith", treated, "Dr. Grey", "Seasonal flu mild fever")
	recs := ann.records(t)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	r := recs[0]
	if r.PatientName != "Ann Smith" || r.DateOfBirth.String() != "1990-04-23" || r.DateOfTreatment.String() != treated ||
		r.Doctor != "Dr. Grey" || r.Diagnosis != "Seasonal flu\nmild fever" || r.Treatment != "Rest and fluids" || r.UserID != ann.ID {
		t.Fatalf("stored record %+v", r)
	}

	// Detail view: every field, the diagnosis with its line break.
	d.press(tea.KeyEnter)
	d.sees("Date of birth", "1990-04-23", "Treatment date", treated, "Doctor", "Patient account",
		"ann@example.org", r.ID, "Created", "Updated", "Diagnosis", "┃ Seasonal flu", "┃ mild fever", "Rest and fluids")

	// Edit from the detail view: change the doctor only.
	d.typ("e")
	d.sees("Edit record")
	d.tabs(3) // name → birth → treatment → doctor
	d.clear()
	d.typ("Dr. House")
	d.press(tea.KeyCtrlS)
	d.sees("Record saved.", "Dr. House")
	got, err := ann.c.GetRecord(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Doctor != "Dr. House" || got.Diagnosis != r.Diagnosis || got.PatientName != r.PatientName {
		t.Fatalf("after edit: %+v", got)
	}

	// Back to the list, which shows the change; delete with confirmation.
	d.press(tea.KeyEsc)
	d.sees("Medical records", "Dr. House")
	d.typ("d")
	d.sees("Delete the record of Ann Smith", "This cannot be undone.")
	d.typ("n") // changed my mind
	d.sees("Medical records", "1 record")
	if len(ann.records(t)) != 1 {
		t.Fatal("record deleted without confirmation")
	}
	d.typ("d")
	d.typ("y")
	d.sees("Record deleted.", "0 records", "No records yet")
	if n := len(ann.records(t)); n != 0 {
		t.Fatalf("%d records after delete", n)
	}
}

func TestRecordFormValidationInline(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	d := signedIn(t, ann, 100, 30)
	d.typ("n")
	d.clear() // empty the suggested name
	d.press(tea.KeyCtrlS)
	if !strings.Contains(d.below("Patient name"), model.MsgBlank) {
		t.Fatalf("blank name not flagged inline:\n%s", d.view())
	}
	if !strings.Contains(d.below("Date of birth"), model.MsgRequired) {
		t.Fatalf("missing birth date not flagged:\n%s", d.view())
	}
	if !strings.Contains(d.below("Doctor"), model.MsgBlank) {
		t.Fatalf("blank doctor not flagged:\n%s", d.view())
	}
	d.sees("Please correct the highlighted fields.")

	// Focus went to the first bad field, the name.
	d.typ("Ann Smith")
	d.press(tea.KeyTab)
	d.typ("23/04/1990") // wrong format
	d.press(tea.KeyTab)
	d.typ(model.DateOf(time.Now()).String()) // today: not in the future
	d.press(tea.KeyTab)
	d.typ("Dr. Grey")
	d.press(tea.KeyCtrlS)
	if !strings.Contains(d.below("Date of birth"), model.MsgDateFormat) {
		t.Fatalf("bad date format not flagged:\n%s", d.view())
	}
	if !strings.Contains(d.below("Treatment date"), model.MsgTreatmentFuture) {
		t.Fatalf("past treatment date not flagged:\n%s", d.view())
	}
	d.misses(model.MsgBlank)

	// A birth date in the future.
	d.clear()
	d.typ(future(3).String())
	d.press(tea.KeyCtrlS)
	if !strings.Contains(d.below("Date of birth"), model.MsgBirthInFuture) {
		t.Fatalf("future birth date not flagged:\n%s", d.view())
	}
	if n := len(ann.records(t)); n != 0 {
		t.Fatalf("an invalid form created %d records", n)
	}
	// esc dismisses the error message, then cancels the changed form
	// after asking.
	d.press(tea.KeyEsc)
	d.misses("Please correct the highlighted fields.")
	d.sees("New medical record")
	d.press(tea.KeyEsc)
	d.sees("Discard changes?")
	d.typ("y")
	d.sees("Medical records", "No records yet")
}

func TestPagingThrough45Records(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	for i := 1; i <= 45; i++ {
		ann.record(t, client.RecordInput{PatientName: name(i), Diagnosis: fmt.Sprintf("Diagnosis number %d", i)})
	}
	d := signedIn(t, ann, 100, 40)
	// Newest first, 20 a page.
	d.sees("45 records · page 1 of 3", name(45), name(26))
	d.misses(name(25))

	d.typ("]")
	d.sees("page 2 of 3", name(25), name(6))
	d.misses(name(26), name(5))
	d.press(tea.KeyRight)
	d.sees("page 3 of 3", name(5), name(1))
	d.misses(name(6))
	d.typ("]") // no page 4
	d.sees("page 3 of 3")
	d.typ("[")
	d.sees("page 2 of 3")
	d.press(tea.KeyPgUp)
	d.sees("page 1 of 3", name(45))

	// Oldest first.
	d.typ("S")
	d.sees("oldest first", name(1), name(20))
	d.misses(name(21))

	// Bigger pages: everything on one.
	d.typ("+")
	d.sees("50 per page", "45 records")
	d.misses("page 1 of")
	d.typ("-")
	d.sees("20 per page", "page 1 of 3")

	// Sort by patient name, Z→A after reversing.
	d.typ("s") // treatment date
	d.typ("s") // patient
	d.sees("patient A→Z")
	d.typ("S")
	d.sees("patient Z→A", name(45))

	// The cursor moves through the page and enter opens the record under it.
	d.press(tea.KeyDown, tea.KeyDown)
	d.press(tea.KeyEnter)
	d.sees(name(43), "Diagnosis number 43")
}

func TestSearchAndFilters(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	ann.record(t, client.RecordInput{PatientName: "Alice Flu", Diagnosis: "Influenza A", Doctor: "Dr. Grey", DateOfTreatment: future(5)})
	ann.record(t, client.RecordInput{PatientName: "Bob Bone", Diagnosis: "Fractured wrist", Doctor: "Dr. House", DateOfTreatment: future(20)})
	ann.record(t, client.RecordInput{PatientName: "Carla Cough", Diagnosis: "Bronchitis", Doctor: "Dr. Grey", DateOfTreatment: future(40)})
	d := signedIn(t, ann, 100, 30)
	d.sees("3 records")

	d.typ("/")
	d.typ("influ") // q, n, d ... are text while the search line is open
	d.sees("/ influ")
	d.press(tea.KeyEnter)
	d.sees("1 record", "Alice Flu", "search “influ”")
	d.misses("Bob Bone", "Carla Cough")

	d.typ("/")
	d.clear()
	d.typ("nobody")
	d.press(tea.KeyEnter)
	d.sees("0 records", "No records match")

	d.press(tea.KeyEsc) // clears search and filters
	d.sees("3 records", "Search and filters cleared.")

	// Filters: doctor and a treatment date range.
	d.typ("f")
	d.sees("Filter records", "Doctor", "Treated from", "Treated until")
	d.typ("Dr. Grey")
	d.press(tea.KeyEnter)
	d.press(tea.KeyEnter)
	d.press(tea.KeyEnter)
	d.sees("2 records", "Alice Flu", "Carla Cough", "doctor Dr. Grey")
	d.misses("Bob Bone")

	d.typ("f")
	d.press(tea.KeyTab)
	d.typ(future(10).String())
	d.press(tea.KeyTab)
	d.typ(future(30).String())
	d.press(tea.KeyEnter)
	if !strings.Contains(d.view(), "0 records") {
		// Dr. Grey from day 10 to 30: nobody (Alice is day 5, Carla day 40).
		t.Fatalf("filters not combined:\n%s", d.view())
	}
	d.typ("f")
	d.clear() // doctor
	d.press(tea.KeyEnter, tea.KeyEnter, tea.KeyEnter)
	d.sees("1 record", "Bob Bone", "treated from "+future(10).String(), "until "+future(30).String())

	// A reversed range is caught in the form.
	d.typ("f")
	d.press(tea.KeyTab)
	d.clear()
	d.typ(future(30).String())
	d.press(tea.KeyTab)
	d.clear()
	d.typ(future(10).String())
	d.press(tea.KeyEnter)
	if !strings.Contains(d.below("Treated until"), "earlier than") {
		t.Fatalf("reversed range not flagged:\n%s", d.view())
	}
	d.press(tea.KeyEsc)
	d.press(tea.KeyEsc)
	d.sees("3 records")
}

func TestSanitizesServerText(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	ann.record(t, client.RecordInput{
		PatientName: "\x1b[31mRed",
		Doctor:      "Dr. \x9b2JEvil\u202e",
		Diagnosis:   "\x1b[2J\x1b]0;pwned\x07 and\r\nmore",
		Treatment:   "line one\nline two\x1b[H",
	})
	for _, tc := range []struct {
		name  string
		color bool
	}{{"plain", false}, {"truecolor", true}} {
		t.Run(tc.name, func(t *testing.T) {
			c := e.client()
			if _, err := c.Login(context.Background(), "ann@example.org", testPassword); err != nil {
				t.Fatal(err)
			}
			opts := signedInOpts(c)
			if tc.color {
				opts.Renderer = colorRenderer()
			}
			d := start(t, opts, 100, 30)
			check := func(where string) {
				t.Helper()
				v := d.m.View() // as rendered, escape codes and all
				for _, bad := range []string{"\x1b[2J", "\x1b]", "\x07", "\x1b[31m", "\x1b[H", "\u009b", "\u202e", "\r"} {
					if strings.Contains(v, bad) {
						t.Fatalf("%s: view contains %q:\n%q", where, bad, v)
					}
				}
				if !tc.color && strings.ContainsRune(v, 0x1b) {
					t.Fatalf("%s: plain view contains ESC:\n%q", where, v)
				}
			}
			check("list")
			d.sees("␛[31mRed", "␛[2J␛]0;pwned␇")
			d.press(tea.KeyEnter)
			check("detail")
			d.sees("␛[31mRed", "␛[2J␛]0;pwned␇ and", "more", "line two␛[H")
			d.typ("e")
			check("edit form")
		})
	}
}

// patientWithRecords signs up Ann, a patient, with n records named
// Patient 01 to Patient n, created in that order.
func patientWithRecords(t *testing.T, n int) account {
	t.Helper()
	ann := newEnv(t).patient("ann@example.org", "Ann", "Smith")
	for i := 1; i <= n; i++ {
		ann.record(t, client.RecordInput{PatientName: name(i)})
	}
	return ann
}

// Turning pages while records are added walks by cursor: the next page
// starts after the last row shown, not at a page number that the new
// records pushed back (which showed the bottom of the last page again),
// and the previous page ends just before the first row shown, however few
// rows that leaves it. At 80×40 a page of 20 fits, so every row is on
// screen.
func TestPagingWhileRecordsAreAddedNeverRepeatsOrSkips(t *testing.T) {
	ann := patientWithRecords(t, 45)
	d := signedIn(t, ann, 80, 40)
	d.sees("page 1 of 3", name(45), name(26))
	d.typ("]")
	d.sees("page 2 of 3", name(25), name(6))
	// Five newer records head the list now; by page number page 3 would
	// start at Patient 10, shown already.
	for i := 46; i <= 50; i++ {
		ann.record(t, client.RecordInput{PatientName: name(i)})
	}
	d.typ("]")
	d.sees("50 records", name(5), name(1))
	d.misses(name(6), name(10))
	d.typ("[")
	d.sees(name(25), name(6))
	d.misses(name(26), name(5))
	// The page before the old first page holds the five new records
	// alone, and is the first page now.
	d.typ("[")
	d.sees("page 2 of 3", name(45), name(26))
	d.misses(name(46), name(25))
	d.typ("[")
	d.sees("page 1 of 3", name(50), name(46))
	d.misses(name(45))
	// Refreshed, the first page is full again.
	d.typ("r")
	d.sees("page 1 of 3", name(50), name(31))
	d.misses(name(30))
}

// TestPagingAfterScrollingShowsTheFirstRow is issue 11 defect 3: at 80×24
// a page of 20 does not fit, G scrolls the table, and the next page used to
// open scrolled by one row, its first row and the cursor out of sight.
func TestPagingAfterScrollingShowsTheFirstRow(t *testing.T) {
	ann := patientWithRecords(t, 45)
	d := signedIn(t, ann, 80, 24)
	d.sees("page 1 of 3", name(45))
	d.typ("G")
	if !strings.Contains(d.lineWith(name(26)), "▸") {
		t.Fatalf("G did not select the last row:\n%s", d.view())
	}
	for _, next := range []struct {
		key   string
		first int
		page  string
	}{{"]", 25, "page 2 of 3"}, {"[", 45, "page 1 of 3"}} {
		d.typ(next.key)
		d.sees(next.page)
		if !strings.Contains(d.lineWith(name(next.first)), "▸") {
			t.Fatalf("after %s the first row %q is not shown with the cursor:\n%s", next.key, name(next.first), d.view())
		}
		d.typ("G")
	}
	// A cursor put far down a page (a kept record) is scrolled into view.
	d.typ("++") // 100 a page: all 45 on one
	d.typ("G")
	d.typ("r")
	if !strings.Contains(d.lineWith(name(1)), "▸") {
		t.Fatalf("the kept record is out of sight:\n%s", d.view())
	}
	lines := strings.Split(d.view(), "\n")
	if len(lines) != 24 {
		t.Fatalf("%d lines, want 24:\n%s", len(lines), d.view())
	}
}

// TestRecordFormNonexistentDates is issue 11 defect 5: a date in the right
// format that does not exist is not called a format error.
func TestRecordFormNonexistentDates(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	d := signedIn(t, ann, 80, 24)
	d.typ("n")
	d.press(tea.KeyTab)
	d.typ("1990-02-30")
	d.press(tea.KeyTab)
	d.typ("2026-13-01")
	d.press(tea.KeyTab)
	d.typ("Dr. Grey")
	d.press(tea.KeyCtrlS)
	d.misses(model.MsgDateFormat)
	if got := d.below("Date of birth"); !strings.Contains(got, "This date does not exist. February 1990 has 28") {
		t.Fatalf("30 February not explained under the birth date (%q):\n%s", got, d.view())
	}
	if got := d.below("Treatment date"); !strings.Contains(got, "This date does not exist. There is no month 13.") {
		t.Fatalf("month 13 not explained under the treatment date (%q):\n%s", got, d.view())
	}
	if n := len(ann.records(t)); n != 0 {
		t.Fatalf("an invalid form created %d records", n)
	}
}

// TestRecordViewTopAndBottom is issue 11 defect 6: G/end and g/home jump
// to the ends of a record too long for the screen.
func TestRecordViewTopAndBottom(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	var lines []string
	for i := 1; i <= 40; i++ {
		lines = append(lines, fmt.Sprintf("Step %02d of the treatment", i))
	}
	ann.record(t, client.RecordInput{PatientName: "Long Story", Treatment: strings.Join(lines, "\n")})
	d := signedIn(t, ann, 80, 24)
	d.press(tea.KeyEnter)
	d.sees("Date of birth", "0%")
	d.misses("Step 40")
	for _, bottom := range []tea.KeyMsg{{Type: tea.KeyRunes, Runes: []rune{'G'}}, {Type: tea.KeyEnd}} {
		d.send(bottom)
		d.sees("Step 40 of the treatment", "100%")
		d.misses("Date of birth")
		d.typ("g")
		d.sees("Date of birth", "0%")
		d.misses("Step 40")
		d.send(bottom)
		d.press(tea.KeyHome)
		d.sees("Date of birth", "0%")
	}
}

// TestDeleteDialogKeepsDatesWhole is issue 11 defect 6: the delete dialog
// wrapped a date after a hyphen ("2027-01-" / "14"). Names of every length
// around the wrap column put the date across it.
func TestDeleteDialogKeepsDatesWhole(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	treated := future(40)
	for n := 22; n >= 10; n-- {
		ann.record(t, client.RecordInput{PatientName: "P" + strings.Repeat("a", n-1), DateOfTreatment: treated})
	}
	d := signedIn(t, ann, 80, 24)
	for n := 10; n <= 22; n++ {
		d.typ("d")
		d.sees("Delete the record of", "This cannot be undone.")
		if !strings.Contains(d.view(), treated.String()) {
			t.Fatalf("name of %d characters: the date %s is split:\n%s", n, treated, d.view())
		}
		d.typ("n")
		d.press(tea.KeyDown)
	}
}

// TestNewRecordIsSelected is issue 11 defect 6: after creating a record the
// cursor stayed on the record selected before, now a row further down.
func TestNewRecordIsSelected(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	for i := 1; i <= 25; i++ {
		ann.record(t, client.RecordInput{PatientName: name(i)})
	}
	d := signedIn(t, ann, 80, 24)
	d.typ("]") // page 2: the new record will head page 1
	d.sees("page 2 of 2")
	d.typ("n")
	d.clear()
	d.typ("Newest Patient")
	d.press(tea.KeyTab)
	d.typ("1990-04-23")
	d.press(tea.KeyTab)
	d.typ(future(10).String())
	d.press(tea.KeyTab)
	d.typ("Dr. Grey")
	d.press(tea.KeyCtrlS)
	d.sees("Record created for Newest Patient.", "page 1 of 2")
	if l := d.lineWith("Newest Patient  "); !strings.HasPrefix(strings.TrimSpace(l), "▸") {
		t.Fatalf("the new record is not selected:\n%s", d.view())
	}
	d.press(tea.KeyEnter)
	d.sees("Newest Patient", "1990-04-23")
}
