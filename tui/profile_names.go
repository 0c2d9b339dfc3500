package tui

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// profileNamesScreen edits the signed-in user's first and last name.
type profileNamesScreen struct {
	screenBase
	formScreen
	first *field
	last  *field
}

func newProfileNamesScreen(a *app) *profileNamesScreen {
	s := &profileNamesScreen{screenBase: a.newBase(), formScreen: formScreen{form: newForm(a)}}
	f := s.form
	s.first = f.text("first_name", "First name", "", model.MaxNameLength)
	s.last = f.text("last_name", "Last name", "", model.MaxNameLength)
	if a.user != nil {
		s.first.load(a.user.FirstName)
		s.last.load(a.user.LastName)
	}
	f.button("Save", s.submit)
	f.button("Cancel", func() tea.Cmd { return s.leave(a, a.pop) })
	f.submit = s.submit
	return s
}

func (s *profileNamesScreen) title() string  { return "Name" }
func (s *profileNamesScreen) help() bindings { return s.form.help("save", "cancel") }

func (s *profileNamesScreen) submit() tea.Cmd {
	if s.busy {
		return nil
	}
	f := s.form
	f.clearErrors()
	first, last := s.first.val(), s.last.val()
	if msg := model.ValidateName(first); msg != "" {
		s.first.err = msg
	}
	if msg := model.ValidateName(last); msg != "" {
		s.last.err = msg
	}
	if f.hasErrors() {
		return f.focusFirstError()
	}
	// Only a name the user edited is sent: one left alone keeps its stored
	// bytes, even when it is shown differently.
	var p client.UserPatch
	if s.first.changed() {
		p.FirstName = &first
	}
	if s.last.changed() {
		p.LastName = &last
	}
	if p.FirstName == nil && p.LastName == nil {
		s.a.notify("Nothing changed.")
		return s.a.pop()
	}
	return send(&s.formScreen, s.a, &s.screenBase, "save", true, func(ctx context.Context, c *client.Client) (model.User, error) {
		return c.UpdateMe(ctx, p)
	})
}

func (s *profileNamesScreen) update(msg tea.Msg) tea.Cmd {
	a := s.a
	switch msg := msg.(type) {
	case result[model.User]:
		if cmd, ok := s.answered(msg.err); !ok {
			return cmd
		}
		u := msg.val
		a.user = &u
		cmd := a.pop()
		a.notify("Name saved.")
		return cmd
	}
	return s.inputAsking(a, msg, a.pop)
}

func (s *profileNamesScreen) layout(w, _ int) { s.form.setWidth(w - 4) }

func (s *profileNamesScreen) view(w, h int) string {
	return s.a.page("Edit your name", "as staff and records will show it", s.form.view())
}
