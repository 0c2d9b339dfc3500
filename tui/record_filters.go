package tui

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
)

// recordFiltersScreen edits the records list's filters: doctor, a treatment
// date range and, for staff, the patient account.
type recordFiltersScreen struct {
	screenBase
	formScreen
	doctor  *field
	after   *field
	before  *field
	patient *field
	apply   func(recordFilters) tea.Cmd
}

func newRecordFiltersScreen(a *app, cur recordFilters, apply func(recordFilters) tea.Cmd) *recordFiltersScreen {
	s := &recordFiltersScreen{screenBase: a.newBase(), formScreen: formScreen{form: newForm(a)}, apply: apply}
	f := s.form
	s.doctor = f.text("doctor", "Doctor", "full name, e.g. Dr. Grey", model.MaxRecordNameLength)
	s.doctor.set(cur.doctor)
	s.after = f.date("date_of_treatment_after", "Treated from", "optional, inclusive")
	s.before = f.date("date_of_treatment_before", "Treated until", "optional, inclusive")
	if cur.after != nil {
		s.after.set(cur.after.String())
	}
	if cur.before != nil {
		s.before.set(cur.before.String())
	}
	if a.isStaff() {
		s.patient = f.picker("user_id", "Patient account", "all patients", func() tea.Cmd {
			return a.push(newUsersScreen(a, func(u model.User) tea.Cmd {
				s.patient.value = u.ID
				s.patient.text = clean(u.Email)
				return nil
			}))
		})
		s.patient.value, s.patient.text = cur.userID, cur.userLabel
	}
	f.button("Apply", s.submit)
	f.button("Clear all", func() tea.Cmd {
		cmd := s.apply(recordFilters{})
		return tea.Batch(cmd, a.pop())
	})
	f.button("Cancel", a.pop)
	f.submit = s.submit
	return s
}

func (s *recordFiltersScreen) title() string  { return "Filters" }
func (s *recordFiltersScreen) help() bindings { return s.form.help("apply", "cancel") }

func (s *recordFiltersScreen) submit() tea.Cmd {
	f := s.form
	f.clearErrors()
	var out recordFilters
	out.doctor = s.doctor.val()
	if d, ok := f.checkDate(s.after, false); ok {
		out.after = &d
	}
	if d, ok := f.checkDate(s.before, false); ok {
		out.before = &d
	}
	if out.after != nil && out.before != nil && out.before.Before(*out.after) {
		s.before.err = "Must not be earlier than the “treated from” date."
	}
	if s.patient != nil {
		out.userID, out.userLabel = s.patient.value, s.patient.text
	}
	if f.hasErrors() {
		return f.focusFirstError()
	}
	cmd := s.apply(out)
	return tea.Batch(cmd, s.a.pop())
}

func (s *recordFiltersScreen) update(msg tea.Msg) tea.Cmd {
	return s.input(msg, s.a.pop)
}

func (s *recordFiltersScreen) layout(w, _ int) { s.form.setWidth(w - 4) }

func (s *recordFiltersScreen) view(w, h int) string {
	return s.a.page("Filter records", "leave a field empty to not filter by it", s.form.view())
}
