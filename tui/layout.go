package tui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
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
