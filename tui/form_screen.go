package tui

import tea "github.com/charmbracelet/bubbletea"

// formScreen is what every form screen shares: it holds the form and answers
// init, resume and typing for it (a form always takes typed text, so `q`
// does not quit). A screen that needs more at init defines its own init,
// which takes precedence over this one.
type formScreen struct {
	form *form
}

func (s formScreen) init() tea.Cmd   { return s.form.init() }
func (s formScreen) resume() tea.Cmd { return s.form.resume() }
func (s formScreen) typing() bool    { return true }
