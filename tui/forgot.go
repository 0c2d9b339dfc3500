package tui

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// forgotScreen asks the server to email a password-reset code.
type forgotScreen struct {
	screenBase
	formScreen
	email *field
}

func newForgotScreen(a *app, email string) *forgotScreen {
	s := &forgotScreen{screenBase: a.newBase(), formScreen: formScreen{form: newForm(a)}}
	s.email = s.form.text("email", "Email", "you@example.org", model.MaxEmailLength)
	s.email.set(email)
	s.form.button("Send code", s.submit)
	s.form.button("I have a code", func() tea.Cmd {
		return a.push(newResetScreen(a, model.NormalizeEmail(s.email.val())))
	})
	s.form.button("Back", a.pop)
	s.form.submit = s.submit
	return s
}

func (s *forgotScreen) title() string  { return "Forgot password" }
func (s *forgotScreen) help() bindings { return s.form.help("send code", "back") }

func (s *forgotScreen) submit() tea.Cmd {
	if s.busy {
		return nil
	}
	s.form.clearErrors()
	email := model.NormalizeEmail(s.email.val())
	if msg := model.ValidateEmail(email); msg != "" {
		s.email.err = msg
		return s.form.focusFirstError()
	}
	return send(&s.formScreen, s.a, &s.screenBase, "forgot", false, func(ctx context.Context, c *client.Client) ([2]string, error) {
		msg, err := c.ForgotPassword(ctx, email)
		return [2]string{email, msg}, err
	})
}

func (s *forgotScreen) update(msg tea.Msg) tea.Cmd {
	a := s.a
	switch msg := msg.(type) {
	case result[[2]string]:
		if cmd, ok := s.answered(msg.err); !ok {
			return cmd
		}
		v := msg.val
		// Replace this screen with the code entry.
		a.stack = a.stack[:len(a.stack)-1]
		cmd := a.push(newResetScreen(a, v[0]))
		text := cleanMsg(v[1])
		if text == "" {
			text = "If an account exists for that email, a reset code has been sent."
		}
		a.notify(text)
		return cmd
	}
	return s.input(msg, a.pop)
}

func (s *forgotScreen) layout(w, _ int) { s.form.setWidth(cardFormWidth(w)) }

func (s *forgotScreen) view(w, h int) string {
	return s.a.card("Forgot your password?", "We will email you a 6-digit code to set a new one.", s.form.view(), w, h)
}
