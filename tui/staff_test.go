package tui_test

import (
	"context"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui"
	"github.com/anavara/anavara/tui/client"
)

func signedInOpts(c *client.Client) tui.Options { return tui.Options{Client: c, SignedIn: true} }

func TestStaffScreensHiddenFromPatients(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	ann.record(t, client.RecordInput{PatientName: "Ann Smith"})
	d := signedIn(t, ann, 100, 30)
	d.sees("Medical records", "Ann Smith · patient")

	d.typ("?")
	d.sees("bigger pages", "profile")
	d.misses("users", "audit history")
	d.typ("?")

	d.typ("u")
	d.sees("Medical records")
	d.misses("Users", "accounts")
	d.typ("a")
	d.misses("Audit history")
	d.press(tea.KeyEnter)
	d.sees("Patient account", "(you)")
	d.typ("a")
	d.misses("Audit history")
	d.misses("audit")
	d.press(tea.KeyEsc)
	// The filter form has no patient-account picker for patients.
	d.typ("f")
	d.sees("Filter records")
	d.misses("Patient account")
}

func TestStaffManagesUsersAndSeesAudit(t *testing.T) {
	e := newEnv(t)
	sam := e.staff("sam@example.org")
	ann := e.patient("ann@example.org", "Ann", "Smith")
	e.patient("bob@example.org", "Bob", "Bone")
	rec := ann.record(t, client.RecordInput{PatientName: "Ann Smith", Diagnosis: "Influenza"})

	d := signedIn(t, sam, 110, 32)
	d.sees("Sam Staff · staff", "1 record", "Ann Smith")

	// a opens the whole audit log (TestStaffAuditLog has the rest).
	d.typ("a")
	d.sees("Audit log", "record.create", "auth.signup", "ann@example.org")
	d.press(tea.KeyEsc)

	// The detail view shows the patient account; a opens the history too.
	d.press(tea.KeyEnter)
	d.sees("Patient account", "ann@example.org", "Ann Smith")
	d.typ("a")
	d.sees("record.read", "sam@example.org")
	d.press(tea.KeyEsc, tea.KeyEsc)

	// Users list with search and filters.
	d.typ("u")
	d.sees("Users", "3 accounts", "sam@example.org", "ann@example.org", "bob@example.org")
	d.typ("s") // staff only
	d.sees("staff only", "1 account", "sam@example.org")
	d.misses("bob@example.org")
	d.typ("s") // patients only
	d.sees("patients only", "2 accounts")
	d.typ("s") // everyone
	d.typ("/")
	d.typ("bob")
	d.press(tea.KeyEnter)
	d.sees("1 account", "bob@example.org")
	d.misses("ann@example.org")

	// Edit Bob (e; enter opens the person, see TestStaffPersonRecords):
	// new last name, deactivate.
	d.typ("e")
	d.sees("Edit user", "bob@example.org", "Staff", "Active")
	d.press(tea.KeyTab) // last name
	d.clear()
	d.typ("Bonesetter")
	d.press(tea.KeyTab, tea.KeyTab) // staff, active
	d.typ(" ")                      // toggle active off
	d.press(tea.KeyCtrlS)
	d.sees("Saved bob@example.org.", "Bob Bonesetter")
	bob := findUser(t, sam.c, "bob@example.org")
	if bob.LastName != "Bonesetter" || bob.IsActive || bob.IsStaff {
		t.Fatalf("bob after edit: %+v", bob)
	}
	d.typ("a") // active only: Bob disappears
	d.sees("active only", "0 accounts")
	d.typ("a") // inactive only
	d.sees("inactive only", "bob@example.org")
	d.typ("a") // everyone again

	// Create a staff account.
	d.press(tea.KeyEsc) // back to the records
	d.sees("Medical records")
	d.typ("u")
	d.typ("n")
	d.sees("New user", "Email", "Password", "Staff")
	d.typ("Cleo")
	d.press(tea.KeyTab)
	d.typ("Clinic")
	d.press(tea.KeyTab)
	d.typ("cleo@example.org")
	d.press(tea.KeyTab)
	d.typ("short")
	d.press(tea.KeyTab)
	d.typ(" ") // staff
	d.press(tea.KeyCtrlS)
	if !strings.Contains(d.below("Password"), "too short") {
		t.Fatalf("short password not flagged:\n%s", d.view())
	}
	d.clear()
	d.typ(testPassword)
	d.press(tea.KeyCtrlS)
	d.sees("Account created for cleo@example.org.", "cleo@example.org")
	if cleo := findUser(t, sam.c, "cleo@example.org"); !cleo.IsStaff || !cleo.IsActive {
		t.Fatalf("cleo: %+v", cleo)
	}

	// A staff user cannot demote themselves: caught before sending.
	d.typ("/")
	d.clear()
	d.typ("sam@")
	d.press(tea.KeyEnter)
	d.typ("e")
	d.press(tea.KeyTab, tea.KeyTab)
	d.typ(" ")
	d.press(tea.KeyCtrlS)
	d.sees("You cannot remove your own staff status.")
	d.press(tea.KeyEsc)
	if got := findUser(t, sam.c, "sam@example.org"); !got.IsStaff {
		t.Fatal("staff demoted themselves")
	}
	_ = rec
}

func TestStaffRecordFormPicksPatient(t *testing.T) {
	e := newEnv(t)
	sam := e.staff("sam@example.org")
	ann := e.patient("ann@example.org", "Ann", "Smith")
	e.patient("bob@example.org", "Bob", "Bone")
	d := signedIn(t, sam, 110, 34)

	d.typ("n")
	d.sees("Patient account", "none chosen")
	d.press(tea.KeyCtrlS)
	if !strings.Contains(d.below("Patient account"), "Choose the patient's account") {
		t.Fatalf("missing patient not flagged:\n%s", d.view())
	}
	// Focus is on the picker: enter opens the users list, patients only.
	d.press(tea.KeyEnter)
	d.sees("Choose the patient account", "patients only", "ann@example.org", "bob@example.org")
	d.misses("sam@example.org")
	d.typ("/")
	d.typ("ann")
	d.press(tea.KeyEnter)
	d.press(tea.KeyEnter) // pick Ann
	d.sees("New medical record", "ann@example.org")
	d.press(tea.KeyTab)
	d.typ("Ann Smith")
	d.press(tea.KeyTab)
	d.typ("1985-02-03")
	d.press(tea.KeyTab)
	d.typ(future(7).String())
	d.press(tea.KeyTab)
	d.typ("Dr. Grey")
	d.press(tea.KeyCtrlS)
	d.sees("Record created for Ann Smith.")

	recs := ann.records(t)
	if len(recs) != 1 || recs[0].UserID != ann.ID {
		t.Fatalf("ann's records: %+v", recs)
	}

	// Staff filter the list by patient account.
	e.patient("cy@example.org", "Cy", "Young").record(t, client.RecordInput{PatientName: "Cy Young"})
	d.typ("r")
	d.sees("2 records")
	d.typ("f")
	d.tabs(3)
	d.press(tea.KeyEnter)
	d.typ("/")
	d.typ("cy@")
	d.press(tea.KeyEnter, tea.KeyEnter)
	d.press(tea.KeyCtrlS)
	d.sees("1 record", "Cy Young", "patient cy@example.org")
	d.misses("Ann Smith  ")
}

func findUser(t *testing.T, c *client.Client, email string) model.User {
	t.Helper()
	p, err := c.ListUsers(context.Background(), client.UserQuery{Search: email, PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range p.Results {
		if x.Email == email {
			return x
		}
	}
	t.Fatalf("no user %s", email)
	return model.User{}
}

// TestStaffAuditLog: a on the records list opens every event newest first;
// f filters by action and by a first day; enter opens an event's detail
// (who, what, when, from where), and from a record event the record.
func TestStaffAuditLog(t *testing.T) {
	e := newEnv(t)
	sam := e.staff("sam@example.org")
	ann := e.patient("ann@example.org", "Ann", "Smith")
	ann.record(t, client.RecordInput{PatientName: "Ann Smith", Diagnosis: "Influenza"})
	if _, err := e.client().Login(context.Background(), "ann@example.org", "Wrong-guess-123"); err == nil {
		t.Fatal("a wrong password signed in")
	}

	d := signedIn(t, sam, 110, 32)
	d.typ("a")
	d.sees("Audit log", "auth.login_failed", "record.create", "auth.signup")

	// Filter by action through the picker (auth.login_failed is its 2nd row).
	d.typ("f")
	d.sees("Filter the audit log", "every action")
	d.press(tea.KeyEnter)
	d.sees("Filter by action", "a sign-in failed")
	d.press(tea.KeyDown, tea.KeyEnter)
	d.sees("Filter the audit log", "auth.login_failed")
	d.press(tea.KeyCtrlS)
	d.sees("Audit log", "1 event", "auth.login_failed")
	d.misses("record.create")

	// The event's detail.
	d.press(tea.KeyEnter)
	d.sees("Audit event", "a sign-in failed", "nobody signed in", "account ann@example.org (Ann Smith, patient)", "127.0.0.1", "(UTC)")
	d.press(tea.KeyEsc)

	// A first day after today leaves nothing.
	d.typ("f")
	d.tabs(3)
	d.typ(future(2).String())
	d.press(tea.KeyCtrlS)
	d.sees("No events recorded.", "since "+future(2).String())

	// From a record event, enter opens the record (itself audited as a read).
	d.typ("f")
	d.press(tea.KeyEnter)
	for range 12 { // record.create is the 13th action
		d.press(tea.KeyDown)
	}
	d.press(tea.KeyEnter)
	d.tabs(3)
	d.clear()
	d.press(tea.KeyCtrlS)
	d.sees("1 event", "record.create")
	d.press(tea.KeyEnter)
	d.sees("Audit event", "a record was created", "ann@example.org (Ann Smith, patient)", "enter open the record")
	d.press(tea.KeyEnter)
	d.sees("Influenza")
}

// TestStaffPersonRecords: enter on a user opens that person with their
// records; n there creates a record for them with the account chosen and
// the patient name taken from it.
func TestStaffPersonRecords(t *testing.T) {
	e := newEnv(t)
	sam := e.staff("sam@example.org")
	ann := e.patient("ann@example.org", "Ann", "Smith")
	e.patient("bob@example.org", "Bob", "Bone")
	ann.record(t, client.RecordInput{PatientName: "Ann Smith", Diagnosis: "Influenza"})

	d := signedIn(t, sam, 110, 32)
	d.typ("u")
	d.typ("/")
	d.typ("ann")
	d.press(tea.KeyEnter) // apply the search
	d.press(tea.KeyEnter) // open Ann
	d.sees("Ann Smith", "ann@example.org · patient · active", "1 record", "Influenza")

	// Enter opens her record.
	d.press(tea.KeyEnter)
	d.sees("Influenza", "Patient account", "ann@example.org")
	d.press(tea.KeyEsc)

	// n: a new record for her, name pre-filled and editable.
	d.typ("n")
	d.sees("New medical record", "ann@example.org  Ann Smith")
	d.lineWith("Patient name")
	if l := d.lineWith("Patient name"); !strings.Contains(l, "Ann Smith") {
		t.Fatalf("patient name not pre-filled: %q", l)
	}
	d.press(tea.KeyTab, tea.KeyTab) // patient name → date of birth
	d.typ("1990-04-01")
	d.press(tea.KeyTab)
	d.typ(future(10).String())
	d.press(tea.KeyTab)
	d.typ("Dr. Person")
	d.press(tea.KeyCtrlS)
	d.sees("2 records", "Dr. Person")
	var mine int
	for _, r := range ann.records(t) {
		if r.Doctor == "Dr. Person" && r.PatientName == "Ann Smith" && r.UserID == ann.ID {
			mine++
		}
	}
	if mine != 1 {
		t.Fatalf("records of Ann by Dr. Person: %d, want 1", mine)
	}
}
