package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

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
