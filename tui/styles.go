package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/table"
	"github.com/charmbracelet/bubbles/textarea"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/lipgloss"
)

// Adaptive colours: each reads on light and dark backgrounds. When the
// renderer's profile is Ascii (NO_COLOR, or output that is not a terminal)
// lipgloss drops every colour and attribute, so the layout never relies on
// colour alone: the selected row has a ▸ marker, errors a ✗ and so on.
const (
	colAccentLight, colAccentDark   = "#6B3FD4", "#A98BFF"
	colBrandBgLight, colBrandBgDark = "#6B3FD4", "#7D56F4"
	colBrandFgLight, colBrandFgDark = "#FFFFFF", "#FFFDF5"
	colPinkLight, colPinkDark       = "#C2185B", "#F78FB3"
	colTextLight, colTextDark       = "#1F1F1F", "#E8E8E8"
	colMutedLight, colMutedDark     = "#6E6E6E", "#9A9A9A"
	colFaintLight, colFaintDark     = "#A0A0A0", "#5C5C5C"
	colBorderLight, colBorderDark   = "#C8C8C8", "#4A4A4A"
	colErrorLight, colErrorDark     = "#C62828", "#FF6B6B"
	colSuccessLight, colSuccessDark = "#1B7F3B", "#5FD38D"
	colSelBgLight, colSelBgDark     = "#E6DDFF", "#3B2C6B"
	colSelFgLight, colSelFgDark     = "#2A1466", "#FFFFFF"
)

type adaptive = lipgloss.AdaptiveColor

// styles are every style the UI uses, built from one renderer so that an
// SSH session gets colours for its own terminal, not the server's.
type styles struct {
	r *lipgloss.Renderer

	Brand      lipgloss.Style
	Crumb      lipgloss.Style
	CrumbSep   lipgloss.Style
	User       lipgloss.Style
	Role       lipgloss.Style
	StaffRole  lipgloss.Style
	Title      lipgloss.Style
	Subtitle   lipgloss.Style
	Text       lipgloss.Style
	Muted      lipgloss.Style
	Faint      lipgloss.Style
	Accent     lipgloss.Style
	Error      lipgloss.Style
	Success    lipgloss.Style
	ErrBanner  lipgloss.Style
	InfoBanner lipgloss.Style
	Card       lipgloss.Style
	Dialog     lipgloss.Style
	Label      lipgloss.Style
	LabelFocus lipgloss.Style
	Button     lipgloss.Style
	ButtonFoc  lipgloss.Style
	Prompt     lipgloss.Style
	PromptFoc  lipgloss.Style
	Hint       lipgloss.Style
	Key        lipgloss.Style
	Value      lipgloss.Style
	Section    lipgloss.Style
	Chip       lipgloss.Style
	Spinner    lipgloss.Style
	Table      table.Styles
	Help       help.Styles
}

func newStyles(r *lipgloss.Renderer) *styles {
	s := &styles{r: r}
	n := r.NewStyle
	var (
		colAccent  = adaptive{Light: colAccentLight, Dark: colAccentDark}
		colBrandBg = adaptive{Light: colBrandBgLight, Dark: colBrandBgDark}
		colBrandFg = adaptive{Light: colBrandFgLight, Dark: colBrandFgDark}
		colPink    = adaptive{Light: colPinkLight, Dark: colPinkDark}
		colText    = adaptive{Light: colTextLight, Dark: colTextDark}
		colMuted   = adaptive{Light: colMutedLight, Dark: colMutedDark}
		colFaint   = adaptive{Light: colFaintLight, Dark: colFaintDark}
		colBorder  = adaptive{Light: colBorderLight, Dark: colBorderDark}
		colError   = adaptive{Light: colErrorLight, Dark: colErrorDark}
		colSuccess = adaptive{Light: colSuccessLight, Dark: colSuccessDark}
		colSelBg   = adaptive{Light: colSelBgLight, Dark: colSelBgDark}
		colSelFg   = adaptive{Light: colSelFgLight, Dark: colSelFgDark}
	)
	s.Brand = n().Bold(true).Foreground(colBrandFg).Background(colBrandBg).Padding(0, 1)
	s.Crumb = n().Foreground(colText).Bold(true)
	s.CrumbSep = n().Foreground(colFaint)
	s.User = n().Foreground(colText)
	s.Role = n().Foreground(colMuted)
	s.StaffRole = n().Foreground(colPink).Bold(true)
	s.Title = n().Bold(true).Foreground(colAccent)
	s.Subtitle = n().Foreground(colMuted)
	s.Text = n().Foreground(colText)
	s.Muted = n().Foreground(colMuted)
	s.Faint = n().Foreground(colFaint)
	s.Accent = n().Foreground(colAccent)
	s.Error = n().Foreground(colError)
	s.Success = n().Foreground(colSuccess)
	s.ErrBanner = n().Foreground(colError).Bold(true)
	s.InfoBanner = n().Foreground(colSuccess)
	s.Card = n().Border(lipgloss.RoundedBorder()).BorderForeground(colBorder).Padding(1, 3)
	s.Dialog = n().Border(lipgloss.RoundedBorder()).BorderForeground(colError).Padding(1, 3)
	s.Label = n().Foreground(colMuted)
	s.LabelFocus = n().Foreground(colAccent).Bold(true)
	s.Button = n().Foreground(colMuted).Padding(0, 2)
	s.ButtonFoc = n().Foreground(colBrandFg).Background(colBrandBg).Bold(true).Padding(0, 2)
	s.Prompt = n().Foreground(colFaint)
	s.PromptFoc = n().Foreground(colAccent)
	s.Hint = n().Foreground(colFaint).Italic(true)
	s.Key = n().Foreground(colMuted)
	s.Value = n().Foreground(colText)
	s.Section = n().Foreground(colAccent).Bold(true)
	s.Chip = n().Foreground(colAccent)
	s.Spinner = n().Foreground(colPink)
	s.Table = table.Styles{
		Header: n().Bold(true).Foreground(colAccent).Padding(0, 1).
			BorderStyle(lipgloss.NormalBorder()).BorderBottom(true).BorderForeground(colBorder),
		Cell:     n().Padding(0, 1),
		Selected: n().Foreground(colSelFg).Background(colSelBg).Bold(true),
	}
	s.Help = help.Styles{
		Ellipsis:       n().Foreground(colFaint),
		ShortKey:       n().Foreground(colMuted).Bold(true),
		ShortDesc:      n().Foreground(colFaint),
		ShortSeparator: n().Foreground(colFaint),
		FullKey:        n().Foreground(colMuted).Bold(true),
		FullDesc:       n().Foreground(colFaint),
		FullSeparator:  n().Foreground(colFaint),
	}
	return s
}

// styleInput gives a text input this renderer's styles.
func (s *styles) styleInput(ti *textinput.Model) {
	ti.PromptStyle = s.Prompt
	ti.TextStyle = s.Text
	ti.PlaceholderStyle = s.Faint
	ti.CompletionStyle = s.Faint
	ti.Cursor.Style = s.Accent
	ti.Cursor.TextStyle = s.Text
}

// styleArea gives a text area this renderer's styles.
func (s *styles) styleArea(ta *textarea.Model) {
	n := s.r.NewStyle
	focused := textarea.Style{
		Base:             n(),
		CursorLine:       n(),
		CursorLineNumber: s.Faint,
		EndOfBuffer:      s.Faint,
		LineNumber:       s.Faint,
		Placeholder:      s.Faint,
		Prompt:           s.Accent,
		Text:             s.Text,
	}
	blurred := focused
	blurred.Prompt = s.Faint
	blurred.Text = s.Muted
	ta.FocusedStyle = focused
	ta.BlurredStyle = blurred
	ta.Cursor.Style = s.Accent
	ta.Cursor.TextStyle = s.Text
}
