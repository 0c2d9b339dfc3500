package tui_test

import (
	"context"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// The record form sends If-Match with the version it was filled from: a
// change someone else saved meanwhile is not overwritten; the form stays
// open with the user's edits, says so, and ctrl+r reloads the record.
func TestRecordFormNoticesSomeoneElsesChange(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	ctx := context.Background()
	rec, err := ann.c.CreateRecord(ctx, client.RecordInput{PatientName: "Ann Smith", DateOfBirth: model.NewDate(1990, 4, 23),
		DateOfTreatment: future(10), Doctor: "Dr. Grey", Diagnosis: "Flu"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Version != 1 {
		t.Fatalf("created record at version %d, want 1 (from the ETag)", rec.Version)
	}
	d := signedIn(t, ann, 120, 40)
	d.sees("Dr. Grey")

	for _, from := range []string{"detail", "list"} {
		t.Run(from, func(t *testing.T) {
			d.t = t
			if from == "detail" {
				d.press(tea.KeyEnter)
				d.sees("Date of birth")
			}
			d.typ("e")
			d.sees("Edit record")
			// Someone else (another window) saves a change meanwhile.
			other := "Changed in another window (" + from + ")"
			if _, err := ann.c.PatchRecord(ctx, rec.ID, client.RecordPatch{Diagnosis: &other}); err != nil {
				t.Fatal(err)
			}
			d.tabs(3) // name → birth → treatment → doctor
			d.clear()
			d.typ("Dr. House")
			d.press(tea.KeyCtrlS)
			d.sees("Someone else changed this record meanwhile; reload it.", "Edit record", "Dr. House")
			got, err := ann.c.GetRecord(ctx, rec.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Doctor == "Dr. House" || got.Diagnosis != other {
				t.Fatalf("the stale save went through: %+v", got)
			}
			// Saving again is refused too, without asking the server.
			d.press(tea.KeyCtrlS)
			d.sees("Someone else changed this record meanwhile; reload it.")
			// ctrl+r reloads what is stored now; then the edit saves.
			d.press(tea.KeyCtrlR)
			d.sees("Reloaded the record as stored now.", other)
			d.misses("Dr. House")
			d.clear() // the focus stayed on the doctor
			d.typ("Dr. House")
			d.press(tea.KeyCtrlS)
			d.sees("Record saved.")
			got, err = ann.c.GetRecord(ctx, rec.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Doctor != "Dr. House" || got.Diagnosis != other {
				t.Fatalf("after reload and save: %+v", got)
			}
			// Put the doctor back for the next round.
			grey := "Dr. Grey"
			if _, err := ann.c.PatchRecord(ctx, rec.ID, client.RecordPatch{Doctor: &grey}); err != nil {
				t.Fatal(err)
			}
			if from == "detail" {
				d.press(tea.KeyEsc)
			}
			d.typ("r") // refresh the list
			d.sees("Dr. Grey")
		})
	}
}

// The user form likewise: a change saved meanwhile answers 412, the form
// stays open, and ctrl+r reloads the account.
func TestUserFormNoticesSomeoneElsesChange(t *testing.T) {
	e := newEnv(t)
	sam := e.staff("sam@example.org")
	bob := e.patient("bob@example.org", "Bob", "Builder")
	ctx := context.Background()
	d := signedIn(t, sam, 120, 40)
	d.typ("u")
	d.sees("bob@example.org")
	d.typ("/")
	d.typ("bob")
	d.press(tea.KeyEnter)
	d.sees("1 account", "bob@example.org")
	d.typ("e")
	d.sees("Edit user", "bob@example.org")
	// Bob renames himself meanwhile.
	first := "Robert"
	if _, err := bob.c.UpdateMe(ctx, client.UserPatch{FirstName: &first}); err != nil {
		t.Fatal(err)
	}
	d.press(tea.KeyTab) // last name
	d.clear()
	d.typ("Bonesetter")
	d.press(tea.KeyCtrlS)
	d.sees("Someone else changed this account meanwhile; reload it.", "Edit user", "Bonesetter")
	me, err := bob.c.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if me.LastName != "Builder" || me.FirstName != "Robert" {
		t.Fatalf("the stale save went through: %+v", me)
	}
	d.press(tea.KeyCtrlR)
	d.sees("Reloaded the account as stored now.", "Robert")
	d.clear()
	d.typ("Bonesetter")
	d.press(tea.KeyCtrlS)
	d.sees("Saved bob@example.org.")
	if me, err = bob.c.Me(ctx); err != nil || me.LastName != "Bonesetter" || me.FirstName != "Robert" {
		t.Fatalf("after reload and save: %+v, %v", me, err)
	}
}

// The footer of an edit form names ctrl+r, which refills it from what is
// stored; a new-record form, with nothing stored to reload, does not.
func TestEditFormsShowReload(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	if _, err := ann.c.CreateRecord(context.Background(), client.RecordInput{PatientName: "Ann Smith", DateOfBirth: model.NewDate(1990, 4, 23),
		DateOfTreatment: future(10), Doctor: "Dr. Grey", Diagnosis: "Flu"}); err != nil {
		t.Fatal(err)
	}
	d := signedIn(t, ann, 120, 40)
	d.sees("Dr. Grey")
	d.typ("e")
	d.sees("Edit record", "ctrl+r reload")
	d.press(tea.KeyEsc)
	d.sees("Dr. Grey")
	d.typ("n")
	d.sees("New record")
	d.misses("ctrl+r reload")
}
