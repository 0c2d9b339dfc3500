package tui

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// changePasswordScreen changes the signed-in user's password. The server
// revokes every other session and hands back a fresh token pair, which the
// client keeps and the credential store saves.
type changePasswordScreen struct {
	screenBase
	formScreen
	current *field
	next    *field
	confirm *field
}

func newChangePasswordScreen(a *app) *changePasswordScreen {
	s := &changePasswordScreen{screenBase: a.newBase(), formScreen: formScreen{form: newForm(a)}}
	f := s.form
	s.current = f.password("current_password", "Current password")
	s.next = f.password("new_password", "New password")
	s.next.hint = "8+ characters"
	s.confirm = f.password("confirm", "Confirm")
	f.button("Change password", s.submit)
	f.button("Cancel", a.pop)
	f.submit = s.submit
	return s
}

func (s *changePasswordScreen) title() string  { return "Password" }
func (s *changePasswordScreen) help() bindings { return s.form.help("change password", "cancel") }

func (s *changePasswordScreen) submit() tea.Cmd {
	if s.busy {
		return nil
	}
	a, f := s.a, s.form
	f.clearErrors()
	cur, next := s.current.val(), s.next.val()
	if cur == "" {
		s.current.err = model.MsgBlank
	}
	var owner model.PasswordOwner
	if a.user != nil {
		owner = model.PasswordOwner{Email: a.user.Email, FirstName: a.user.FirstName, LastName: a.user.LastName}
	}
	if msgs := model.ValidatePassword(next, owner); len(msgs) > 0 {
		s.next.err = msgs[0]
	} else if s.confirm.val() != next {
		s.confirm.err = "The two passwords do not match."
	}
	if f.hasErrors() {
		return f.focusFirstError()
	}
	return send(&s.formScreen, a, &s.screenBase, "change", true, func(ctx context.Context, c *client.Client) (none, error) {
		err := c.ChangePassword(ctx, cur, next)
		if err == nil {
			a.remember(c)
		}
		return none{}, err
	})
}

func (s *changePasswordScreen) update(msg tea.Msg) tea.Cmd {
	a := s.a
	switch msg := msg.(type) {
	case result[none]:
		if cmd, ok := s.answered(msg.err); !ok {
			return cmd
		}
		cmd := a.pop()
		a.notify("Password changed. Other devices have been signed out.")
		return cmd
	}
	return s.inputAsking(a, msg, a.pop)
}

func (s *changePasswordScreen) layout(w, _ int) { s.form.setWidth(w - 4) }

func (s *changePasswordScreen) view(w, h int) string {
	return s.a.page("Change your password", "other devices will be signed out", s.form.view())
}
