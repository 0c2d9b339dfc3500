package tui

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/tui/client"
)

// formScreen is what every form screen shares: it holds the form and answers
// init, resume and typing for it (a form always takes typed text, so `q`
// does not quit), sends the form's request and takes its answer. A screen
// that needs more at init defines its own init, which takes precedence over
// this one.
type formScreen struct {
	form *form
	// busy is set while the form's request is in flight; submit ignores
	// the form until the answer arrives.
	busy bool
}

func (s *formScreen) init() tea.Cmd   { return s.form.init() }
func (s *formScreen) resume() tea.Cmd { return s.form.resume() }
func (s *formScreen) typing() bool    { return true }

// send starts the form's request as op on the screen's behalf: it clears
// the banner and marks the form busy until answered is called.
func send[T any](s *formScreen, a *app, base *screenBase, op string, auth bool, fn func(context.Context, *client.Client) (T, error)) tea.Cmd {
	a.clearBanner()
	s.busy = true
	return do(a, base, op, auth, fn)
}

// answered ends the request send started. When it failed, it reports false
// with the command that shows the server's errors on the form.
func (s *formScreen) answered(err error) (tea.Cmd, bool) {
	s.busy = false
	if err != nil {
		return s.form.apiError(err), false
	}
	return nil, true
}

// input handles what reaches a form screen besides its answers: esc runs
// back, everything else goes to the form.
func (s *formScreen) input(msg tea.Msg, back func() tea.Cmd) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok && k.String() == "esc" {
		return back()
	}
	return s.form.update(msg)
}

// inputAsking is input for a form that holds data the user typed: esc
// leaves it as leave does.
func (s *formScreen) inputAsking(a *app, msg tea.Msg, back func() tea.Cmd) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok && k.String() == "esc" {
		return s.leave(a, back)
	}
	return s.form.update(msg)
}

// leave runs back at once when the form is untouched; when the user changed
// it, it asks "Discard changes?" first (No is the default, so enter keeps
// editing) instead of throwing the changes away.
func (s *formScreen) leave(a *app, back func() tea.Cmd) tea.Cmd {
	// While a save is in flight its answer closes the form: no dialog then.
	if s.busy || !s.form.dirty() {
		return back()
	}
	c := newConfirmScreen(a, "Discard changes?", "What you changed in this form will be lost.", "Discard", back)
	c.keep = "Keep editing"
	return a.push(c)
}
