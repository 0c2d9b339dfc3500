package tui

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// connectScreen resumes a stored or handed-over session: it asks who is
// signed in and opens the records, or falls back to sign-in.
type connectScreen struct {
	screenBase
}

func newConnectScreen(a *app) *connectScreen { return &connectScreen{screenBase: a.newBase()} }

func (s *connectScreen) init() tea.Cmd {
	a := s.a
	return do(a, &s.screenBase, "me", true, func(ctx context.Context, c *client.Client) (model.User, error) {
		u, err := c.Me(ctx)
		if err == nil {
			a.remember(c) // the first call may have rotated the refresh token
		}
		return u, err
	})
}

func (s *connectScreen) update(msg tea.Msg) tea.Cmd {
	a := s.a
	if msg, ok := msg.(result[model.User]); ok {
		if msg.err != nil {
			cmd := a.reset(newSignInScreen(a, ""))
			a.fail(msg.err)
			return cmd
		}
		return a.signedIn(msg.val)
	}
	return nil
}

func (s *connectScreen) title() string  { return "" }
func (s *connectScreen) typing() bool   { return false }
func (s *connectScreen) help() bindings { return bindings{} }

func (s *connectScreen) view(w, h int) string {
	text := s.a.spinnerView() + s.a.st.Muted.Render(" Connecting to "+clean(s.a.server)+"…")
	return s.a.st.r.Place(w, h, 0.5, 0.5, text)
}

// messageScreen only shows a message (a UI started without a client).
type messageScreen struct {
	screenBase
	text string
}

func newMessageScreen(a *app, text string) *messageScreen {
	return &messageScreen{screenBase: a.newBase(), text: text}
}

func (s *messageScreen) init() tea.Cmd          { return nil }
func (s *messageScreen) update(tea.Msg) tea.Cmd { return nil }
func (s *messageScreen) title() string          { return "" }
func (s *messageScreen) typing() bool           { return false }
func (s *messageScreen) help() bindings         { return bindings{} }
func (s *messageScreen) view(w, h int) string {
	return s.a.st.r.Place(w, h, 0.5, 0.5, s.a.st.Error.Render(s.text))
}
