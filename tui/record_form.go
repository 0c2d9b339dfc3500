package tui

import (
	"context"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// recordFormScreen creates a record, or edits one (sending only the fields
// that changed, so an old record's past treatment date does not trip the
// future-date rule).
type recordFormScreen struct {
	screenBase
	rec *model.MedicalRecord // nil: new record
	formScreen
	patient   *field // staff only: the patient account
	name      *field
	dob       *field
	treatedOn *field
	doctor    *field
	diagnosis *field
	treatment *field
	height    int // of the body, for fitAreas

	// version is the version of the record the fields were loaded from,
	// sent as If-Match so that a change someone else saved meanwhile is
	// not overwritten: 0 while unknown (a record from a list, whose
	// version init fetches). stale is set once the server (or that fetch)
	// says the record changed: saving is refused until ctrl+r reloads it.
	version int64
	stale   bool

	// created, if set, is told the record a new-record form stored.
	created func(model.MedicalRecord)
}

func newRecordFormScreen(a *app, rec *model.MedicalRecord) *recordFormScreen {
	s := &recordFormScreen{screenBase: a.newBase(), formScreen: formScreen{form: newForm(a)}}
	if rec != nil {
		r := *rec
		s.rec = &r
		s.version = rec.Version
	}
	f := s.form
	if a.isStaff() {
		s.patient = f.picker("user_id", "Patient account", "none chosen", func() tea.Cmd {
			return a.push(newUsersScreen(a, func(u model.User) tea.Cmd {
				s.patient.value = u.ID
				s.patient.text = clean(u.Email) + "  " + clean(u.FullName())
				s.patient.err = ""
				return nil
			}))
		})
	}
	s.name = f.text("patient_name", "Patient name", "as on the patient's documents", model.MaxRecordNameLength)
	s.dob = f.date("date_of_birth", "Date of birth", "")
	s.treatedOn = f.date("date_of_treatment", "Treatment date", "after today")
	s.doctor = f.text("doctor", "Doctor", "", model.MaxRecordNameLength)
	s.diagnosis = f.textArea("diagnosis", "Diagnosis", "optional; enter for a new line")
	s.treatment = f.textArea("treatment", "Treatment", "optional")
	f.button("Save", s.submit)
	f.button("Cancel", func() tea.Cmd { return s.leave(a, a.pop) })
	f.submit = s.submit
	switch {
	case rec != nil:
		s.load(*rec)
	case !a.isStaff() && a.user != nil:
		// A patient's new record is about themselves: suggest their name
		// (saved as stored in the account unless edited).
		s.name.load(a.user.FullName())
	}
	return s
}

// load fills the fields from rec: each starts from the stored value, shown
// inert; only the fields the user edits are sent (see submit).
func (s *recordFormScreen) load(rec model.MedicalRecord) {
	s.name.load(rec.PatientName)
	s.dob.load(rec.DateOfBirth.String())
	s.treatedOn.load(rec.DateOfTreatment.String())
	s.doctor.load(rec.Doctor)
	s.diagnosis.load(rec.Diagnosis)
	s.treatment.load(rec.Treatment)
	if s.patient != nil {
		s.patient.loadPick(rec.UserID, clean(rec.UserID))
	}
}

// msgRecordChanged tells the user that their save was refused because the
// record changed since the form was filled (the server's 412), and how to
// get the current one.
const msgRecordChanged = "Someone else changed this record meanwhile; reload it. ctrl+r reloads (your edits here are replaced)."

// storedRecord is a record fetched for its version (init) or to reload the
// form (ctrl+r), told apart from the answer to a save.
type storedRecord struct {
	rec    model.MedicalRecord
	reload bool
}

func (s *recordFormScreen) init() tea.Cmd {
	cmd := s.form.init()
	if s.rec != nil && s.patient != nil {
		// Show who the record belongs to.
		id := s.rec.UserID
		cmd = tea.Batch(cmd, do(s.a, &s.screenBase, "owner", true, func(ctx context.Context, c *client.Client) (model.User, error) {
			return c.GetUser(ctx, id)
		}))
	}
	if s.rec != nil && s.version == 0 {
		// A record from a list comes without its version: fetch it, so
		// that saving sends If-Match.
		cmd = tea.Batch(cmd, s.fetch(false))
	}
	return cmd
}

// fetch reads the record as stored; reload refills the form with it.
func (s *recordFormScreen) fetch(reload bool) tea.Cmd {
	id := s.rec.ID
	return do(s.a, &s.screenBase, "version", true, func(ctx context.Context, c *client.Client) (storedRecord, error) {
		r, err := c.GetRecord(ctx, id)
		return storedRecord{rec: r, reload: reload}, err
	})
}

// sameRecord reports whether a and b hold the same writable fields.
func sameRecord(a, b model.MedicalRecord) bool {
	return a.UserID == b.UserID && a.PatientName == b.PatientName && a.DateOfBirth == b.DateOfBirth &&
		a.Diagnosis == b.Diagnosis && a.Treatment == b.Treatment && a.DateOfTreatment == b.DateOfTreatment &&
		a.Doctor == b.Doctor
}

// resume refits the text areas: a patient picked in the screen above may
// have cleared an error line.
func (s *recordFormScreen) resume() tea.Cmd {
	cmd := s.form.resume()
	s.fitAreas()
	return cmd
}

func (s *recordFormScreen) title() string {
	if s.rec != nil {
		return "Edit"
	}
	return "New record"
}

func (s *recordFormScreen) help() bindings {
	if s.rec == nil {
		return s.form.help("save", "cancel")
	}
	// An edit form can be refilled from what is stored (after a 412).
	return s.form.help("save", "cancel", s.form.a.keys.Reload)
}

// submit checks the fields with the model's rules and saves.
func (s *recordFormScreen) submit() tea.Cmd {
	if s.busy {
		return nil
	}
	a, f := s.a, s.form
	if s.stale {
		a.failText(msgRecordChanged)
		return nil
	}
	f.clearErrors()
	today := a.today()
	if s.patient != nil && s.patient.val() == "" {
		s.patient.err = "Choose the patient's account (press enter on this field)."
	}
	if msg := model.ValidateRecordName(s.name.val()); msg != "" {
		s.name.err = msg
	}
	dob, ok := f.checkDate(s.dob, true)
	if ok {
		if msg := model.ValidateDateOfBirth(dob, today); msg != "" {
			s.dob.err = msg
		}
	}
	treated, ok := f.checkDate(s.treatedOn, true)
	if ok && (s.rec == nil || s.treatedOn.changed()) {
		if msg := model.ValidateTreatmentDate(treated, today); msg != "" {
			s.treatedOn.err = msg
		}
	}
	if msg := model.ValidateRecordName(s.doctor.val()); msg != "" {
		s.doctor.err = msg
	}
	if msg := model.ValidateRecordText(s.diagnosis.val()); msg != "" {
		s.diagnosis.err = msg
	}
	if msg := model.ValidateRecordText(s.treatment.val()); msg != "" {
		s.treatment.err = msg
	}
	if f.hasErrors() {
		f.flag()
		return f.focusFirstError()
	}
	if s.rec == nil {
		in := client.RecordInput{
			PatientName:     s.name.val(),
			DateOfBirth:     dob,
			Diagnosis:       s.diagnosis.val(),
			Treatment:       s.treatment.val(),
			DateOfTreatment: treated,
			Doctor:          s.doctor.val(),
		}
		if s.patient != nil {
			in.UserID = s.patient.val()
		}
		return send(&s.formScreen, a, &s.screenBase, "save", true, func(ctx context.Context, c *client.Client) (model.MedicalRecord, error) {
			return c.CreateRecord(ctx, in)
		})
	}
	// Only what the user edited is sent: a field left alone keeps its
	// stored bytes, even when they are shown differently.
	var p client.RecordPatch
	changed := false
	str := func(fl *field, dst **string) {
		if fl != nil && fl.changed() {
			v := fl.val()
			*dst = &v
			changed = true
		}
	}
	str(s.patient, &p.UserID)
	str(s.name, &p.PatientName)
	str(s.doctor, &p.Doctor)
	str(s.diagnosis, &p.Diagnosis)
	str(s.treatment, &p.Treatment)
	if s.dob.changed() {
		p.DateOfBirth, changed = &dob, true
	}
	if s.treatedOn.changed() {
		p.DateOfTreatment, changed = &treated, true
	}
	if !changed {
		a.notify("Nothing changed.")
		return a.pop()
	}
	id := s.rec.ID
	p.IfVersion = s.version
	return send(&s.formScreen, a, &s.screenBase, "save", true, func(ctx context.Context, c *client.Client) (model.MedicalRecord, error) {
		return c.PatchRecord(ctx, id, p)
	})
}

func (s *recordFormScreen) update(msg tea.Msg) tea.Cmd {
	defer s.fitAreas() // errors shown or fixed change the room left
	a := s.a
	switch msg := msg.(type) {
	case result[model.User]: // owner
		if msg.err == nil && s.patient != nil {
			u := msg.val
			if s.patient.value == u.ID {
				s.patient.text = clean(u.Email) + "  " + clean(u.FullName())
			}
		}
		return nil
	case result[storedRecord]:
		if msg.err != nil {
			a.fail(msg.err)
			return nil
		}
		got := msg.val.rec
		switch {
		case msg.val.reload:
			r := got
			s.rec, s.version, s.stale = &r, got.Version, false
			s.load(got)
			a.notify("Reloaded the record as stored now.")
		case sameRecord(got, *s.rec):
			s.version = got.Version
		default:
			// The list was older than the record: saving now would
			// overwrite what someone else saved.
			s.stale = true
			a.failText(msgRecordChanged)
		}
		return nil
	case result[model.MedicalRecord]: // save
		if client.IsChanged(msg.err) {
			// The form stays open with the user's edits.
			s.busy, s.stale = false, true
			a.failText(msgRecordChanged)
			return nil
		}
		if cmd, ok := s.answered(msg.err); !ok {
			return cmd
		}
		rec := msg.val
		if s.rec == nil && s.created != nil {
			s.created(rec) // before pop, whose resume reloads the list
		}
		cmd := a.pop()
		if s.rec == nil {
			a.notify("Record created for " + clean(rec.PatientName) + ".")
		} else {
			a.notify("Record saved.")
		}
		return cmd
	case tea.KeyMsg:
		if key.Matches(msg, s.form.a.keys.Reload) && s.rec != nil && !s.busy {
			return s.fetch(true)
		}
	}
	return s.inputAsking(a, msg, a.pop)
}

func (s *recordFormScreen) layout(w, h int) {
	s.form.setWidth(w - 4)
	s.height = h
	s.fitAreas()
}

// fitAreas shares the height left by the page title, the other fields,
// their error lines and the buttons between the two text areas, so they
// show as much as the window allows and the buttons stay in sight as
// errors come and go.
func (s *recordFormScreen) fitAreas() {
	const title = 2 // the title line and a blank line
	s.form.setAreaHeight((s.height - title - s.form.rowsBesideAreas()) / 2)
}

func (s *recordFormScreen) view(w, h int) string {
	title, sub := "New medical record", "dates are YYYY-MM-DD · ctrl+s saves"
	if s.rec != nil {
		title = "Edit record"
		sub = clean(s.rec.PatientName) + ", " + s.rec.DateOfTreatment.String()
	}
	return s.a.page(title, sub, s.form.view())
}
