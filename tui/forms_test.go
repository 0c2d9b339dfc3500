package tui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui"
	"github.com/anavara/anavara/tui/client"
)

// Stored text that the terminal must only ever see inert: ESC sequences, C1
// controls (U+0080–U+009F, including the single-byte CSI U+009B), bidi
// overrides and isolates, and text next to other C0 controls. The API
// accepts all of these, so a form must give them back unchanged. (NUL
// itself the API refuses, on every engine: model.ValidateText; the
// sanitiser's handling of it is in sanitize_test.go.)
const (
	hostileName      = "\x1b[31mRED\x1b[0m\u202eLTR"
	hostileDoctor    = "Dr.\u0085 \u009b2J Evil \u2066iso\u2069 \u200fmark"
	hostileDiagnosis = "\x1b[2J\x1b]0;pwned\x07 and\r\nmore\ttabbed\u202e\x01after soh\x7f"
	hostileTreatment = "line one\nline two\x1b[H \u0090dcs\u009c \ufeffbom"
)

// sameRecord fails unless got holds exactly want's stored values.
func sameRecord(t *testing.T, where string, got, want model.MedicalRecord) {
	t.Helper()
	if got.PatientName != want.PatientName || got.Doctor != want.Doctor || got.Diagnosis != want.Diagnosis ||
		got.Treatment != want.Treatment || got.DateOfBirth != want.DateOfBirth ||
		got.DateOfTreatment != want.DateOfTreatment || got.UserID != want.UserID {
		t.Fatalf("%s: stored record changed:\n got  %#v\n want %#v", where, got, want)
	}
}

func TestRecordFormKeepsStoredBytes(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		e := newEnv(t)
		ann := e.patient("ann@example.org", "Ann", "Smith")
		orig := ann.record(t, client.RecordInput{PatientName: hostileName, Doctor: hostileDoctor,
			Diagnosis: hostileDiagnosis, Treatment: hostileTreatment})
		if orig.Diagnosis != hostileDiagnosis || orig.Doctor != hostileDoctor {
			t.Fatalf("the API did not store the text as sent: %#v", orig)
		}
		get := func() model.MedicalRecord {
			t.Helper()
			r, err := ann.c.GetRecord(context.Background(), orig.ID)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		d := signedIn(t, ann, size[0], size[1])
		d.press(tea.KeyEnter)
		d.typ("e")
		d.sees("Edit record", "␛[31mRED␛[0m")

		// Looking is not changing: save untouched, nothing is sent.
		d.press(tea.KeyCtrlS)
		d.sees("Nothing changed.")
		got := get()
		sameRecord(t, "saved untouched", got, orig)
		if !got.Updated.Equal(orig.Updated) {
			t.Fatalf("an untouched save updated the record: %v → %v", orig.Updated, got.Updated)
		}

		// Tabbing through every field and back is not changing either.
		d.typ("e")
		d.tabs(6)
		d.press(tea.KeyShiftTab, tea.KeyShiftTab)
		d.press(tea.KeyCtrlS)
		d.sees("Nothing changed.")
		sameRecord(t, "tabbed through", get(), orig)

		// Edit the doctor only: the other fields keep their bytes.
		d.typ("e")
		d.tabs(3)
		d.clear()
		d.typ("Dr. House")
		d.press(tea.KeyCtrlS)
		d.sees("Record saved.")
		want := orig
		want.Doctor = "Dr. House"
		sameRecord(t, "doctor edited", get(), want)

		// Editing a field that holds control characters saves what the
		// field showed, symbols and all, plus what was typed.
		d.typ("e")
		d.press(tea.KeyCtrlE)
		d.typ(" Jr")
		d.press(tea.KeyCtrlS)
		d.sees("Record saved.")
		want.PatientName = "␛[31mRED␛[0m␦LTR Jr"
		sameRecord(t, "name edited", get(), want)
	}
}

func TestNewRecordKeepsAccountNameBytes(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", hostileName, "Smith\u0085")
	d := signedIn(t, ann, 80, 24)
	d.typ("n")
	d.sees("New medical record", "␛[31mRED")
	d.press(tea.KeyTab)
	d.typ("1990-04-23")
	d.press(tea.KeyTab)
	d.typ(future(10).String())
	d.press(tea.KeyTab)
	d.typ("Dr. Grey")
	d.press(tea.KeyCtrlS)
	d.sees("Record created")
	recs := ann.records(t)
	if len(recs) != 1 || recs[0].PatientName != ann.FullName() {
		t.Fatalf("the suggested name was not stored as in the account: %#v, want %#v", recs, ann.FullName())
	}
}

func TestUserFormKeepsStoredBytes(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		e := newEnv(t)
		sam := e.staff("sam@example.org")
		bob := e.patient("bob@example.org", "Bob\u009b1m\u2066", hostileName)
		get := func() model.User {
			t.Helper()
			u, err := sam.c.GetUser(context.Background(), bob.ID)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		orig := get()
		if orig.LastName != hostileName {
			t.Fatalf("the API did not store the name as sent: %#v", orig.LastName)
		}
		d := signedIn(t, sam, size[0], size[1])
		open := func() {
			t.Helper()
			d.typ("u")
			d.typ("/")
			d.typ("bob@")
			d.press(tea.KeyEnter) // apply the search
			d.typ("e")            // edit (enter opens the person)
			d.sees("Edit user", "␛[31mRED")
		}
		open()
		d.press(tea.KeyCtrlS)
		d.sees("Nothing changed.")
		got := get()
		if got.FirstName != orig.FirstName || got.LastName != orig.LastName || !got.Updated.Equal(orig.Updated) {
			t.Fatalf("an untouched save changed the user: %#v → %#v", orig, got)
		}

		// Edit the first name only: the last name keeps its bytes.
		d.typ("e")
		d.sees("Edit user")
		d.clear()
		d.typ("Robert")
		d.press(tea.KeyCtrlS)
		d.sees("Saved bob@example.org.")
		got = get()
		if got.FirstName != "Robert" || got.LastName != hostileName || got.IsStaff || !got.IsActive {
			t.Fatalf("after editing the first name: %#v", got)
		}

		// Toggling a flag sends the flag alone.
		d.typ("e")
		d.tabs(3) // last name, staff, active
		d.typ(" ")
		d.press(tea.KeyCtrlS)
		d.sees("Saved bob@example.org.")
		got = get()
		if got.FirstName != "Robert" || got.LastName != hostileName || got.IsActive {
			t.Fatalf("after deactivating: %#v", got)
		}
	}
}

func TestProfileNamesKeepStoredBytes(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		e := newEnv(t)
		ann := e.patient("ann@example.org", "Ann\u202e\u0090", hostileName)
		d := signedIn(t, ann, size[0], size[1])
		d.typ("p")
		d.typ("e")
		d.sees("Edit your name", "␛[31mRED")
		d.press(tea.KeyCtrlS)
		d.sees("Nothing changed.")
		me, err := ann.c.Me(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if me.FirstName != ann.FirstName || me.LastName != hostileName || !me.Updated.Equal(ann.Updated) {
			t.Fatalf("an untouched save changed the names: %#v", me)
		}

		d.typ("e")
		d.press(tea.KeyTab)
		d.clear()
		d.typ("Smith")
		d.press(tea.KeyCtrlS)
		d.sees("Name saved.")
		me, err = ann.c.Me(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if me.FirstName != ann.FirstName || me.LastName != "Smith" {
			t.Fatalf("after editing the last name: %#v", me)
		}
	}
}

func TestEnterOnCheckboxSaves(t *testing.T) {
	e := newEnv(t)
	sam := e.staff("sam@example.org")
	d := signedIn(t, sam, 80, 24)
	d.typ("u")
	d.typ("n")
	d.sees("New user")
	d.typ("Cleo")
	d.press(tea.KeyTab)
	d.typ("Clinic")
	d.press(tea.KeyTab)
	d.typ("cleo@example.org")
	d.press(tea.KeyTab)
	d.typ(testPassword)
	d.press(tea.KeyTab) // the Staff checkbox
	d.sees("[ ] no  space to toggle", "enter save")
	d.press(tea.KeyEnter)
	d.sees("Account created for cleo@example.org.")
	if cleo := findUser(t, sam.c, "cleo@example.org"); cleo.IsStaff {
		t.Fatal("enter on the Staff checkbox gave staff rights")
	}

	// Space toggles; enter on the checkbox then saves what it shows.
	d.typ("n")
	d.typ("Dan")
	d.press(tea.KeyTab)
	d.typ("Desk")
	d.press(tea.KeyTab)
	d.typ("dan@example.org")
	d.press(tea.KeyTab)
	d.typ(testPassword)
	d.press(tea.KeyTab)
	d.typ(" ")
	d.sees("[x] yes")
	d.press(tea.KeyEnter)
	d.sees("Account created for dan@example.org.")
	if dan := findUser(t, sam.c, "dan@example.org"); !dan.IsStaff {
		t.Fatal("space on the Staff checkbox did not give staff rights")
	}

	// Editing: enter on the Active checkbox saves, it does not deactivate.
	d.typ("/")
	d.typ("cleo@")
	d.press(tea.KeyEnter)
	d.typ("e")
	d.sees("Edit user")
	d.tabs(3) // last name, staff, active
	d.press(tea.KeyEnter)
	d.sees("Nothing changed.")
	if cleo := findUser(t, sam.c, "cleo@example.org"); !cleo.IsActive || cleo.IsStaff {
		t.Fatalf("enter on a checkbox changed the account: %#v", cleo)
	}
}

func TestCorrectFieldsBannerGoesWhenFixed(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	d := signedIn(t, ann, 80, 24)
	d.typ("n")
	d.clear() // the suggested name
	d.press(tea.KeyCtrlS)
	d.sees("Please correct the highlighted fields.", model.MsgBlank, model.MsgRequired)

	// It stays while any field still shows an error ...
	d.typ("Ann Smith")
	d.sees("Please correct the highlighted fields.")
	d.press(tea.KeyTab)
	d.typ("1990-04-23")
	d.sees("Please correct the highlighted fields.")
	d.press(tea.KeyTab)
	d.typ(future(3).String())
	d.sees("Please correct the highlighted fields.")
	// ... and goes with the last one.
	d.press(tea.KeyTab)
	d.typ("Dr. Grey")
	d.misses("Please correct the highlighted fields.", "✗")
	d.sees("New medical record")

	// A second round goes the same way.
	d.press(tea.KeyShiftTab)
	d.clear()
	d.typ(model.DateOf(time.Now()).String()) // not after today
	d.press(tea.KeyCtrlS)
	d.sees("Please correct the highlighted fields.", model.MsgTreatmentFuture)
	d.clear()
	d.typ(future(3).String())
	d.misses("Please correct the highlighted fields.", "✗")
	d.press(tea.KeyCtrlS)
	d.sees("Record created for Ann Smith.")
}

func TestEscOnChangedFormAsks(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	rec := ann.record(t, client.RecordInput{PatientName: "Ann Smith", Doctor: "Dr. Grey"})
	d := signedIn(t, ann, 80, 24)
	d.press(tea.KeyEnter)
	d.sees("Patient account")

	// An untouched form closes at once.
	d.typ("e")
	d.press(tea.KeyEsc)
	d.misses("Discard changes?", "Edit record")
	d.sees("Patient account")

	// A changed one asks; No is the default.
	d.typ("e")
	d.tabs(3)
	d.typ(" and Dr. House")
	d.press(tea.KeyEsc)
	d.sees("Discard changes?", "Keep editing", "Discard", "n/esc keep editing")
	d.press(tea.KeyEnter)
	d.sees("Edit record", "Dr. Grey and Dr. House")
	d.misses("Discard changes?")
	d.press(tea.KeyEsc)
	d.typ("n")
	d.sees("Edit record", "Dr. Grey and Dr. House")
	d.press(tea.KeyEsc, tea.KeyEsc)
	d.sees("Edit record", "Dr. Grey and Dr. House")
	// Typing goes on where it was.
	d.typ("!")
	d.sees("Dr. House!")
	// The Cancel button asks too.
	d.tabs(4) // diagnosis, treatment, Save, Cancel
	d.press(tea.KeyEnter)
	d.sees("Discard changes?")
	d.typ("y")
	d.misses("Discard changes?", "Edit record")
	d.sees("Patient account", "Dr. Grey")
	if got, _ := ann.c.GetRecord(context.Background(), rec.ID); got.Doctor != "Dr. Grey" {
		t.Fatalf("discarded changes were saved: %q", got.Doctor)
	}

	// Undoing the change by hand leaves nothing to discard.
	d.typ("e")
	d.tabs(3)
	d.typ("x")
	d.press(tea.KeyBackspace)
	d.press(tea.KeyEsc)
	d.misses("Discard changes?", "Edit record")

	// The name form asks as well.
	d.press(tea.KeyEsc)
	d.typ("p")
	d.typ("e")
	d.typ("ie")
	d.press(tea.KeyEsc)
	d.sees("Discard changes?")
	d.typ("y")
	d.sees("Your profile", "Ann Smith")
}

// areaLines counts the lines the Diagnosis and Treatment areas show.
func areaLines(t *testing.T, d *driver) (diagnosis, treatment int) {
	t.Helper()
	var in *int
	for _, l := range strings.Split(d.view(), "\n") {
		switch {
		case strings.Contains(l, "Diagnosis"):
			in = &diagnosis
		case strings.Contains(l, "Treatment "):
			in = &treatment
		case !strings.Contains(l, "┃"):
			in = nil
		}
		if in != nil && strings.Contains(l, "┃") {
			*in++
		}
	}
	return diagnosis, treatment
}

func TestRecordFormAreasUseTheHeight(t *testing.T) {
	e := newEnv(t)
	sam := e.staff("sam@example.org")
	ann := e.patient("ann@example.org", "Ann", "Smith")
	for _, tc := range []struct {
		who  account
		w, h int
		min  int
	}{{ann, 80, 24, 6}, {sam, 80, 24, 5}, {ann, 120, 40, 13}, {sam, 120, 40, 12}} {
		d := signedIn(t, tc.who, tc.w, tc.h)
		d.typ("n")
		diag, treat := areaLines(t, d)
		if diag < tc.min || treat < tc.min {
			t.Fatalf("%s at %dx%d: %d lines of diagnosis and %d of treatment, want %d+:\n%s",
				tc.who.Email, tc.w, tc.h, diag, treat, tc.min, d.view())
		}
		d.sees("Save", "Cancel")
		fits(t, d, tc.w, tc.h, "new record")

		// Errors take lines: the areas give them up, the buttons stay.
		d.clear()
		d.press(tea.KeyCtrlS)
		d.sees("Please correct the highlighted fields.", "Save", "Cancel")
		fits(t, d, tc.w, tc.h, "new record with errors")
		if diag2, treat2 := areaLines(t, d); diag2 < 1 || treat2 < 1 || diag2 >= diag {
			t.Fatalf("%dx%d with errors: %d and %d lines:\n%s", tc.w, tc.h, diag2, treat2, d.view())
		}

		// A resize lays it out again.
		d.send(tea.WindowSizeMsg{Width: tc.w + 20, Height: tc.h + 10})
		if diag3, _ := areaLines(t, d); diag3 <= diag-1 {
			t.Fatalf("%dx%d after growing: %d lines:\n%s", tc.w+20, tc.h+10, diag3, d.view())
		}
		fits(t, d, tc.w+20, tc.h+10, "new record after resize")
	}
}

// TestEscOnOtherChangedFormsAsks: sign-up, change password, reset and add
// SSH key hold what the user typed too; esc on them asks before throwing
// it away, and an untouched one closes at once.
func TestEscOnOtherChangedFormsAsks(t *testing.T) {
	e := newEnv(t)
	d := start(t, tui.Options{Client: e.client()}, 80, 24)
	d.press(tea.KeyTab, tea.KeyTab, tea.KeyTab) // email, password, Sign in → Create account
	d.press(tea.KeyEnter)
	d.sees("Create your account")
	d.press(tea.KeyEsc) // untouched: straight back
	d.sees("Sign in to Anavara")
	d.misses("Discard changes?")

	d.sees("enter create account") // the focus stayed on the button
	d.press(tea.KeyEnter)
	d.typ("Nell")
	d.press(tea.KeyEsc)
	d.sees("Discard changes?")
	d.typ("n")
	d.sees("Create your account", "Nell")
	d.press(tea.KeyEsc)
	d.typ("y")
	d.sees("Sign in to Anavara")

	pat := e.patient("pia@example.org", "Pia", "Pass")
	d = signedIn(t, pat, 80, 24)
	d.typ("p")
	d.typ("c") // change password
	d.sees("Change password")
	d.typ("half typed")
	d.press(tea.KeyEsc)
	d.sees("Discard changes?")
}
