package tui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// card renders an auth screen: a title, a line under it and the content in
// a rounded box centred in width×height, or plainly when the box does not
// fit.
func (a *app) card(title, subtitle, content string, width, height int) string {
	st := a.st
	inner := st.Title.Render(title)
	if subtitle != "" {
		inner += "\n" + st.Subtitle.Render(subtitle)
	}
	inner += "\n\n" + content
	box := st.Card.Render(inner)
	if lipgloss.Width(box) <= width && lipgloss.Height(box) <= height {
		return st.r.Place(width, height, lipgloss.Center, lipgloss.Center, box,
			lipgloss.WithWhitespaceChars(" "))
	}
	return indent(inner, 2)
}

// page renders an in-app screen: a title line, an optional subtitle and the
// content under it, indented from the left edge.
func (a *app) page(title, subtitle, content string) string {
	var b strings.Builder
	b.WriteString(a.st.Title.Render(title))
	if subtitle != "" {
		b.WriteString(a.st.Faint.Render("  ·  ") + a.st.Subtitle.Render(subtitle))
	}
	b.WriteString("\n\n")
	b.WriteString(content)
	return indent(b.String(), 2)
}

// indent prefixes every line of s with n spaces.
func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}

// formWidth is the width a form gets inside a card on a window this wide.
func cardFormWidth(width int) int { return min(max(width-16, 30), 58) }

// wrapWords wraps plain text (no escape sequences) to limit columns,
// breaking lines only at spaces; a word longer than a line is cut. It is for
// dialog sentences: lipgloss wraps after hyphens too, which split a date in
// two ("2027-01-" / "14").
func wrapWords(s string, limit int) string {
	limit = max(limit, 1)
	var b strings.Builder
	for i, para := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		col := 0
		for _, w := range strings.FieldsFunc(para, func(r rune) bool { return r == ' ' }) {
			ww := lipgloss.Width(w)
			switch {
			case col > 0 && col+1+ww > limit:
				b.WriteByte('\n')
				col = 0
			case col > 0:
				b.WriteByte(' ')
				col++
			}
			if ww > limit {
				w = ansi.Hardwrap(w, limit, false)
				ww = lipgloss.Width(w[strings.LastIndexByte(w, '\n')+1:])
			}
			b.WriteString(w)
			col += ww
		}
	}
	return b.String()
}
