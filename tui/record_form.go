package tui

import (
	"context"

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

	// created, if set, is told the record a new-record form stored.
	created func(model.MedicalRecord)
}

func newRecordFormScreen(a *app, rec *model.MedicalRecord) *recordFormScreen {
	s := &recordFormScreen{screenBase: a.newBase(), formScreen: formScreen{form: newForm(a)}}
	if rec != nil {
		r := *rec
		s.rec = &r
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
		// Each field starts from the stored value, shown inert; only the
		// fields the user edits are sent (see submit).
		s.name.load(rec.PatientName)
		s.dob.load(rec.DateOfBirth.String())
		s.treatedOn.load(rec.DateOfTreatment.String())
		s.doctor.load(rec.Doctor)
		s.diagnosis.load(rec.Diagnosis)
		s.treatment.load(rec.Treatment)
		if s.patient != nil {
			s.patient.loadPick(rec.UserID, clean(rec.UserID))
		}
	case !a.isStaff() && a.user != nil:
		// A patient's new record is about themselves: suggest their name
		// (saved as stored in the account unless edited).
		s.name.load(a.user.FullName())
	}
	return s
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
	return cmd
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

func (s *recordFormScreen) help() bindings { return s.form.help("save", "cancel") }

// submit checks the fields with the model's rules and saves.
func (s *recordFormScreen) submit() tea.Cmd {
	if s.busy {
		return nil
	}
	a, f := s.a, s.form
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
	case result[model.MedicalRecord]: // save
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
