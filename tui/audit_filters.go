package tui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
)

// auditFilters narrow the audit log: an action, who acted, which account
// the event is about, and a first day.
type auditFilters struct {
	action               string
	actorID, actorLabel  string
	entityID, entityText string
	since                *model.Date
}

// describe is the filters in a few words for the log's subtitle.
func (f auditFilters) describe() string {
	var parts []string
	if f.action != "" {
		parts = append(parts, f.action)
	}
	if f.actorID != "" {
		parts = append(parts, "by "+f.actorLabel)
	}
	if f.entityID != "" {
		parts = append(parts, "about "+f.entityText)
	}
	if f.since != nil {
		parts = append(parts, "since "+f.since.String())
	}
	return strings.Join(parts, ", ")
}

// auditFiltersScreen edits the audit log's filters.
type auditFiltersScreen struct {
	screenBase
	formScreen
	action *field
	actor  *field
	about  *field
	since  *field
	apply  func(auditFilters) tea.Cmd
}

func newAuditFiltersScreen(a *app, cur auditFilters, apply func(auditFilters) tea.Cmd) *auditFiltersScreen {
	s := &auditFiltersScreen{screenBase: a.newBase(), formScreen: formScreen{form: newForm(a)}, apply: apply}
	f := s.form
	s.action = f.picker("action", "Action", "every action", func() tea.Cmd {
		return a.push(newAuditActionsScreen(a, func(action string) tea.Cmd {
			s.action.value, s.action.text = action, action
			return nil
		}))
	})
	s.action.value, s.action.text = cur.action, cur.action
	s.actor = f.picker("actor_id", "By", "anyone", func() tea.Cmd {
		return a.push(newUsersScreen(a, func(u model.User) tea.Cmd {
			s.actor.value, s.actor.text = u.ID, clean(u.Email)
			return nil
		}))
	})
	s.actor.value, s.actor.text = cur.actorID, cur.actorLabel
	s.about = f.picker("entity_id", "About account", "any", func() tea.Cmd {
		return a.push(newUsersScreen(a, func(u model.User) tea.Cmd {
			s.about.value, s.about.text = u.ID, clean(u.Email)
			return nil
		}))
	})
	s.about.value, s.about.text = cur.entityID, cur.entityText
	s.since = f.date("since", "Since", "optional, from the start of that day (UTC)")
	if cur.since != nil {
		s.since.set(cur.since.String())
	}
	f.button("Apply", s.submit)
	f.button("Clear all", func() tea.Cmd {
		return tea.Batch(s.apply(auditFilters{}), a.pop())
	})
	f.button("Cancel", a.pop)
	f.submit = s.submit
	return s
}

func (s *auditFiltersScreen) title() string  { return "Filters" }
func (s *auditFiltersScreen) help() bindings { return s.form.help("apply", "cancel") }

func (s *auditFiltersScreen) submit() tea.Cmd {
	f := s.form
	f.clearErrors()
	out := auditFilters{
		action:  s.action.value,
		actorID: s.actor.value, actorLabel: s.actor.text,
		entityID: s.about.value, entityText: s.about.text,
	}
	if d, ok := f.checkDate(s.since, false); ok {
		out.since = &d
	}
	if f.hasErrors() {
		return f.focusFirstError()
	}
	return tea.Batch(s.apply(out), s.a.pop())
}

func (s *auditFiltersScreen) update(msg tea.Msg) tea.Cmd { return s.input(msg, s.a.pop) }

func (s *auditFiltersScreen) layout(w, _ int) { s.form.setWidth(w - 4) }

func (s *auditFiltersScreen) view(w, h int) string {
	return s.a.page("Filter the audit log", "leave a field empty to not filter by it", s.form.view())
}
