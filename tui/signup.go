package tui

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// signUpScreen creates a patient account and signs it in.
type signUpScreen struct {
	screenBase
	formScreen
	first   *field
	last    *field
	email   *field
	pass    *field
	confirm *field
}

func newSignUpScreen(a *app) *signUpScreen {
	s := &signUpScreen{screenBase: a.newBase(), formScreen: formScreen{form: newForm(a)}}
	f := s.form
	s.first = f.text("first_name", "First name", "", model.MaxNameLength)
	s.last = f.text("last_name", "Last name", "", model.MaxNameLength)
	s.email = f.text("email", "Email", "you@example.org", model.MaxEmailLength)
	s.pass = f.password("password", "Password")
	s.pass.hint = "8+ characters"
	s.confirm = f.password("confirm", "Confirm")
	f.button("Create account", s.submit)
	f.button("Back to sign in", a.pop)
	f.submit = s.submit
	return s
}

func (s *signUpScreen) title() string  { return "Create account" }
func (s *signUpScreen) help() bindings { return s.form.help("create account", "back") }

func (s *signUpScreen) submit() tea.Cmd {
	if s.busy {
		return nil
	}
	a := s.a
	s.form.clearErrors()
	req := client.SignupRequest{
		FirstName: s.first.val(),
		LastName:  s.last.val(),
		Email:     model.NormalizeEmail(s.email.val()),
		Password:  s.pass.val(),
	}
	if msg := model.ValidateName(req.FirstName); msg != "" {
		s.first.err = msg
	}
	if msg := model.ValidateName(req.LastName); msg != "" {
		s.last.err = msg
	}
	if msg := model.ValidateEmail(req.Email); msg != "" {
		s.email.err = msg
	}
	owner := model.PasswordOwner{Email: req.Email, FirstName: req.FirstName, LastName: req.LastName}
	if msgs := model.ValidatePassword(req.Password, owner); len(msgs) > 0 {
		s.pass.err = msgs[0]
	} else if s.confirm.val() != req.Password {
		s.confirm.err = "The two passwords do not match."
	}
	if s.form.hasErrors() {
		return s.form.focusFirstError()
	}
	return send(&s.formScreen, a, &s.screenBase, "signup", false, func(ctx context.Context, c *client.Client) (model.AuthResponse, error) {
		res, err := c.Signup(ctx, req)
		if err == nil {
			a.remember(c)
		}
		return res, err
	})
}

func (s *signUpScreen) update(msg tea.Msg) tea.Cmd {
	a := s.a
	switch msg := msg.(type) {
	case result[model.AuthResponse]:
		if cmd, ok := s.answered(msg.err); !ok {
			return cmd
		}
		res := msg.val
		cmd := a.signedIn(res.User)
		a.notify("Welcome to Anavara, " + clean(res.User.FirstName) + ". Your account is ready.")
		return tea.Batch(cmd, a.offerKeyLink())
	}
	return s.inputAsking(a, msg, a.pop)
}

func (s *signUpScreen) layout(w, _ int) { s.form.setWidth(cardFormWidth(w)) }

func (s *signUpScreen) view(w, h int) string {
	return s.a.card("Create your account", "Patients sign up here; staff accounts are made by staff.", s.form.view(), w, h)
}
