package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/table"
	tea "github.com/charmbracelet/bubbletea"
)

// column describes a list column: a fixed width, or a share (weight) of
// the room left after the fixed ones.
type column struct {
	title  string
	width  int
	weight int
}

// list wraps the bubbles table for the records, users and audit screens.
// The first column is a ▸ marker on the selected row, so the selection is
// visible without colour (NO_COLOR).
type list struct {
	a      *app
	t      table.Model
	cols   []column
	rows   [][]string
	width  int    // the size of the last setSize
	height int    //
	cached string // the table's rendering, "" after any change
}

func newList(a *app, cols ...column) *list {
	l := &list{a: a, cols: cols}
	l.t = l.newTable()
	l.setSize(80, 10)
	return l
}

// newTable is an empty bubbles table with this UI's keys and styles.
func (l *list) newTable() table.Model {
	return table.New(table.WithFocused(true), table.WithKeyMap(tableKeys()), table.WithStyles(l.a.st.Table))
}

// setSize lays the table out in w×h cells (h includes the header).
func (l *list) setSize(w, h int) {
	l.width, l.height = w, h
	n := len(l.cols) + 1
	room := w - 2*n - 1 // cell padding and the marker
	fixed, weights := 0, 0
	for _, c := range l.cols {
		fixed += c.width
		weights += c.weight
	}
	flex := max(room-fixed, 0)
	cols := make([]table.Column, 0, n)
	cols = append(cols, table.Column{Title: " ", Width: 1})
	given := 0
	for i, c := range l.cols {
		width := c.width
		if c.weight > 0 {
			width = flex * c.weight / max(weights, 1)
			if i == len(l.cols)-1 || lastFlex(l.cols, i) {
				width = flex - given
			}
			given += width
			width = max(width, 3)
		}
		cols = append(cols, table.Column{Title: c.title, Width: width})
	}
	l.t.SetColumns(cols)
	l.t.SetWidth(max(w, 1))
	l.t.SetHeight(max(h, 3))
	l.cached = ""
}

// lastFlex reports whether column i is the last one with a weight.
func lastFlex(cols []column, i int) bool {
	for _, c := range cols[i+1:] {
		if c.weight > 0 {
			return false
		}
	}
	return true
}

// setRows replaces the rows (already sanitised cells), keeping the cursor
// in range.
func (l *list) setRows(rows [][]string) {
	l.rows = rows
	l.render()
}

// render builds the table rows with the marker on the cursor row.
func (l *list) render() {
	cur := l.t.Cursor()
	if cur < 0 && len(l.rows) > 0 {
		cur = 0
	}
	if cur >= len(l.rows) {
		cur = len(l.rows) - 1
	}
	out := make([]table.Row, len(l.rows))
	for i, r := range l.rows {
		row := make(table.Row, 0, len(r)+1)
		if i == cur {
			row = append(row, "▸")
		} else {
			row = append(row, " ")
		}
		out[i] = append(row, r...)
	}
	l.t.SetRows(out)
	if cur >= 0 && l.t.Cursor() != cur {
		l.t.SetCursor(cur)
	}
	l.cached = ""
}

func (l *list) cursor() int {
	if len(l.rows) == 0 {
		return -1
	}
	return l.t.Cursor()
}

// setCursor selects row i and scrolls it into view. The bubbles table
// scrolls only in its own relative moves (MoveUp, MoveDown); its SetCursor
// keeps the scroll offset of the old position, so after G and a page change
// the new page opened scrolled by a row, its first row and the cursor out of
// sight. A fresh table (no offset) moved down by i scrolls as the keys do.
func (l *list) setCursor(i int) {
	l.t = l.newTable()
	l.setSize(l.width, l.height)
	l.render()
	if i > 0 {
		l.t.MoveDown(i)
		l.render()
	}
}

// update moves the selection for navigation keys.
func (l *list) update(msg tea.Msg) {
	before := l.t.Cursor()
	l.t, _ = l.t.Update(msg)
	l.cached = ""
	if l.t.Cursor() != before {
		l.render()
	}
}

// view renders the table, reusing the last rendering while nothing changed
// (the bubbles table re-renders every visible row on each View).
func (l *list) view() string {
	if l.cached == "" {
		l.cached = l.t.View()
	}
	return l.cached
}

// emptyView is the table's header with a message under it.
func (l *list) emptyView(msg string) string {
	head := strings.SplitN(l.t.View(), "\n", 3)
	var b strings.Builder
	if len(head) >= 2 {
		b.WriteString(head[0] + "\n" + head[1] + "\n")
	}
	b.WriteString("\n  " + msg)
	return b.String()
}
