package tui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// app is the state one UI session shares between its screens: the API
// client, styles, keys, who is signed in, the screen stack and the status
// line. It is owned by the Model and only touched from Update.
type app struct {
	client   *client.Client
	server   string
	creds    CredentialStore
	st       *styles
	keys     *keyMap
	user     *model.User
	motion   bool
	timeout  time.Duration
	spin     spinner.Model
	spinning bool
	inflight int
	banner   banner
	stack    []screen
	nextID   int
	bodyW    int
	bodyH    int
	now      func() time.Time
	// idleLock is Options.IdleLock.
	idleLock time.Duration
	// remote is Options.Remote: files are never written here.
	remote bool
	// apiURL is Options.APIURL, or the client's base URL.
	apiURL string
	// linkKey is the SSH key (an authorized_keys line) to offer for linking
	// after the next sign-in or sign-up; "" once offered, or when there is
	// none.
	linkKey string
}

// banner is the message in the status line: an error stays until esc or
// until it is replaced; a notice goes at the next key.
type banner struct {
	text string
	err  bool
}

// screen is one page of the UI. Screens are pointers updated in place.
type screen interface {
	base() *screenBase
	// init starts the screen (e.g. loads its data) when it is pushed.
	init() tea.Cmd
	// update handles a message; keys arrive only when the screen is on top.
	update(msg tea.Msg) tea.Cmd
	// view renders the body in width×height cells.
	view(width, height int) string
	// title names the screen in the header's breadcrumbs.
	title() string
	// help lists the screen's keys for the footer.
	help() bindings
	// typing reports whether a text field has the keyboard, so that q and
	// ? are typed rather than acted on.
	typing() bool
}

// resumer is a screen that refreshes itself when it is back on top.
type resumer interface{ resume() tea.Cmd }

// sizer is a screen that lays itself out for a body size (tables).
type sizer interface{ layout(width, height int) }

// screenBase is embedded by every screen.
type screenBase struct {
	id int
	a  *app
}

func (b *screenBase) base() *screenBase { return b }

func (a *app) newBase() screenBase {
	a.nextID++
	return screenBase{id: a.nextID, a: a}
}

// resultMeta is what the answer of every API call carries besides its
// value: the screen it goes to, which call it was, and how it ended.
type resultMeta struct {
	to   int    // screen id
	op   string // which call
	auth bool   // the call needed a signed-in user
	err  error
}

func (m resultMeta) meta() resultMeta { return m }

// answer is any result, whatever its value's type: the Model routes it by
// its meta.
type answer interface{ meta() resultMeta }

// result carries the answer of an API call whose value is a T back to the
// screen that made it. Screens take it with `case result[T]:`, so reading
// a value as another type than the call returns does not compile.
type result[T any] struct {
	resultMeta
	val T
}

// none is the value of calls that answer nothing but success or failure.
type none struct{}

// do runs fn as a command with the per-call timeout and delivers its
// result to screen s as a result[T] with op. auth marks calls that need a
// session, so that a session that ended elsewhere sends the user to
// sign-in.
func do[T any](a *app, s *screenBase, op string, auth bool, fn func(ctx context.Context, c *client.Client) (T, error)) tea.Cmd {
	return doWithin(a, s, op, auth, a.timeout, fn)
}

// doWithin is do with its own timeout, for calls that take longer than
// one answer (an export streamed into a file).
func doWithin[T any](a *app, s *screenBase, op string, auth bool, timeout time.Duration, fn func(ctx context.Context, c *client.Client) (T, error)) tea.Cmd {
	a.inflight++
	c, id := a.client, s.id
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		v, err := fn(ctx, c)
		return result[T]{resultMeta: resultMeta{to: id, op: op, auth: auth, err: err}, val: v}
	}
}

// after adds the spinner's first tick to cmd when a call has just started.
func (a *app) after(cmd tea.Cmd) tea.Cmd {
	if a.inflight > 0 && !a.spinning && a.motion {
		a.spinning = true
		return tea.Batch(cmd, a.spin.Tick)
	}
	return cmd
}

func (a *app) spinnerView() string {
	if !a.motion {
		return a.st.Spinner.Render("…")
	}
	return a.spin.View()
}

func (a *app) top() screen { return a.stack[len(a.stack)-1] }

func (a *app) find(id int) screen {
	for i := len(a.stack) - 1; i >= 0; i-- {
		if a.stack[i].base().id == id {
			return a.stack[i]
		}
	}
	return nil
}

func (a *app) resize(w, h int) {
	a.bodyW, a.bodyH = w, h
	for _, s := range a.stack {
		if z, ok := s.(sizer); ok {
			z.layout(w, h)
		}
	}
}

// push opens s on top of the current screen.
func (a *app) push(s screen) tea.Cmd {
	a.stack = append(a.stack, s)
	if z, ok := s.(sizer); ok {
		z.layout(a.bodyW, a.bodyH)
	}
	return s.init()
}

// pop closes the current screen, going back to the one below.
func (a *app) pop() tea.Cmd {
	if len(a.stack) <= 1 {
		return nil
	}
	a.stack = a.stack[:len(a.stack)-1]
	if r, ok := a.top().(resumer); ok {
		return r.resume()
	}
	return nil
}

// reset replaces the whole stack with s (after sign-in or sign-out).
func (a *app) reset(s screen) tea.Cmd {
	a.stack = []screen{s}
	if z, ok := s.(sizer); ok {
		z.layout(a.bodyW, a.bodyH)
	}
	return s.init()
}

// fail shows err in the status line.
func (a *app) fail(err error) { a.banner = banner{text: a.errText(err), err: true} }

// failText shows an error message in the status line.
func (a *app) failText(msg string) { a.banner = banner{text: msg, err: true} }

// notify shows a notice in the status line.
func (a *app) notify(msg string) { a.banner = banner{text: msg} }

func (a *app) clearBanner() { a.banner = banner{} }

// errText turns any error from the client into a sentence for the user:
// never a raw Go error, and always sanitised.
func (a *app) errText(err error) string {
	var ue *client.UnreachableError
	var ae *client.APIError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ue):
		url := ue.URL
		if url == "" {
			url = a.server
		}
		return "Cannot reach the Anavara server at " + clean(url)
	case errors.As(err, &ae):
		if ae.NoAPI() {
			return "No Anavara API at " + clean(a.server) + ": check --server (e.g. http://host:8080)."
		}
		if ae.Status == http.StatusTooManyRequests {
			if ae.RetryAfter > 0 {
				return fmt.Sprintf("Too many attempts. Try again in %s.", roundUp(ae.RetryAfter))
			}
			return "Too many attempts. Try again later."
		}
		if msg := cleanMsg(ae.Message); msg != "" {
			return msg
		}
		if t := http.StatusText(ae.Status); t != "" {
			return "The server answered: " + t
		}
		return fmt.Sprintf("The server answered with status %d", ae.Status)
	case errors.Is(err, context.DeadlineExceeded):
		return "The server at " + clean(a.server) + " took too long to answer."
	case errors.Is(err, context.Canceled):
		return "The request was cancelled."
	}
	return "Something went wrong talking to the server."
}

func roundUp(d time.Duration) string {
	if d < time.Second {
		return "1s"
	}
	return d.Round(time.Second).String()
}

// sessionEnded reports an authenticated call that failed because the
// session is gone: the client could not refresh and dropped its tokens.
func (a *app) sessionEnded(err error) bool {
	return client.IsStatus(err, http.StatusUnauthorized) && a.client.Tokens().RefreshToken == ""
}

// expire ends the session after the server refused it.
func (a *app) expire() tea.Cmd {
	a.user = nil
	cmd := a.reset(newSignInScreen(a, ""))
	a.failText("Your session has ended. Please sign in again.")
	return tea.Batch(cmd, a.forget())
}

// signedIn records the user after sign-in and opens the records.
func (a *app) signedIn(u model.User) tea.Cmd {
	a.user = &u
	// Staff-only keys vanish from the help of everyone else.
	a.keys.Users.SetEnabled(u.IsStaff)
	a.keys.Audit.SetEnabled(u.IsStaff)
	a.keys.AuditLog.SetEnabled(u.IsStaff)
	return a.reset(newRecordsScreen(a))
}

// offerKeyLink opens the "link this SSH key" offer over the current screen,
// once per session, when the session came in over SSH with an unknown key.
func (a *app) offerKeyLink() tea.Cmd {
	if a.linkKey == "" || a.user == nil {
		return nil
	}
	line := a.linkKey
	a.linkKey = ""
	return a.push(newLinkKeyScreen(a, line))
}

// remember stores the client's refresh token; call it inside a command.
func (a *app) remember(c *client.Client) {
	if a.creds == nil {
		return
	}
	if rt := c.Tokens().RefreshToken; rt != "" {
		_ = a.creds.Save(a.server, rt) // best effort: failing only costs a sign-in next time
	}
}

// forget deletes the stored refresh token.
func (a *app) forget() tea.Cmd {
	creds, server := a.creds, a.server
	if creds == nil {
		return nil
	}
	return func() tea.Msg {
		_ = creds.Delete(server)
		return nil
	}
}

// isStaff reports whether the signed-in user is staff.
func (a *app) isStaff() bool { return a.user != nil && a.user.IsStaff }

// today is the current UTC date, the one the server checks dates against.
func (a *app) today() model.Date { return model.DateOf(a.now()) }

// apiFields returns the field errors of an API error.
func apiFields(err error) (map[string][]string, bool) {
	var ae *client.APIError
	if errors.As(err, &ae) && len(ae.Fields) > 0 {
		return ae.Fields, true
	}
	return nil, false
}

// plural formats a count with its noun.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// excerpt is the start of s on one line, at most n runes.
func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(clean(s)), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:max(n-1, 0)]) + "…"
}
