package tui

import (
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/table"
)

// keyMap holds every key binding of the UI with its help text. It is built
// per Model (bindings carry an enabled flag, so they are state).
type keyMap struct {
	// Global.
	Quit      key.Binding
	ForceQuit key.Binding
	Help      key.Binding
	Back      key.Binding

	// Lists.
	Up       key.Binding
	Down     key.Binding
	Top      key.Binding
	Bottom   key.Binding
	Open     key.Binding
	New      key.Binding
	Edit     key.Binding
	Delete   key.Binding
	Search   key.Binding
	Filter   key.Binding
	Sort     key.Binding
	Reverse  key.Binding
	NextPage key.Binding
	PrevPage key.Binding
	Bigger   key.Binding
	Smaller  key.Binding
	Refresh  key.Binding
	Users    key.Binding
	Audit    key.Binding
	// AuditLog opens the whole audit trail (staff), from the records list.
	AuditLog key.Binding
	Profile  key.Binding
	Pick     key.Binding

	// Users list filters.
	StaffFilter  key.Binding
	ActiveFilter key.Binding

	// Detail view.
	ScrollUp   key.Binding
	ScrollDown key.Binding

	// Forms.
	NextField key.Binding
	PrevField key.Binding
	Submit    key.Binding
	Toggle    key.Binding
	Cancel    key.Binding
	// Reload refills an edit form from what is stored, after someone
	// else saved the record or account meanwhile.
	Reload key.Binding

	// Search line.
	Apply     key.Binding
	StopInput key.Binding

	// Confirmation.
	Yes key.Binding
	No  key.Binding

	// Profile.
	EditNames      key.Binding
	ChangePassword key.Binding
	SignOut        key.Binding
	SSHKeys        key.Binding
	APITokens      key.Binding

	// SSH keys.
	AddKey  key.Binding
	LinkKey key.Binding
	SkipKey key.Binding

	// API tokens.
	AddToken    key.Binding
	RevokeToken key.Binding
	// TokenDone leaves the screen that shows a new token's secret once.
	TokenDone key.Binding

	// Data rights: who accessed a person's records, and their export.
	AccessLog  key.Binding
	ExportData key.Binding
}

func newKeyMap() *keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return &keyMap{
		Quit:      b([]string{"q"}, "q", "quit"),
		ForceQuit: b([]string{"ctrl+c"}, "ctrl+c", "quit"),
		Help:      b([]string{"?"}, "?", "all keys"),
		Back:      b([]string{"esc"}, "esc", "back"),

		Up:       b([]string{"up", "k"}, "↑/k", "up"),
		Down:     b([]string{"down", "j"}, "↓/j", "down"),
		Top:      b([]string{"home", "g"}, "g/home", "top"),
		Bottom:   b([]string{"end", "G"}, "G/end", "bottom"),
		Open:     b([]string{"enter"}, "enter", "open"),
		New:      b([]string{"n"}, "n", "new"),
		Edit:     b([]string{"e"}, "e", "edit"),
		Delete:   b([]string{"d", "delete"}, "d", "delete"),
		Search:   b([]string{"/"}, "/", "search"),
		Filter:   b([]string{"f"}, "f", "filters"),
		Sort:     b([]string{"s"}, "s", "sort by"),
		Reverse:  b([]string{"S"}, "S", "reverse order"),
		NextPage: b([]string{"]", "right", "l", "pgdown"}, "]/→", "next page"),
		PrevPage: b([]string{"[", "left", "h", "pgup"}, "[/←", "prev page"),
		Bigger:   b([]string{"+", "="}, "+", "bigger pages"),
		Smaller:  b([]string{"-", "_"}, "-", "smaller pages"),
		Refresh:  b([]string{"r", "ctrl+r"}, "r", "refresh"),
		Users:    b([]string{"u"}, "u", "users"),
		Audit:    b([]string{"a"}, "a", "audit history"),
		AuditLog: b([]string{"a"}, "a", "audit log"),
		Profile:  b([]string{"p"}, "p", "profile"),
		Pick:     b([]string{"enter"}, "enter", "choose"),

		StaffFilter:  b([]string{"s"}, "s", "role"),
		ActiveFilter: b([]string{"a"}, "a", "status"),

		ScrollUp:   b([]string{"up", "k", "pgup"}, "↑/k", "scroll up"),
		ScrollDown: b([]string{"down", "j", "pgdown", " "}, "↓/j", "scroll down"),

		NextField: b([]string{"tab"}, "tab", "next field"),
		PrevField: b([]string{"shift+tab"}, "shift+tab", "previous field"),
		Submit:    b([]string{"ctrl+s"}, "ctrl+s", "save"),
		Toggle:    b([]string{" "}, "space", "toggle"),
		Cancel:    b([]string{"esc"}, "esc", "cancel"),
		Reload:    b([]string{"ctrl+r"}, "ctrl+r", "reload"),

		Apply:     b([]string{"enter"}, "enter", "apply"),
		StopInput: b([]string{"esc"}, "esc", "cancel"),

		Yes: b([]string{"y", "Y"}, "y", "yes"),
		No:  b([]string{"n", "N", "esc"}, "n/esc", "no"),

		EditNames:      b([]string{"e"}, "e", "edit name"),
		ChangePassword: b([]string{"c"}, "c", "change password"),
		SignOut:        b([]string{"o"}, "o", "sign out"),
		SSHKeys:        b([]string{"k"}, "k", "ssh keys"),
		APITokens:      b([]string{"t"}, "t", "api tokens"),

		AddKey:  b([]string{"a"}, "a", "add key"),
		LinkKey: b([]string{"y", "Y"}, "y", "link key"),
		SkipKey: b([]string{"n", "N", "esc"}, "n/esc", "not now"),

		AddToken:    b([]string{"a"}, "a", "new token"),
		RevokeToken: b([]string{"d", "delete"}, "d", "revoke"),
		TokenDone:   b([]string{"enter", "esc"}, "enter/esc", "done"),

		AccessLog:  b([]string{"w"}, "w", "who accessed"),
		ExportData: b([]string{"x"}, "x", "export data"),
	}
}

// tableKeys are the bubbles table's own bindings, without the single
// letters (d, u, b, f, space) that this UI uses for actions.
func tableKeys() table.KeyMap {
	return table.KeyMap{
		LineUp:       key.NewBinding(key.WithKeys("up", "k")),
		LineDown:     key.NewBinding(key.WithKeys("down", "j")),
		PageUp:       key.NewBinding(key.WithDisabled()),
		PageDown:     key.NewBinding(key.WithDisabled()),
		HalfPageUp:   key.NewBinding(key.WithKeys("ctrl+u")),
		HalfPageDown: key.NewBinding(key.WithKeys("ctrl+d")),
		GotoTop:      key.NewBinding(key.WithKeys("home", "g")),
		GotoBottom:   key.NewBinding(key.WithKeys("end", "G")),
	}
}

// bindings is a help.KeyMap built from lists of bindings.
type bindings struct {
	short []key.Binding
	full  [][]key.Binding
}

func (b bindings) ShortHelp() []key.Binding  { return b.short }
func (b bindings) FullHelp() [][]key.Binding { return b.full }
