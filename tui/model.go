// Package tui is Anavara's terminal user interface: a bubbletea program that
// talks to the API only through tui/client, so it works against any server.
//
// The root Model is a router over a stack of screens (sign in, records,
// record detail, forms, users, audit history, profile ...), one file per
// screen. Everything a session needs (API client, lipgloss renderer,
// credential store) is passed to New, so the SSH front end can build one
// Model per connection.
package tui

import (
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/anavara/anavara/tui/client"
)

// Options are a Model's dependencies.
type Options struct {
	// Client talks to the API. It may already hold tokens: a refresh token
	// restored from the credential store, or a pair from an SSH key login.
	Client *client.Client
	// Renderer styles the output; nil means lipgloss.DefaultRenderer(). An
	// SSH session passes the renderer of its own pty.
	Renderer *lipgloss.Renderer
	// Credentials persists the refresh token across runs; nil persists
	// nothing here. It is written after the fact, outside any lock, so it
	// must not be shared with other processes: the local TUI leaves it nil
	// and gives the client a client.TokenStore instead (NewSharedClient),
	// which keeps the stored pair current under a lock.
	Credentials CredentialStore
	// SignedIn says the client already holds valid tokens (e.g. after an
	// SSH key login): the UI opens on the records instead of sign-in.
	SignedIn bool
	// SSHKey is the authorized_keys line of the SSH key this session
	// authenticated with, set by the SSH front end; empty for the local
	// TUI. When the session was not signed in by that key, the UI offers to
	// link it to the account right after sign-in or sign-up.
	SSHKey string
	// Remote says the UI runs on a host that is not the user's own (the
	// SSH front end): it writes no file there, and exports show how to
	// fetch the data with the API instead.
	Remote bool
	// APIURL is the API's address as the user's own computer reaches it,
	// for those instructions; "" means the client's base URL.
	APIURL string
	// ReduceMotion turns off animations (the spinner and the blinking
	// cursor), for slow links, screen readers and deterministic tests.
	ReduceMotion bool
	// Timeout bounds each API call, including a token refresh it may need;
	// zero means 20 seconds.
	Timeout time.Duration
	// IdleLock locks the UI of a signed-in user after this long without a
	// key press: the screen is replaced by one that shows no patient data
	// and asks for the account's password. Zero never locks. The program
	// must send IdleCheck for the lock to come (see IdleCheckEvery).
	IdleLock time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Size limits below which the UI shows "window too small".
const (
	minWidth  = 20
	minHeight = 5
)

// Model is the root bubbletea model. Use New to make one.
type Model struct {
	a        *app
	width    int
	height   int
	showHelp bool
	help     help.Model
	quitting bool
	// lastInput is when the user last pressed a key, for the idle lock.
	lastInput time.Time
	// lock covers the UI while it is locked; nil when it is not.
	lock *lockScreen
}

// New builds the UI. Call its Init through tea.NewProgram as usual.
func New(opts Options) *Model {
	r := opts.Renderer
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	st := newStyles(r)
	a := &app{
		client:   opts.Client,
		creds:    opts.Credentials,
		st:       st,
		keys:     newKeyMap(),
		motion:   !opts.ReduceMotion,
		timeout:  timeout,
		spin:     spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(st.Spinner)),
		now:      time.Now,
		idleLock: opts.IdleLock,
	}
	if opts.Now != nil {
		a.now = opts.Now
	}
	if opts.SSHKey != "" && !opts.SignedIn {
		a.linkKey = opts.SSHKey
	}
	if opts.Client != nil {
		a.server = opts.Client.BaseURL()
	}
	a.remote, a.apiURL = opts.Remote, opts.APIURL
	if a.apiURL == "" {
		a.apiURL = a.server
	}
	h := help.New()
	h.Styles = st.Help
	m := &Model{a: a, help: h, lastInput: a.now()}
	switch {
	case opts.Client == nil:
		a.stack = []screen{newMessageScreen(a, "The terminal UI was started without an API client.")}
	case opts.SignedIn || opts.Client.Tokens().RefreshToken != "" || opts.Client.Tokens().AccessToken != "":
		a.stack = []screen{newConnectScreen(a)}
	default:
		a.stack = []screen{newSignInScreen(a, "")}
	}
	return m
}

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd {
	return m.a.after(m.a.top().init())
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	a := m.a
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.Width = max(msg.Width-2, 0)
		a.resize(bodySize(msg.Width, msg.Height))
		return m, nil

	case spinner.TickMsg:
		if a.inflight == 0 || !a.motion {
			a.spinning = false
			return m, nil
		}
		var cmd tea.Cmd
		a.spin, cmd = a.spin.Update(msg)
		return m, cmd

	case IdleCheck:
		if a.idleLock > 0 && a.user != nil && m.lock == nil && a.now().Sub(m.lastInput) >= a.idleLock {
			m.lock = newLockScreen(a)
			m.showHelp = false
			a.clearBanner()
		}
		return m, nil

	case answer:
		r := msg.meta()
		if a.inflight > 0 {
			a.inflight--
		}
		if m.lock != nil && r.to == m.lock.id {
			cmd, unlocked, _ := m.lock.update(msg)
			if unlocked {
				m.lock, m.lastInput = nil, a.now()
			}
			return m, cmd
		}
		if r.auth && a.sessionEnded(r.err) {
			m.lock = nil // the sign-in screen shows no patient data either
			return m, a.after(a.expire())
		}
		if s := a.find(r.to); s != nil {
			return m, a.after(s.update(msg))
		}
		return m, nil

	case tea.KeyMsg:
		m.lastInput = a.now()
		if m.lock != nil {
			cmd, _, quit := m.lock.update(msg)
			if quit {
				m.quitting = true
				return m, tea.Quit
			}
			return m, a.after(cmd)
		}
		// Fast typing arrives as one message with several runes, whose
		// String() can look like a key name ("end", "up"): take it one
		// rune at a time, as if typed slowly. A bracketed paste stays whole.
		keys := []tea.KeyMsg{msg}
		if msg.Type == tea.KeyRunes && !msg.Paste && len(msg.Runes) > 1 {
			keys = keys[:0]
			for _, r := range msg.Runes {
				one := msg
				one.Runes = []rune{r}
				keys = append(keys, one)
			}
		}
		var cmds []tea.Cmd
		for _, k := range keys {
			cmd, quit := m.key(k)
			if quit {
				m.quitting = true
				return m, tea.Quit
			}
			cmds = append(cmds, cmd)
		}
		return m, a.after(tea.Batch(cmds...))
	}
	return m, a.after(a.top().update(msg))
}

// key handles the global keys and passes the rest to the current screen.
// It reports whether the program should quit.
func (m *Model) key(msg tea.KeyMsg) (tea.Cmd, bool) {
	a := m.a
	k := a.keys
	if key.Matches(msg, k.ForceQuit) {
		return nil, true
	}
	switch {
	case a.banner.err && key.Matches(msg, k.Back):
		a.banner = banner{} // esc dismisses an error first
		return nil, false
	case a.banner.text != "" && !a.banner.err:
		a.banner = banner{} // notices last until the next key
	}
	if m.showHelp && (key.Matches(msg, k.Back) || key.Matches(msg, k.Help)) {
		m.showHelp = false
		return nil, false
	}
	top := a.top()
	if !top.typing() {
		if key.Matches(msg, k.Quit) {
			return nil, true
		}
		if key.Matches(msg, k.Help) {
			m.showHelp = true
			return nil, false
		}
	}
	return top.update(msg), false
}

// bodySize is the room screens get: the window minus the header (two
// lines), the status line and the help line.
func bodySize(w, h int) (int, int) { return max(w, 0), max(h-4, 0) }

// View implements tea.Model.
func (m *Model) View() string {
	if m.quitting {
		return ""
	}
	w, h := m.width, m.height
	if w < minWidth || h < minHeight {
		return tooSmall(w)
	}
	a := m.a
	if m.lock != nil {
		return m.lockedView(w, h)
	}
	top := a.top()
	helpView := m.helpView(top, w)
	helpH := strings.Count(helpView, "\n") + 1
	bodyW, bodyH := bodySize(w, h)
	bodyH -= helpH - 1
	if bodyH < 1 { // no room for the full help: keep the short one
		helpView = m.help.ShortHelpView(m.shortHelp(top))
		_, bodyH = bodySize(w, h)
	}
	var b strings.Builder
	b.Grow(w * h * 2)
	b.WriteString(m.headerView(w))
	b.WriteString("\n\n")
	fit(&b, top.view(bodyW, bodyH), w, bodyH)
	b.WriteString(fitLine(m.statusView(w), w))
	b.WriteByte('\n')
	lines := strings.Split(helpView, "\n")
	for i, l := range lines {
		b.WriteString(fitLine(" "+l, w))
		if i < len(lines)-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// lockedView is the whole view while the UI is locked: the brand, the
// lock screen and its keys, and nothing of the screens under it (not even
// their titles, which may name a patient).
func (m *Model) lockedView(w, h int) string {
	st := m.a.st
	bodyW, bodyH := bodySize(w, h)
	var b strings.Builder
	b.WriteString(fitLine(" "+st.Brand.Render("Anavara")+" "+st.Crumb.Render("Locked"), w))
	b.WriteString("\n\n")
	fit(&b, m.lock.view(bodyW, bodyH), w, bodyH)
	b.WriteByte('\n')
	b.WriteString(fitLine(" "+m.help.ShortHelpView(m.lock.help()), w))
	return b.String()
}

// tooSmall is the whole view when the window cannot hold the UI.
func tooSmall(w int) string {
	const msg = "Window too small"
	if w <= 0 || w >= len(msg) {
		return msg
	}
	return msg[:w]
}

// fit writes s into b as exactly h lines, each cut to w columns.
func fit(b *strings.Builder, s string, w, h int) {
	rest := s
	for i := 0; i < h; i++ {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		b.WriteString(fitLine(line, w))
		b.WriteByte('\n')
	}
}

// fitLine cuts a rendered line to w columns.
func fitLine(line string, w int) string {
	if len(line) <= w || ansi.StringWidth(line) <= w {
		return line
	}
	return ansi.Truncate(line, w, "…")
}

// headerView is the top line: app name, where the user is, who they are.
func (m *Model) headerView(w int) string {
	a, st := m.a, m.a.st
	brand := st.Brand.Render("Anavara")
	var right string
	if a.inflight > 0 {
		right = a.spinnerView() + " "
	}
	if u := a.user; u != nil {
		role := st.Role.Render(u.Role())
		if u.IsStaff {
			role = st.StaffRole.Render(u.Role())
		}
		name := clean(u.FullName())
		if name == "" {
			name = clean(u.Email)
		}
		right += st.User.Render(name) + st.Faint.Render(" · ") + role
	}
	// Breadcrumbs of the screens on the stack, the current one last.
	var crumbs []string
	for _, s := range a.stack {
		if t := s.title(); t != "" {
			crumbs = append(crumbs, t)
		}
	}
	room := w - lipgloss.Width(brand) - lipgloss.Width(right) - 3
	crumb := ""
	for i := len(crumbs) - 1; i >= 0; i-- {
		next := crumbs[i]
		if crumb != "" {
			next += " › " + crumb
		}
		if ansi.StringWidth(next) > room && crumb != "" {
			break
		}
		crumb = next
	}
	crumb = ansi.Truncate(crumb, max(room, 0), "…")
	// Style the last crumb strongly and the path before it faintly.
	styled := crumb
	if i := strings.LastIndex(crumb, " › "); i >= 0 {
		styled = st.CrumbSep.Render(crumb[:i+len(" › ")]) + st.Crumb.Render(crumb[i+len(" › "):])
	} else if crumb != "" {
		styled = st.Crumb.Render(crumb)
	}
	left := " " + brand + " " + styled
	gap := w - lipgloss.Width(left) - lipgloss.Width(right) - 1
	if gap < 1 {
		// No room for the user: keep the brand and the place.
		return fitLine(left, w)
	}
	return left + strings.Repeat(" ", gap) + right + " "
}

// statusView is the line above the help: an error or notice, or what is
// loading.
func (m *Model) statusView(w int) string {
	a, st := m.a, m.a.st
	switch {
	case a.banner.text != "" && a.banner.err:
		hint := st.Faint.Render("  esc dismiss")
		msg := st.ErrBanner.Render("✗ " + a.banner.text)
		if lipgloss.Width(msg)+lipgloss.Width(hint)+1 <= w {
			msg += hint
		}
		return " " + msg
	case a.banner.text != "":
		return " " + st.InfoBanner.Render("✓ "+a.banner.text)
	case a.inflight > 0:
		return " " + a.spinnerView() + st.Muted.Render(" Working…")
	}
	return ""
}

// helpView is the footer: the short help, or every key after "?".
func (m *Model) helpView(top screen, w int) string {
	if m.showHelp {
		k := m.a.keys
		global := []key.Binding{k.Help, k.Quit}
		if top.typing() {
			global = []key.Binding{k.ForceQuit}
		}
		src := top.help().full
		groups := make([][]key.Binding, len(src), len(src)+1)
		copy(groups, src)
		if n := len(groups); n > 0 && len(groups[n-1])+len(global) <= 6 {
			groups[n-1] = append(append([]key.Binding(nil), groups[n-1]...), global...)
		} else {
			groups = append(groups, global)
		}
		return m.help.FullHelpView(groups)
	}
	return m.help.ShortHelpView(m.shortHelp(top))
}

func (m *Model) shortHelp(top screen) []key.Binding {
	k := m.a.keys
	short := top.help().short
	if top.typing() {
		return append(short, k.ForceQuit)
	}
	return append(short, k.Help, k.Quit)
}
