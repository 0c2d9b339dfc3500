package tui

import (
	"context"
	"net/http"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// IdleCheck asks the UI whether it has been idle for Options.IdleLock and
// should lock. The program running the UI sends it every few seconds (see
// IdleCheckEvery); the UI keeps no timer of its own, so a test can send it
// after moving Options.Now.
type IdleCheck struct{}

// IdleCheckEvery is how often a program with an idle lock should send
// IdleCheck: often enough that the lock comes at most this late.
func IdleCheckEvery(idleLock time.Duration) time.Duration {
	return min(max(idleLock/10, time.Second), 15*time.Second)
}

// lockScreen covers the UI of a signed-in user who has been idle: it shows
// no patient data, only who may unlock it, and asks for that account's
// password, which the API verifies. It is not on the screen stack, so the
// screens below go on receiving their results unseen, and nothing they do
// can uncover it.
type lockScreen struct {
	screenBase
	pass  textinput.Model
	typed bool // the password field has the keyboard
	busy  bool
	err   string
}

func newLockScreen(a *app) *lockScreen {
	ti := textinput.New()
	ti.Prompt = ""
	ti.EchoMode = textinput.EchoPassword
	ti.EchoCharacter = '•'
	ti.CharLimit = model.MaxPasswordLength
	ti.Width = 30
	a.st.styleInput(&ti)
	if !a.motion {
		ti.Cursor.SetMode(cursor.CursorStatic)
	}
	return &lockScreen{screenBase: a.newBase(), pass: ti}
}

func (s *lockScreen) help() []key.Binding {
	k := s.a.keys
	if s.typed {
		return []key.Binding{
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "unlock")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
			k.ForceQuit,
		}
	}
	return []key.Binding{
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "unlock")),
		k.Quit,
	}
}

// update handles keys while locked and the answer of the password check.
// It reports whether the lock is lifted, and whether to quit.
func (s *lockScreen) update(msg tea.Msg) (cmd tea.Cmd, unlocked, quit bool) {
	a := s.a
	switch msg := msg.(type) {
	case result[model.AuthResponse]:
		s.busy = false
		if msg.err == nil {
			return nil, true, false
		}
		s.pass.SetValue("")
		switch {
		case client.IsStatus(msg.err, http.StatusUnauthorized):
			s.err = "Wrong password."
		default:
			s.err = a.errText(msg.err)
		}
		return nil, false, false
	case tea.KeyMsg:
		k := a.keys
		if key.Matches(msg, k.ForceQuit) {
			return nil, false, true
		}
		if !s.typed {
			switch {
			case key.Matches(msg, k.Quit):
				return nil, false, true
			case msg.Type == tea.KeyEnter:
				s.typed = true
				return s.pass.Focus(), false, false
			}
			return nil, false, false
		}
		switch msg.Type {
		case tea.KeyEsc:
			s.typed = false
			s.pass.SetValue("")
			s.pass.Blur()
			return nil, false, false
		case tea.KeyEnter:
			return s.submit(), false, false
		}
		var c tea.Cmd
		s.pass, c = s.pass.Update(msg)
		return c, false, false
	}
	return nil, false, false
}

// submit checks the password by signing in again as the locked account:
// the fresh token pair replaces the one held (and the stored refresh token
// follows it), and wrong guesses meet the server's login limits.
func (s *lockScreen) submit() tea.Cmd {
	a := s.a
	if s.busy || a.user == nil {
		return nil
	}
	pw := s.pass.Value()
	if pw == "" {
		s.err = "Enter your password to unlock."
		return nil
	}
	s.busy, s.err = true, ""
	email := a.user.Email
	return do(a, &s.screenBase, "unlock", false, func(ctx context.Context, c *client.Client) (model.AuthResponse, error) {
		res, err := c.Login(ctx, email, pw)
		if err == nil {
			a.remember(c)
		}
		return res, err
	})
}

func (s *lockScreen) view(w, h int) string {
	a, st := s.a, s.a.st
	who := ""
	if a.user != nil {
		who = clean(a.user.Email)
	}
	body := st.Muted.Render("This terminal was locked after "+roundUp(a.idleLock)+" without input.") + "\n\n"
	if s.typed {
		body += "Password for " + who + "\n" + s.pass.View()
	} else {
		body += "Press enter to unlock as " + who + ", or q to quit."
	}
	if s.busy {
		body += "\n\n" + st.Muted.Render("Checking…")
	}
	if s.err != "" {
		body += "\n\n" + st.ErrBanner.Render("✗ "+s.err)
	}
	return a.card("Locked", "", body, w, h)
}
