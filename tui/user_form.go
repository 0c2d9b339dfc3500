package tui

import (
	"context"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// userFormScreen creates an account (staff only) or edits one: names, staff
// flag and active flag.
type userFormScreen struct {
	screenBase
	user *model.User // nil: new account
	formScreen
	first  *field
	last   *field
	email  *field
	pass   *field
	staff  *field
	active *field

	// version and stale are as in recordFormScreen: the account version
	// sent as If-Match (0 while init fetches it), and whether the server
	// said the account changed since the form was filled.
	version int64
	stale   bool
}

func newUserFormScreen(a *app, u *model.User) *userFormScreen {
	s := &userFormScreen{screenBase: a.newBase(), formScreen: formScreen{form: newForm(a)}}
	f := s.form
	if u != nil {
		c := *u
		s.user = &c
		s.version = u.Version
		f.static("Email", clean(u.Email))
	}
	s.first = f.text("first_name", "First name", "", model.MaxNameLength)
	s.last = f.text("last_name", "Last name", "", model.MaxNameLength)
	if u == nil {
		s.email = f.text("email", "Email", "name@example.org", model.MaxEmailLength)
		s.pass = f.password("password", "Password")
		s.pass.hint = "8+ characters"
		s.staff = f.toggle("is_staff", "Staff", false)
	} else {
		s.first.load(u.FirstName)
		s.last.load(u.LastName)
		s.staff = f.toggle("is_staff", "Staff", u.IsStaff)
		s.active = f.toggle("is_active", "Active", u.IsActive)
	}
	f.button("Save", s.submit)
	f.button("Cancel", func() tea.Cmd { return s.leave(a, a.pop) })
	f.submit = s.submit
	return s
}

// msgUserChanged is msgRecordChanged for an account.
const msgUserChanged = "Someone else changed this account meanwhile; reload it. ctrl+r reloads (your edits here are replaced)."

// storedUser is an account fetched for its version or to reload the form.
type storedUser struct {
	user   model.User
	reload bool
}

func (s *userFormScreen) init() tea.Cmd {
	cmd := s.form.init()
	if s.user != nil && s.version == 0 {
		cmd = tea.Batch(cmd, s.fetch(false))
	}
	return cmd
}

// fetch reads the account as stored; reload refills the form with it.
func (s *userFormScreen) fetch(reload bool) tea.Cmd {
	id := s.user.ID
	return do(s.a, &s.screenBase, "version", true, func(ctx context.Context, c *client.Client) (storedUser, error) {
		u, err := c.GetUser(ctx, id)
		return storedUser{user: u, reload: reload}, err
	})
}

// load fills the fields from u, as stored.
func (s *userFormScreen) load(u model.User) {
	s.first.load(u.FirstName)
	s.last.load(u.LastName)
	s.staff.on, s.staff.origOn = u.IsStaff, u.IsStaff
	s.active.on, s.active.origOn = u.IsActive, u.IsActive
}

func (s *userFormScreen) help() bindings {
	if s.user == nil {
		return s.form.help("save", "cancel")
	}
	// An edit form can be refilled from what is stored (after a 412).
	return s.form.help("save", "cancel", s.form.a.keys.Reload)
}

func (s *userFormScreen) title() string {
	if s.user == nil {
		return "New user"
	}
	return "Edit user"
}

func (s *userFormScreen) submit() tea.Cmd {
	if s.busy {
		return nil
	}
	a, f := s.a, s.form
	if s.user != nil && s.stale {
		a.failText(msgUserChanged)
		return nil
	}
	f.clearErrors()
	first, last := s.first.val(), s.last.val()
	if msg := model.ValidateName(first); msg != "" {
		s.first.err = msg
	}
	if msg := model.ValidateName(last); msg != "" {
		s.last.err = msg
	}
	if s.user == nil {
		req := client.CreateUserRequest{FirstName: first, LastName: last,
			Email: model.NormalizeEmail(s.email.val()), Password: s.pass.val(), IsStaff: s.staff.on}
		if msg := model.ValidateEmail(req.Email); msg != "" {
			s.email.err = msg
		}
		owner := model.PasswordOwner{Email: req.Email, FirstName: first, LastName: last}
		if msgs := model.ValidatePassword(req.Password, owner); len(msgs) > 0 {
			s.pass.err = msgs[0]
		}
		if f.hasErrors() {
			return f.focusFirstError()
		}
		return send(&s.formScreen, a, &s.screenBase, "save", true, func(ctx context.Context, c *client.Client) (model.User, error) {
			return c.CreateUser(ctx, req)
		})
	}
	self := a.user != nil && a.user.ID == s.user.ID
	if self && !s.staff.on {
		s.staff.err = model.MsgSelfDemote
	}
	if self && !s.active.on {
		s.active.err = model.MsgSelfDeactivate
	}
	if f.hasErrors() {
		return f.focusFirstError()
	}
	// Only what the user edited is sent: a name left alone keeps its
	// stored bytes, even when they are shown differently.
	var p client.UserPatch
	changed := false
	if s.first.changed() {
		p.FirstName, changed = &first, true
	}
	if s.last.changed() {
		p.LastName, changed = &last, true
	}
	if staff := s.staff.on; s.staff.changed() {
		p.IsStaff, changed = &staff, true
	}
	if active := s.active.on; s.active.changed() {
		p.IsActive, changed = &active, true
	}
	if !changed {
		a.notify("Nothing changed.")
		return a.pop()
	}
	id := s.user.ID
	p.IfVersion = s.version
	return send(&s.formScreen, a, &s.screenBase, "save", true, func(ctx context.Context, c *client.Client) (model.User, error) {
		return c.UpdateUser(ctx, id, p)
	})
}

func (s *userFormScreen) update(msg tea.Msg) tea.Cmd {
	a := s.a
	switch msg := msg.(type) {
	case result[storedUser]:
		if msg.err != nil {
			a.fail(msg.err)
			return nil
		}
		got := msg.val.user
		switch {
		case msg.val.reload:
			u := got
			s.user, s.version, s.stale = &u, got.Version, false
			s.load(got)
			a.notify("Reloaded the account as stored now.")
		case got.FirstName == s.user.FirstName && got.LastName == s.user.LastName &&
			got.IsStaff == s.user.IsStaff && got.IsActive == s.user.IsActive:
			s.version = got.Version
		default:
			s.stale = true
			a.failText(msgUserChanged)
		}
		return nil
	case result[model.User]:
		if s.user != nil && client.IsChanged(msg.err) {
			s.busy, s.stale = false, true
			a.failText(msgUserChanged)
			return nil
		}
		if cmd, ok := s.answered(msg.err); !ok {
			return cmd
		}
		u := msg.val
		if a.user != nil && a.user.ID == u.ID {
			a.user = &u
		}
		cmd := a.pop()
		if s.user == nil {
			a.notify("Account created for " + clean(u.Email) + ".")
		} else {
			a.notify("Saved " + clean(u.Email) + ".")
		}
		return cmd
	case tea.KeyMsg:
		if key.Matches(msg, s.form.a.keys.Reload) && s.user != nil && !s.busy {
			return s.fetch(true)
		}
	}
	return s.inputAsking(a, msg, a.pop)
}

func (s *userFormScreen) layout(w, _ int) { s.form.setWidth(w - 4) }

func (s *userFormScreen) view(w, h int) string {
	if s.user == nil {
		return s.a.page("New user", "staff accounts can manage every record and user", s.form.view())
	}
	return s.a.page("Edit user", clean(s.user.Email), s.form.view())
}
