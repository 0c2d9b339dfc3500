package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textarea"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/anavara/anavara/model"
)

// The forms of the UI (sign in, record, user, password ...) share this small
// form component: labelled fields in a column, each with its validation
// message right under it, and a row of buttons.

// msgCorrect is the status line while fields show errors.
const msgCorrect = "Please correct the highlighted fields."

// dateHint is how date fields say which format they take.
const dateHint = "YYYY-MM-DD"

type fieldKind int

const (
	kindText fieldKind = iota
	kindPassword
	kindDate
	kindArea
	kindToggle
	kindPick
	kindStatic
)

// field is one labelled input. key is the API's name for it, so field
// errors from the server land next to the right input.
type field struct {
	key   string
	label string
	hint  string
	kind  fieldKind
	input textinput.Model
	area  textarea.Model
	on    bool   // toggle state
	text  string // static text, the chosen item's label for a pick, or a checklist item's
	value string // the chosen item's id for a pick
	empty string // what a pick shows before anything is chosen
	pick  func() tea.Cmd
	err   string
	// orig is the stored value the field was loaded with, byte for byte as
	// the server sent it (a pick's id). shown is what the input held right
	// after loading: orig made inert for display, which differs from orig
	// when it holds control characters. An input that still holds shown is
	// untouched and stands for orig, so looking at a field never rewrites
	// what is stored; origOn is a toggle's loaded state.
	orig   string
	shown  string
	origOn bool
}

// button is an action at the bottom of a form.
type button struct {
	label  string
	action func() tea.Cmd
}

// form is a column of fields and a row of buttons.
type form struct {
	a       *app
	fields  []*field
	buttons []button
	focus   int // index over fields, then buttons
	submit  func() tea.Cmd
	// flagged is set while the status line asks to correct the
	// highlighted fields, so the request goes once they are all fixed.
	flagged bool
	width   int
	areaH   int
	labelW  int
}

func newForm(a *app) *form { return &form{a: a, areaH: 3} }

func (f *form) newInput(placeholder string, limit int) textinput.Model {
	ti := textinput.New()
	ti.Prompt = ""
	ti.Placeholder = placeholder
	ti.CharLimit = limit
	ti.Width = 36
	f.a.st.styleInput(&ti)
	if !f.a.motion {
		ti.Cursor.SetMode(cursor.CursorStatic)
	}
	return ti
}

func (f *form) add(fl *field) *field {
	f.fields = append(f.fields, fl)
	return fl
}

func (f *form) text(key, label, placeholder string, limit int) *field {
	return f.add(&field{key: key, label: label, kind: kindText, input: f.newInput(placeholder, limit)})
}

func (f *form) password(key, label string) *field {
	ti := f.newInput("", model.MaxPasswordLength)
	ti.EchoMode = textinput.EchoPassword
	ti.EchoCharacter = '•'
	return f.add(&field{key: key, label: label, kind: kindPassword, input: ti})
}

func (f *form) date(key, label, hint string) *field {
	ti := f.newInput(dateHint, len(model.DateLayout))
	return f.add(&field{key: key, label: label, kind: kindDate, input: ti, hint: hint})
}

func (f *form) textArea(name, label, placeholder string) *field {
	ta := textarea.New()
	ta.Placeholder = placeholder
	ta.ShowLineNumbers = false
	ta.Prompt = "┃ "
	ta.CharLimit = model.MaxRecordTextLength
	ta.MaxHeight = 0
	ta.SetHeight(f.areaH)
	f.a.st.styleArea(&ta)
	if !f.a.motion {
		ta.Cursor.SetMode(cursor.CursorStatic)
	}
	ta.KeyMap.InsertNewline = key.NewBinding(key.WithKeys("enter", "ctrl+j"))
	return f.add(&field{key: name, label: label, kind: kindArea, area: ta})
}

func (f *form) toggle(key, label string, on bool) *field {
	return f.add(&field{key: key, label: label, kind: kindToggle, on: on, origOn: on})
}

// check is a toggle shown as one item of a checklist, "[x] text", rather
// than as yes or no; several under one label make a list of choices.
func (f *form) check(key, label, text string) *field {
	fl := f.toggle(key, label, false)
	fl.text = text
	return fl
}

func (f *form) picker(key, label, empty string, pick func() tea.Cmd) *field {
	return f.add(&field{key: key, label: label, kind: kindPick, empty: empty, pick: pick})
}

func (f *form) static(label, text string) *field {
	return f.add(&field{label: label, kind: kindStatic, text: text})
}

func (f *form) button(label string, action func() tea.Cmd) {
	f.buttons = append(f.buttons, button{label: label, action: action})
}

// get returns the field for key.
func (f *form) get(key string) *field {
	for _, fl := range f.fields {
		if fl.key == key {
			return fl
		}
	}
	return nil
}

// val is a field's value: the stored value it was loaded with while the
// input is untouched; otherwise what was typed, trimmed for text and dates,
// exact for passwords and text areas.
func (fl *field) val() string {
	if !fl.edited() && fl.kind != kindPick {
		return fl.orig
	}
	switch fl.kind {
	case kindPassword:
		return fl.input.Value()
	case kindArea:
		return fl.area.Value()
	case kindPick:
		return fl.value
	case kindText, kindDate:
		return strings.TrimSpace(fl.input.Value())
	}
	return ""
}

// buffer is what the input holds, as typed (or loaded).
func (fl *field) buffer() string {
	switch fl.kind {
	case kindArea:
		return fl.area.Value()
	case kindText, kindDate, kindPassword:
		return fl.input.Value()
	}
	return ""
}

// edited reports whether the user changed what the field shows since it
// was loaded (or since the form opened).
func (fl *field) edited() bool {
	switch fl.kind {
	case kindToggle:
		return fl.on != fl.origOn
	case kindPick:
		return fl.value != fl.orig
	case kindStatic:
		return false
	}
	return fl.buffer() != fl.shown
}

// changed reports whether saving would change the field's stored value:
// the user edited it into something other than what is stored.
func (fl *field) changed() bool {
	if fl.kind == kindToggle || fl.kind == kindPick {
		return fl.edited()
	}
	return fl.edited() && fl.val() != fl.orig
}

// load fills a field with a stored value (for edit forms, or a value taken
// from the server such as the account's name). The input shows it inert,
// as the detail view does; while it is left alone val returns v itself,
// not the display text.
func (fl *field) load(v string) {
	fl.orig = v
	switch fl.kind {
	case kindArea:
		fl.set(editable(cleanBlock(v)))
	case kindText, kindDate:
		fl.set(editable(clean(v)))
	}
	// What the input made of it (it may cut or normalise), not what was
	// asked: that is what "untouched" compares with.
	fl.shown = fl.buffer()
}

// editable is display text (from clean or cleanBlock) as an input can hold
// it: the bubbles inputs silently drop U+FFFD, which would hide that a C1
// or bidi control was there, so it becomes ␦ (the control picture for a
// substituted character) instead.
func editable(shown string) string { return strings.ReplaceAll(shown, "\uFFFD", "␦") }

// loadPick sets a pick's stored choice: id, shown as label.
func (fl *field) loadPick(id, label string) {
	fl.value, fl.orig, fl.text = id, id, label
}

// set fills a field's input with text as though the user had typed it
// (a suggestion or a remembered entry); load is for stored values.
func (fl *field) set(v string) {
	switch fl.kind {
	case kindArea:
		fl.area.SetValue(v)
		fl.area.CursorStart()
	case kindText, kindDate, kindPassword:
		fl.input.SetValue(v)
		fl.input.CursorEnd()
	}
}

func (fl *field) focusable() bool { return fl.kind != kindStatic }

// items is how many things can take focus.
func (f *form) items() int { return len(f.fields) + len(f.buttons) }

func (f *form) focused() *field {
	if f.focus < len(f.fields) {
		return f.fields[f.focus]
	}
	return nil
}

// init focuses the first field.
func (f *form) init() tea.Cmd {
	f.focus = -1
	return f.move(1)
}

// resume focuses the current field again (restarting its cursor).
func (f *form) resume() tea.Cmd {
	f.settle() // a pick chosen in the screen above may have fixed the last error
	return f.setFocus(f.focus)
}

// move focuses the next (+1) or previous (-1) focusable item, wrapping.
func (f *form) move(dir int) tea.Cmd {
	n := f.items()
	if n == 0 {
		return nil
	}
	i := f.focus
	for range n {
		i = (i + dir + n) % n
		if i >= len(f.fields) || f.fields[i].focusable() {
			break
		}
	}
	return f.setFocus(i)
}

// setFocus moves the focus to item i.
func (f *form) setFocus(i int) tea.Cmd {
	for j, fl := range f.fields {
		if j == i {
			continue
		}
		switch fl.kind {
		case kindArea:
			fl.area.Blur()
		case kindText, kindPassword, kindDate:
			fl.input.Blur()
		}
	}
	f.focus = i
	if fl := f.focused(); fl != nil {
		switch fl.kind {
		case kindArea:
			return fl.area.Focus()
		case kindText, kindPassword, kindDate:
			return fl.input.Focus()
		}
	}
	return nil
}

// focusKey focuses the field named key.
func (f *form) focusKey(key string) tea.Cmd {
	for i, fl := range f.fields {
		if fl.key == key {
			return f.setFocus(i)
		}
	}
	return nil
}

func (f *form) hasArea() bool {
	for _, fl := range f.fields {
		if fl.kind == kindArea {
			return true
		}
	}
	return false
}

// lastInput is the index of the last field that is not static.
func (f *form) lastInput() int {
	for i := len(f.fields) - 1; i >= 0; i-- {
		if f.fields[i].focusable() {
			return i
		}
	}
	return -1
}

// update handles keys for the form; other messages go to the focused input.
func (f *form) update(msg tea.Msg) tea.Cmd {
	defer f.settle()
	k := f.a.keys
	fl := f.focused()
	km, isKey := msg.(tea.KeyMsg)
	if !isKey {
		return f.passOn(fl, msg)
	}
	switch {
	case key.Matches(km, k.Submit):
		return f.doSubmit()
	case key.Matches(km, k.NextField):
		return f.move(1)
	case key.Matches(km, k.PrevField):
		return f.move(-1)
	}
	if fl == nil { // a button
		b := f.buttons[f.focus-len(f.fields)]
		switch km.String() {
		case "enter", " ":
			return b.action()
		case "right", "l", "down":
			return f.move(1)
		case "left", "h", "up":
			return f.move(-1)
		}
		return nil
	}
	if fl.kind != kindArea {
		switch km.String() {
		case "down":
			return f.move(1)
		case "up":
			return f.move(-1)
		}
	}
	switch fl.kind {
	case kindToggle:
		switch km.String() {
		case "enter":
			// Enter saves from a checkbox as from any field, as the help
			// line says; flipping staff rights takes a deliberate space.
			return f.doSubmit()
		case " ", "x", "left", "right", "y", "n":
			switch km.String() {
			case "y":
				fl.on = true
			case "n":
				fl.on = false
			default:
				fl.on = !fl.on
			}
			fl.err = ""
		}
		return nil
	case kindPick:
		if km.String() == "enter" || km.String() == " " {
			return fl.pick()
		}
		if km.String() == "backspace" || km.String() == "delete" {
			fl.value, fl.text = "", ""
		}
		return nil
	case kindArea:
		return f.passOn(fl, msg)
	}
	if km.String() == "enter" {
		if f.focus >= f.lastInput() {
			return f.doSubmit()
		}
		return f.move(1)
	}
	return f.passOn(fl, msg)
}

func (f *form) passOn(fl *field, msg tea.Msg) tea.Cmd {
	if fl == nil {
		return nil
	}
	var cmd tea.Cmd
	switch fl.kind {
	case kindArea:
		before := fl.area.Value()
		fl.area, cmd = fl.area.Update(msg)
		if fl.area.Value() != before {
			fl.err = ""
		}
	case kindText, kindPassword, kindDate:
		before := fl.input.Value()
		fl.input, cmd = fl.input.Update(msg)
		if fl.input.Value() != before {
			fl.err = ""
		}
	}
	return cmd
}

func (f *form) doSubmit() tea.Cmd {
	if f.submit == nil {
		return nil
	}
	return f.submit()
}

// clearErrors removes every field error.
func (f *form) clearErrors() {
	for _, fl := range f.fields {
		fl.err = ""
	}
}

// setError puts msg next to the field named key; it reports whether there
// is such a field.
func (f *form) setError(key, msg string) bool {
	if fl := f.get(key); fl != nil && fl.kind != kindStatic {
		if fl.err == "" {
			fl.err = msg
		}
		return true
	}
	return false
}

// dirty reports whether the user changed anything, so closing the form
// would lose work.
func (f *form) dirty() bool {
	for _, fl := range f.fields {
		if fl.changed() {
			return true
		}
	}
	return false
}

// flag asks, in the status line, to correct the fields that show errors.
func (f *form) flag() {
	f.a.failText(msgCorrect)
	f.flagged = true
}

// settle takes back the request to correct the fields once none shows an
// error any more (each edit of a field clears its own), rather than
// leaving it up until esc.
func (f *form) settle() {
	if !f.flagged || f.hasErrors() {
		return
	}
	f.flagged = false
	if b := f.a.banner; b.err && b.text == msgCorrect {
		f.a.clearBanner()
	}
}

// hasErrors reports whether any field shows an error.
func (f *form) hasErrors() bool {
	for _, fl := range f.fields {
		if fl.err != "" {
			return true
		}
	}
	return false
}

// focusFirstError moves the focus to the first field with an error.
func (f *form) focusFirstError() tea.Cmd {
	for i, fl := range f.fields {
		if fl.err != "" {
			return f.setFocus(i)
		}
	}
	return nil
}

// apiError shows an error from the server: field errors next to their
// fields (sanitised), anything else in the status line.
func (f *form) apiError(err error) tea.Cmd {
	fields, ok := apiFields(err)
	if !ok {
		f.a.fail(err)
		return nil
	}
	var stray []string
	for name, msgs := range fields {
		if len(msgs) == 0 {
			continue
		}
		if !f.setError(name, cleanMsg(msgs[0])) {
			stray = append(stray, cleanMsg(msgs[0]))
		}
	}
	if len(stray) > 0 || !f.hasErrors() {
		f.a.fail(err)
	} else {
		f.flag()
	}
	return f.focusFirstError()
}

// checkDate parses a date field, recording an error when it is malformed or
// empty and required.
func (f *form) checkDate(fl *field, required bool) (model.Date, bool) {
	v := fl.val()
	if v == "" {
		if required {
			fl.err = model.MsgRequired + " Use YYYY-MM-DD."
		}
		return model.Date{}, false
	}
	d, err := model.ParseDate(v)
	if err != nil {
		fl.err = model.DateMessage(err) // a wrong format, or a day that does not exist
		return model.Date{}, false
	}
	return d, true
}

// setWidth lays the form out for width columns.
func (f *form) setWidth(width int) {
	f.width = width
	f.labelW = 0
	for _, fl := range f.fields {
		f.labelW = max(f.labelW, lipgloss.Width(fl.label))
	}
	f.labelW += 2
	hintW := 0
	for _, fl := range f.fields {
		if fl.kind == kindText || fl.kind == kindPassword {
			hintW = max(hintW, lipgloss.Width(fl.hint)+1)
		}
	}
	inputW := min(max(width-f.labelW-4-hintW, 8), 40)
	for _, fl := range f.fields {
		w := inputW
		if fl.kind == kindDate {
			w = 11
		}
		if fl.kind == kindArea {
			fl.area.SetWidth(max(min(width-f.labelW-2, 72), 10))
			fl.area.SetHeight(f.areaH)
		} else {
			fl.input.Width = w
		}
	}
}

// errLines is a field's error message as the lines view shows under it,
// wrapped to the room beside the labels; none when it has no error.
func (f *form) errLines(fl *field) []string {
	if fl.err == "" {
		return nil
	}
	msg := "✗ " + fl.err
	if room := f.width - f.labelW - 2; room >= 20 && lipgloss.Width(msg) > room {
		msg = f.a.st.r.NewStyle().Width(room).Render(msg)
	}
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return lines
}

// rowsBesideAreas is how many lines view takes besides the text areas'
// own: one per other field, the error lines, and the buttons.
func (f *form) rowsBesideAreas() int {
	n := 0
	for _, fl := range f.fields {
		if fl.kind != kindArea {
			n++
		}
		n += len(f.errLines(fl))
	}
	if len(f.buttons) > 0 {
		n += 2 // a blank line, then the buttons
	}
	return n
}

// setAreaHeight sets how many lines text areas show.
func (f *form) setAreaHeight(h int) {
	f.areaH = max(h, 1)
	for _, fl := range f.fields {
		if fl.kind == kindArea {
			fl.area.SetHeight(f.areaH)
		}
	}
}

// view renders the fields and buttons.
func (f *form) view() string {
	st := f.a.st
	var b strings.Builder
	pad := strings.Repeat(" ", f.labelW+2)
	for i, fl := range f.fields {
		focused := i == f.focus
		label := st.Label
		marker := "  "
		if focused {
			label = st.LabelFocus
			marker = st.Accent.Render("› ")
		}
		b.WriteString(label.Render(padRight(fl.label, f.labelW)))
		b.WriteString(marker)
		switch fl.kind {
		case kindText, kindPassword, kindDate:
			b.WriteString(fl.input.View())
			hint := fl.hint
			if fl.kind == kindDate && fl.input.Value() != "" {
				// The placeholder is gone: keep the format in sight.
				hint = strings.TrimSuffix(dateHint+", "+hint, ", ")
			}
			if hint != "" {
				b.WriteString(" " + st.Hint.Render(hint))
			}
		case kindArea:
			lines := strings.Split(fl.area.View(), "\n")
			for j, l := range lines {
				if j > 0 {
					b.WriteString("\n" + pad)
				}
				b.WriteString(l)
			}
		case kindToggle:
			box := "[ ] no"
			if fl.on {
				box = "[x] yes"
			}
			if fl.text != "" { // a checklist item
				box = "[ ] " + fl.text
				if fl.on {
					box = "[x] " + fl.text
				}
			}
			if focused {
				b.WriteString(st.Accent.Render(box) + st.Hint.Render("  space to toggle"))
			} else {
				b.WriteString(st.Value.Render(box))
			}
		case kindPick:
			if fl.text != "" {
				b.WriteString(st.Value.Render(fl.text))
			} else {
				b.WriteString(st.Faint.Render(fl.empty))
			}
			if focused {
				b.WriteString(st.Hint.Render("  enter to choose"))
			}
		case kindStatic:
			b.WriteString(st.Value.Render(fl.text))
		}
		b.WriteByte('\n')
		for _, l := range f.errLines(fl) {
			b.WriteString(pad + st.Error.Render(l) + "\n")
		}
	}
	if len(f.buttons) > 0 {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat(" ", f.labelW))
		for i, bt := range f.buttons {
			if i > 0 {
				b.WriteString("  ")
			}
			if len(f.fields)+i == f.focus {
				b.WriteString(st.Accent.Render("▸") + st.ButtonFoc.Render(bt.label))
			} else {
				b.WriteString(" " + st.Button.Render(bt.label))
			}
		}
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// help is the footer help of a form: submitDesc names what ctrl+s (and
// enter on the last field) does; escDesc what esc does, "" when nothing.
func (f *form) help(submitDesc, escDesc string, extra ...key.Binding) bindings {
	k := f.a.keys
	submit := k.Submit
	submit.SetHelp("ctrl+s", submitDesc)
	if !f.hasArea() {
		// enter moves on and, on the last field, submits; ctrl+s works too.
		submit = key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("enter", submitDesc))
	}
	short := []key.Binding{k.NextField, submit}
	group := []key.Binding{k.NextField, k.PrevField, submit, k.Toggle}
	if escDesc != "" {
		esc := k.Cancel
		esc.SetHelp("esc", escDesc)
		short = append(short, esc)
		group = append(group, esc)
	}
	short = append(short, extra...)
	full := [][]key.Binding{group}
	if len(extra) > 0 {
		full = append(full, extra)
	}
	return bindings{short: short, full: full}
}

// padRight pads s with spaces to w columns.
func padRight(s string, w int) string {
	if n := lipgloss.Width(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}
