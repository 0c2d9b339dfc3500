package tui

import (
	"net/http"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// pagedList is what the paged list screens hold: the table, the page of
// items it shows, the totals the server reported, and the sequence number
// that tells the current load from older ones.
//
// A list walks by cursor (keyset pagination), so that turning pages while
// others add or delete rows never shows a row twice or skips one; pageNo
// is then the count of pages turned, corrected at either end, for the
// "page 2 of 5" the screen shows. A list whose endpoint takes no cursor
// (an account's API tokens, a few rows) pages by number (byNumber).
type pagedList[T any] struct {
	list   *list
	items  []T
	count  int
	pages  int
	pageNo int
	loaded bool
	seq    int
	// size is the page size asked for; 0 is model.DefaultPageSize.
	size int
	// byNumber pages by number instead of by cursor.
	byNumber bool
	// at is the cursor the current page is loaded from, "" for the first
	// page; next and prev are its neighbours' cursors from the last load,
	// "" at the ends.
	at, next, prev string
}

// pageSize is the page size asked for.
func (p *pagedList[T]) pageSize() int {
	if p.size == 0 {
		return model.DefaultPageSize
	}
	return p.size
}

// pageArgs are the pagination arguments of the current page's request,
// for the client's query types: a page number, or a walk by cursor from at.
func (p *pagedList[T]) pageArgs() (page, size int, byCursor bool, cursor string) {
	if p.byNumber {
		return p.pageNo, p.pageSize(), false, ""
	}
	return 0, p.pageSize(), true, p.at
}

// first goes back to the first page (after the search, filters or order
// changed); the caller then loads it.
func (p *pagedList[T]) first() {
	p.pageNo = 1
	p.at, p.next, p.prev = "", "", ""
}

// take stores a loaded page; the caller then fills the table's rows.
func (p *pagedList[T]) take(page model.Page[T]) {
	p.loaded = true
	p.items = page.Results
	p.count = page.Count
	if p.byNumber {
		p.pages = max(page.NumberOfPages, 1)
		return
	}
	p.pages = model.PageCount(page.Count, p.pageSize())
	p.next, p.prev = "", ""
	if page.Cursors != nil {
		if page.NextCursor != nil {
			p.next = *page.NextCursor
		}
		if page.PreviousCursor != nil {
			p.prev = *page.PreviousCursor
		}
	}
	// The page number is counted, not told: rows added or deleted before
	// the page move it. It is right again at either end. A page with
	// nothing before it is the first, whatever cursor loaded it (one back
	// from the second page): loaded again, larger or refreshed, it starts
	// at the top.
	switch {
	case p.prev == "":
		p.pageNo, p.at = 1, ""
	case p.next == "":
		p.pageNo = p.pages
	default:
		p.pageNo = min(max(p.pageNo, 2), max(p.pages-1, 2))
	}
}

// turnPage moves step pages on (+1) or back (-1) when that page exists,
// with the cursor on its first row (the table would otherwise keep the old
// page's scroll and hide it), and reports whether it moved: the caller then
// loads the page.
func (p *pagedList[T]) turnPage(step int) bool {
	n := p.pageNo + step
	if p.byNumber {
		if n < 1 || n > p.pages {
			return false
		}
	} else {
		c := p.next
		if step < 0 {
			c = p.prev
		}
		if c == "" {
			return false
		}
		p.at = c
	}
	p.pageNo = max(n, 1)
	p.list.setCursor(0)
	return true
}

// settle is what every paged list does with a finished load: an answer to
// an older request (stale) is dropped; a page that vanished under the user
// is loaded again: by number (404 past page 1, because rows were deleted
// meanwhile) at page fallback, by cursor (400: a cursor this server no
// longer opens, its keys rotated) from the first page; other errors are
// shown. show says the caller should display the page it got.
func (p *pagedList[T]) settle(a *app, err error, stale bool, fallback int, load func() tea.Cmd) (show bool, cmd tea.Cmd) {
	switch {
	case stale:
		return false, nil
	case err == nil:
		return true, nil
	case p.byNumber && client.IsStatus(err, http.StatusNotFound) && p.pageNo > 1:
		p.pageNo = fallback
		return false, load()
	case !p.byNumber && client.IsStatus(err, http.StatusBadRequest) && p.at != "":
		p.first()
		return false, load()
	}
	a.fail(err)
	return false, nil
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
