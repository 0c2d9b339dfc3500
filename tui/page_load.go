package tui

import (
	"net/http"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
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

// pagedList is what the paged list screens (records, users, audit) hold: the
// table, the page of items it shows, the totals the server reported, and the
// sequence number that tells the current load from older ones.
type pagedList[T any] struct {
	list   *list
	items  []T
	count  int
	pages  int
	pageNo int
	loaded bool
	seq    int
}

// take stores a loaded page; the caller then fills the table's rows.
func (p *pagedList[T]) take(page model.Page[T]) {
	p.loaded = true
	p.items = page.Results
	p.count = page.Count
	p.pages = max(page.NumberOfPages, 1)
}

// turnPage moves step pages on (+1) or back (-1) when that page exists,
// with the cursor on its first row (the table would otherwise keep the old
// page's scroll and hide it), and reports whether it moved: the caller then
// loads the page.
func (p *pagedList[T]) turnPage(step int) bool {
	n := p.pageNo + step
	if n < 1 || n > p.pages {
		return false
	}
	p.pageNo = n
	p.list.setCursor(0)
	return true
}

// pageKey handles the keys every paged list shares: the next and previous
// page, and refresh. handled reports whether msg was one of them, load
// whether the caller should load the current page now.
func (p *pagedList[T]) pageKey(k *keyMap, msg tea.KeyMsg) (handled, load bool) {
	switch {
	case key.Matches(msg, k.NextPage):
		return true, p.turnPage(1)
	case key.Matches(msg, k.PrevPage):
		return true, p.turnPage(-1)
	case key.Matches(msg, k.Refresh):
		return true, true
	}
	return false, false
}

// selected is the item under the cursor, or nil.
func (p *pagedList[T]) selected() *T {
	i := p.list.cursor()
	if i < 0 || i >= len(p.items) {
		return nil
	}
	return &p.items[i]
}

// body is the table: a spinner line until the first page arrives, empty
// (already styled) when the page has no items, else the rows.
func (p *pagedList[T]) body(a *app, loading, empty string) string {
	switch {
	case !p.loaded:
		return p.list.emptyView(a.spinnerView() + a.st.Muted.Render(" "+loading))
	case len(p.items) == 0:
		return p.list.emptyView(empty)
	default:
		return p.list.view()
	}
}
