package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// newSearchInput is a list screen's `/` search line, hinting at what it
// searches.
func newSearchInput(a *app, placeholder string) textinput.Model {
	in := textinput.New()
	in.Prompt = "/ "
	in.Placeholder = placeholder
	in.CharLimit = 200
	a.st.styleInput(&in)
	in.PromptStyle = a.st.Accent
	if !a.motion {
		in.Cursor.SetMode(cursor.CursorStatic)
	}
	return in
}

// editSearch handles a key while a list screen's `/` search line is open:
// enter closes it and stores the trimmed text in search (submitted is then
// true and the caller reloads), esc closes it unchanged, up and down still
// move the list underneath, and anything else edits the text.
func editSearch(msg tea.KeyMsg, input *textinput.Model, searching *bool, search *string, l *list) (submitted bool, cmd tea.Cmd) {
	switch msg.String() {
	case "enter":
		*searching = false
		input.Blur()
		*search = strings.TrimSpace(input.Value())
		return true, nil
	case "esc":
		*searching = false
		input.Blur()
		return false, nil
	case "up", "down":
		l.update(msg)
		return false, nil
	}
	*input, cmd = input.Update(msg)
	return false, cmd
}
