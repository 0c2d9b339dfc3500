package tui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
)

// accessLogFilters narrow an access log: a first day and one record.
type accessLogFilters struct {
	since *model.Date
	// recordID keeps the events about that record or that served it;
	// recordLabel names it in the subtitle.
	recordID, recordLabel string
}

func (f accessLogFilters) empty() bool { return f.since == nil && f.recordID == "" }

// describe is the filters in a few words for the log's subtitle.
func (f accessLogFilters) describe() string {
	var parts []string
	if f.recordID != "" {
		label := f.recordLabel
		if label == "" {
			label = "record " + shortID(f.recordID)
		}
		parts = append(parts, label)
	}
	if f.since != nil {
		parts = append(parts, "since "+f.since.String())
	}
	return strings.Join(parts, ", ")
}

// accessLogFiltersScreen edits an access log's filters.
type accessLogFiltersScreen struct {
	screenBase
	formScreen
	since  *field
	record *field
	cur    accessLogFilters
	apply  func(accessLogFilters) tea.Cmd
}

func newAccessLogFiltersScreen(a *app, cur accessLogFilters, apply func(accessLogFilters) tea.Cmd) *accessLogFiltersScreen {
	s := &accessLogFiltersScreen{screenBase: a.newBase(), formScreen: formScreen{form: newForm(a)}, cur: cur, apply: apply}
	f := s.form
	s.since = f.date("since", "Since", "optional, from the start of that day (UTC)")
	if cur.since != nil {
		s.since.set(cur.since.String())
	}
	s.record = f.text("record_id", "Record ID", "any record", 36)
	s.record.set(cur.recordID)
	f.button("Apply", s.submit)
	f.button("Clear all", func() tea.Cmd {
		return tea.Batch(s.apply(accessLogFilters{}), a.pop())
	})
	f.button("Cancel", a.pop)
	f.submit = s.submit
	return s
}

func (s *accessLogFiltersScreen) title() string  { return "Filters" }
func (s *accessLogFiltersScreen) help() bindings { return s.form.help("apply", "cancel") }

func (s *accessLogFiltersScreen) submit() tea.Cmd {
	f := s.form
	f.clearErrors()
	var out accessLogFilters
	if d, ok := f.checkDate(s.since, false); ok {
		out.since = &d
	}
	if id := strings.ToLower(s.record.val()); id != "" {
		if !model.ValidUUID(id) {
			s.record.err = "Not a record ID: paste one from a record's view (Record ID)."
		}
		out.recordID = id
		if id == s.cur.recordID {
			out.recordLabel = s.cur.recordLabel
		}
	}
	if f.hasErrors() {
		return f.focusFirstError()
	}
	return tea.Batch(s.apply(out), s.a.pop())
}

func (s *accessLogFiltersScreen) update(msg tea.Msg) tea.Cmd { return s.input(msg, s.a.pop) }

func (s *accessLogFiltersScreen) layout(w, _ int) { s.form.setWidth(w - 4) }

func (s *accessLogFiltersScreen) view(w, h int) string {
	return s.a.page("Filter who accessed", "leave a field empty to not filter by it", s.form.view())
}
