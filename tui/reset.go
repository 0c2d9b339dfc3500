package tui

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// resetScreen sets a new password with the emailed code.
type resetScreen struct {
	screenBase
	formScreen
	email   *field
	code    *field
	pass    *field
	confirm *field
}

func newResetScreen(a *app, email string) *resetScreen {
	s := &resetScreen{screenBase: a.newBase(), formScreen: formScreen{form: newForm(a)}}
	f := s.form
	s.email = f.text("email", "Email", "you@example.org", model.MaxEmailLength)
	s.email.set(email)
	s.code = f.text("otp_code", "Code", "123456", model.OTPLength)
	s.code.input.Width = model.OTPLength + 1
	s.code.hint = "6 digits, from the email"
	s.pass = f.password("password", "New password")
	s.confirm = f.password("confirm", "Confirm")
	f.button("Set password", s.submit)
	f.button("Back", a.pop)
	f.submit = s.submit
	return s
}

func (s *resetScreen) init() tea.Cmd {
	cmd := s.form.init()
	if s.email.val() != "" {
		cmd = s.form.focusKey("otp_code")
	}
	return cmd
}

func (s *resetScreen) title() string  { return "Reset password" }
func (s *resetScreen) help() bindings { return s.form.help("set password", "back") }

func (s *resetScreen) submit() tea.Cmd {
	if s.busy {
		return nil
	}
	s.form.clearErrors()
	email := model.NormalizeEmail(s.email.val())
	code := s.code.val()
	pw := s.pass.val()
	if msg := model.ValidateEmail(email); msg != "" {
		s.email.err = msg
	}
	if msg := model.ValidateOTPCode(code); msg != "" {
		s.code.err = msg
	}
	if msgs := model.ValidatePassword(pw, model.PasswordOwner{Email: email}); len(msgs) > 0 {
		s.pass.err = msgs[0]
	} else if s.confirm.val() != pw {
		s.confirm.err = "The two passwords do not match."
	}
	if s.form.hasErrors() {
		return s.form.focusFirstError()
	}
	return send(&s.formScreen, s.a, &s.screenBase, "reset", false, func(ctx context.Context, c *client.Client) ([2]string, error) {
		msg, err := c.ResetPassword(ctx, email, code, pw)
		return [2]string{email, msg}, err
	})
}

func (s *resetScreen) update(msg tea.Msg) tea.Cmd {
	a := s.a
	switch msg := msg.(type) {
	case result[[2]string]:
		if cmd, ok := s.answered(msg.err); !ok {
			return cmd
		}
		v := msg.val
		cmd := a.reset(newSignInScreen(a, v[0]))
		a.notify("Password changed. Sign in with your new password.")
		return cmd
	}
	return s.inputAsking(a, msg, a.pop)
}

func (s *resetScreen) layout(w, _ int) {
	s.form.setWidth(cardFormWidth(w))
	s.code.input.Width = model.OTPLength + 1
}

func (s *resetScreen) view(w, h int) string {
	return s.a.card("Choose a new password", "Enter the code we emailed you.", s.form.view(), w, h)
}
