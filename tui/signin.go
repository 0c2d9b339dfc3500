package tui

import (
	"context"
	"net/http"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// signInScreen asks for email and password. It is the bottom of the stack
// whenever nobody is signed in.
type signInScreen struct {
	screenBase
	formScreen
	email *field
	pass  *field
}

func newSignInScreen(a *app, email string) *signInScreen {
	s := &signInScreen{screenBase: a.newBase(), formScreen: formScreen{form: newForm(a)}}
	s.email = s.form.text("email", "Email", "you@example.org", model.MaxEmailLength)
	s.email.set(email)
	s.pass = s.form.password("password", "Password")
	s.form.button("Sign in", s.submit)
	s.form.button("Create account", func() tea.Cmd { return a.push(newSignUpScreen(a)) })
	s.form.button("Forgot password", func() tea.Cmd { return a.push(newForgotScreen(a, s.email.val())) })
	s.form.submit = s.submit
	return s
}

func (s *signInScreen) init() tea.Cmd {
	cmd := s.form.init()
	if s.email.val() != "" {
		cmd = s.form.focusKey("password")
	}
	return cmd
}

func (s *signInScreen) title() string { return "Sign in" }

// help names what enter does: on the fields and the first button it signs
// in, on "Create account" or "Forgot password" it opens that screen.
func (s *signInScreen) help() bindings {
	desc := "sign in"
	if i := s.form.focus - len(s.form.fields); i > 0 && i < len(s.form.buttons) {
		desc = strings.ToLower(s.form.buttons[i].label)
	}
	return s.form.help(desc, "")
}

func (s *signInScreen) submit() tea.Cmd {
	if s.busy {
		return nil
	}
	a := s.a
	s.form.clearErrors()
	email := model.NormalizeEmail(s.email.val())
	if msg := model.ValidateEmail(email); msg != "" {
		s.email.err = msg
	}
	pw := s.pass.val()
	if pw == "" {
		s.pass.err = model.MsgBlank
	}
	if s.form.hasErrors() {
		return s.form.focusFirstError()
	}
	return send(&s.formScreen, a, &s.screenBase, "login", false, func(ctx context.Context, c *client.Client) (model.AuthResponse, error) {
		res, err := c.Login(ctx, email, pw)
		if err == nil {
			a.remember(c)
		}
		return res, err
	})
}

func (s *signInScreen) update(msg tea.Msg) tea.Cmd {
	a := s.a
	switch msg := msg.(type) {
	case result[model.AuthResponse]:
		if client.IsStatus(msg.err, http.StatusUnauthorized) {
			s.busy = false
			s.pass.set("")
			a.fail(msg.err) // "Invalid email or password"
			return s.form.focusKey("password")
		}
		if cmd, ok := s.answered(msg.err); !ok {
			return cmd
		}
		res := msg.val
		cmd := a.signedIn(res.User)
		a.notify("Welcome back, " + clean(res.User.FirstName) + ".")
		return tea.Batch(cmd, a.offerKeyLink())
	}
	// The first screen: esc has nowhere to go back to.
	return s.input(msg, func() tea.Cmd { return nil })
}

func (s *signInScreen) layout(w, _ int) { s.form.setWidth(cardFormWidth(w)) }

func (s *signInScreen) view(w, h int) string {
	return s.a.card("Sign in to Anavara", "Server "+clean(s.a.server), s.form.view(), w, h)
}
