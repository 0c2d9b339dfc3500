package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// confirmScreen asks a yes/no question before a destructive action. Yes
// closes it and runs the action; no (or esc) just closes it.
type confirmScreen struct {
	screenBase
	heading  string
	question string
	verb     string
	keep     string // the label of the safe choice
	yes      func() tea.Cmd
	onYes    bool // which button has the focus
}

func newConfirmScreen(a *app, heading, question, verb string, yes func() tea.Cmd) *confirmScreen {
	return &confirmScreen{screenBase: a.newBase(), heading: heading, question: question, verb: verb, keep: "Cancel", yes: yes}
}

func (s *confirmScreen) init() tea.Cmd { return nil }
func (s *confirmScreen) title() string { return s.heading }
func (s *confirmScreen) typing() bool  { return false }

func (s *confirmScreen) help() bindings {
	k := s.a.keys
	return bindings{short: []key.Binding{k.Yes, k.No}, full: [][]key.Binding{{k.Yes, k.No}}}
}

func (s *confirmScreen) update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	a, k := s.a, s.a.keys
	switch {
	case key.Matches(km, k.Yes):
		return s.confirm()
	case key.Matches(km, k.No):
		return a.pop()
	}
	switch km.String() {
	case "left", "right", "tab", "shift+tab", "h", "l":
		s.onYes = !s.onYes
	case "enter":
		if s.onYes {
			return s.confirm()
		}
		return a.pop()
	}
	return nil
}

// confirm closes the dialog without refreshing the screen below (the
// action will) and runs the action.
func (s *confirmScreen) confirm() tea.Cmd {
	a := s.a
	a.stack = a.stack[:len(a.stack)-1]
	return s.yes()
}

func (s *confirmScreen) view(w, h int) string {
	st := s.a.st
	no, yes := st.ButtonFoc.Render(s.keep), st.Button.Render(s.verb)
	if s.onYes {
		no, yes = st.Button.Render(s.keep), st.ButtonFoc.Render(s.verb)
	}
	question := s.question
	if limit := max(min(w-12, 60), 10); lipgloss.Width(question) > limit {
		question = wrapWords(question, limit)
	}
	body := st.Error.Bold(true).Render(s.heading) + "\n\n" + st.Text.Render(question) + "\n\n" +
		no + "  " + yes + "\n\n" + st.Faint.Render("y "+strings.ToLower(s.verb)+" · n/esc "+strings.ToLower(s.keep))
	return st.r.Place(w, h, 0.5, 0.4, st.Dialog.Render(body))
}
