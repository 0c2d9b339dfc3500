package tui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
)

// auditActions are the actions the audit trail records, with what each
// means, in the order the picker lists them.
var auditActions = [...]struct{ action, meaning string }{
	{model.ActionLogin, "signed in with a password"},
	{model.ActionLoginFailed, "a sign-in failed"},
	{model.ActionSSHLogin, "signed in with an SSH key"},
	{model.ActionLogout, "signed out"},
	{model.ActionSignup, "created a patient account"},
	{model.ActionResetRequested, "asked for a password-reset code"},
	{model.ActionPasswordReset, "reset the password with a code"},
	{model.ActionPasswordChange, "changed the password"},
	{model.ActionTokenReuse, "a spent refresh token came back (possible theft)"},
	{model.ActionTokenGrace, "a refresh token was replayed by its own client within seconds (two windows)"},
	{model.ActionUserCreate, "staff created an account"},
	{model.ActionUserUpdate, "an account was changed"},
	{model.ActionRecordCreate, "a record was created"},
	{model.ActionRecordRead, "a record was opened"},
	{model.ActionRecordList, "a page of records was listed"},
	{model.ActionRecordSearch, "records were searched"},
	{model.ActionRecordUpdate, "a record was changed"},
	{model.ActionRecordDelete, "a record was deleted"},
	{model.ActionSSHKeyAdd, "an SSH key was added"},
	{model.ActionSSHKeyRemove, "an SSH key was removed"},
	{model.ActionTokenCreate, "an API token was created"},
	{model.ActionTokenRevoke, "an API token was revoked"},
	{model.ActionSSHToken, "got a 15-minute API token over SSH"},
	{model.ActionAccessLogRead, "a person's access log was read"},
	{model.ActionUserExport, "a person's data was exported"},
	{model.ActionPopulationExport, "the whole database was exported"},
}

// actionMeaning says in words what action means, "" for one this build
// does not know.
func actionMeaning(action string) string {
	for _, a := range auditActions {
		if a.action == action {
			return a.meaning
		}
	}
	return ""
}

// auditActionsScreen picks an action to filter the audit log by.
type auditActionsScreen struct {
	screenBase
	list *list
	pick func(action string) tea.Cmd
}

func newAuditActionsScreen(a *app, pick func(string) tea.Cmd) *auditActionsScreen {
	s := &auditActionsScreen{screenBase: a.newBase(), pick: pick}
	s.list = newList(a, column{title: "Action", width: 30}, column{title: "Meaning", weight: 100})
	rows := make([][]string, len(auditActions))
	for i, act := range auditActions {
		rows[i] = []string{act.action, act.meaning}
	}
	s.list.setRows(rows)
	return s
}

func (s *auditActionsScreen) init() tea.Cmd { return nil }
func (s *auditActionsScreen) title() string { return "Action" }
func (s *auditActionsScreen) typing() bool  { return false }

func (s *auditActionsScreen) update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	a, k := s.a, s.a.keys
	switch {
	case key.Matches(km, k.Back):
		return a.pop()
	case key.Matches(km, k.Open):
		if i := s.list.cursor(); i >= 0 && i < len(auditActions) {
			return tea.Batch(s.pick(auditActions[i].action), a.pop())
		}
	default:
		s.list.update(km)
	}
	return nil
}

func (s *auditActionsScreen) layout(w, h int) { s.list.setSize(w-2, max(h-3, 3)) }

func (s *auditActionsScreen) view(w, h int) string {
	return s.a.page("Filter by action", "enter picks one", s.list.view())
}

func (s *auditActionsScreen) help() bindings {
	k := s.a.keys
	return bindings{
		short: []key.Binding{k.Up, k.Down, k.Open, k.Back},
		full:  [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom}, {k.Open, k.Back}},
	}
}
