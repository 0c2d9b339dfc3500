package tui

import (
	"context"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// profileScreen shows the signed-in account, and leads to editing the
// names, changing the password and signing out.
type profileScreen struct {
	screenBase
	loading bool
}

func newProfileScreen(a *app) *profileScreen {
	return &profileScreen{screenBase: a.newBase(), loading: true}
}

func (s *profileScreen) init() tea.Cmd   { return s.fetch() }
func (s *profileScreen) resume() tea.Cmd { return s.fetch() }
func (s *profileScreen) title() string   { return "Profile" }
func (s *profileScreen) typing() bool    { return false }

func (s *profileScreen) fetch() tea.Cmd {
	return do(s.a, &s.screenBase, "me", true, func(ctx context.Context, c *client.Client) (model.User, error) {
		return c.Me(ctx)
	})
}

func (s *profileScreen) help() bindings {
	k := s.a.keys
	return bindings{
		short: []key.Binding{k.EditNames, k.ChangePassword, k.SSHKeys, k.APITokens, k.Back}, // o sign out, w and x show on the page
		full:  [][]key.Binding{{k.EditNames, k.ChangePassword, k.SSHKeys, k.APITokens, k.SignOut}, {k.AccessLog, k.ExportData}, {k.Refresh, k.Back}},
	}
}

func (s *profileScreen) update(msg tea.Msg) tea.Cmd {
	a, k := s.a, s.a.keys
	switch msg := msg.(type) {
	case result[model.User]: // me
		s.loading = false
		if msg.err != nil {
			a.fail(msg.err)
			return nil
		}
		u := msg.val
		a.user = &u
		return nil
	case result[none]: // logout
		// Signed out locally whatever the server said: the tokens are
		// gone from the client and the credential store.
		a.user = nil
		cmd := a.reset(newSignInScreen(a, ""))
		if msg.err != nil {
			a.notify("Signed out on this device (the server could not be told: " + a.errText(msg.err) + ").")
		} else {
			a.notify("Signed out.")
		}
		return cmd
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, k.Back):
			return a.pop()
		case key.Matches(msg, k.EditNames):
			return a.push(newProfileNamesScreen(a))
		case key.Matches(msg, k.ChangePassword):
			return a.push(newChangePasswordScreen(a))
		case key.Matches(msg, k.SSHKeys):
			return a.push(newSSHKeysScreen(a))
		case key.Matches(msg, k.APITokens):
			return a.push(newAPITokensScreen(a, "", ""))
		case key.Matches(msg, k.AccessLog):
			return a.push(newAccessLogScreen(a, "", ""))
		case key.Matches(msg, k.ExportData):
			return a.push(newExportScreen(a, "", ""))
		case key.Matches(msg, k.Refresh):
			return s.fetch()
		case key.Matches(msg, k.SignOut):
			return a.push(newConfirmScreen(a, "Sign out", "Sign out of Anavara on this device?", "Sign out", s.signOut))
		}
	}
	return nil
}

// signOut revokes the refresh token on the server and forgets it here.
func (s *profileScreen) signOut() tea.Cmd {
	creds, server := s.a.creds, s.a.server
	return do(s.a, &s.screenBase, "logout", false, func(ctx context.Context, c *client.Client) (none, error) {
		err := c.Logout(ctx)
		if creds != nil {
			_ = creds.Delete(server)
		}
		return none{}, err
	})
}

func (s *profileScreen) view(w, h int) string {
	a, st := s.a, s.a.st
	u := a.user
	if u == nil {
		return ""
	}
	var b strings.Builder
	row := func(label, value string) {
		b.WriteString(st.Label.Render(padRight(label, 16)) + value + "\n")
	}
	row("Name", st.Value.Bold(true).Render(clean(u.FullName())))
	row("Email", st.Value.Render(clean(u.Email)))
	role := st.Value.Render("patient") + st.Muted.Render("  sees and manages own records")
	if u.IsStaff {
		role = st.StaffRole.Render("staff") + st.Muted.Render("  manages every record and account")
	}
	row("Role", role)
	status := st.Success.Render("active")
	if !u.IsActive {
		status = st.Error.Render("inactive")
	}
	row("Account", status)
	row("Member since", st.Muted.Render(stamp(u.Created)))
	row("Account ID", st.Muted.Render(clean(u.ID)))
	b.WriteString("\n")
	action := func(k key.Binding) string {
		return st.Accent.Render(k.Help().Key) + " " + st.Muted.Render(k.Help().Desc)
	}
	k := a.keys
	sep := st.Faint.Render("  ·  ")
	b.WriteString(action(k.EditNames) + sep + action(k.ChangePassword) + sep + action(k.SignOut))
	named := func(k key.Binding, desc string) string {
		return st.Accent.Render(k.Help().Key) + " " + st.Muted.Render(desc)
	}
	// What signs in besides the password: SSH keys, and tokens for scripts.
	b.WriteString("\n\n" + st.Label.Render(padRight("Sign-in", 16)) +
		action(k.SSHKeys) + sep + named(k.APITokens, "api tokens for scripts"))
	// Your data: who looked at it, and a copy of it.
	b.WriteString("\n\n" + st.Label.Render(padRight("Your data", 16)) +
		named(k.AccessLog, "who accessed my records") + sep + named(k.ExportData, "export my data"))
	sub := clean(a.server)
	if s.loading {
		sub += " · " + a.spinnerView()
	}
	return a.page("Your profile", sub, b.String())
}
