package tui

import (
	"net/http"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/tui/client"
)

// pageLoaded is what every paged list does with a finished load: an answer
// to an older request (stale) is dropped; a page that vanished under the user
// (404 past page 1, because rows were deleted meanwhile) is loaded again at
// page fallback; other errors are shown. show says the caller should display
// the page it got.
func (a *app) pageLoaded(err error, stale bool, pageNo *int, fallback int, load func() tea.Cmd) (show bool, cmd tea.Cmd) {
	switch {
	case stale:
		return false, nil
	case err == nil:
		return true, nil
	case client.IsStatus(err, http.StatusNotFound) && *pageNo > 1:
		*pageNo = fallback
		return false, load()
	}
	a.fail(err)
	return false, nil
}
