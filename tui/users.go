package tui

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// triState is a filter that is off, true or false.
type triState int

const (
	triAll triState = iota
	triYes
	triNo
)

func (t triState) next() triState { return (t + 1) % 3 }

func (t triState) ptr() *bool {
	switch t {
	case triYes:
		v := true
		return &v
	case triNo:
		v := false
		return &v
	}
	return nil
}

// usersPage is a loaded page of users, tagged with its request.
type usersPage struct {
	seq  int
	page model.Page[model.User]
}

// usersScreen lists accounts (staff only). With pick set it is the patient
// chooser of the record form: enter picks the selected account.
type usersScreen struct {
	screenBase
	pagedList[model.User]
	pick      func(model.User) tea.Cmd
	search    string
	input     textinput.Model
	searching bool
	staff     triState
	active    triState
}

func newUsersScreen(a *app, pick func(model.User) tea.Cmd) *usersScreen {
	s := &usersScreen{screenBase: a.newBase(), pick: pick, pagedList: pagedList[model.User]{pageNo: 1}}
	s.list = newList(a,
		column{title: "Email", weight: 40},
		column{title: "Name", weight: 35},
		column{title: "Role", width: 7},
		column{title: "Active", width: 6},
		column{title: "Joined", width: 10},
	)
	s.input = newSearchInput(a, "email or name")
	if pick != nil {
		s.active = triYes
		s.staff = triNo
	}
	return s
}

func (s *usersScreen) init() tea.Cmd   { return s.load() }
func (s *usersScreen) resume() tea.Cmd { return s.load() }
func (s *usersScreen) typing() bool    { return s.searching }

func (s *usersScreen) title() string {
	if s.pick != nil {
		return "Choose patient"
	}
	return "Users"
}

func (s *usersScreen) load() tea.Cmd {
	s.seq++
	seq := s.seq
	q := client.UserQuery{Search: s.search, IsStaff: s.staff.ptr(), IsActive: s.active.ptr()}
	q.Page, q.PageSize, q.ByCursor, q.Cursor = s.pageArgs()
	return do(s.a, &s.screenBase, "list", true, func(ctx context.Context, c *client.Client) (usersPage, error) {
		p, err := c.ListUsers(ctx, q)
		return usersPage{seq: seq, page: p}, err
	})
}

func (s *usersScreen) reload() tea.Cmd {
	s.first()
	s.list.setCursor(0)
	return s.load()
}

func (s *usersScreen) update(msg tea.Msg) tea.Cmd {
	a, k := s.a, s.a.keys
	switch msg := msg.(type) {
	case result[usersPage]:
		res := msg.val
		if show, cmd := s.settle(a, msg.err, res.seq != s.seq, 1, s.load); !show {
			return cmd
		}
		s.show(res.page)
		return nil
	case tea.KeyMsg:
		if s.searching {
			if submitted, cmd := editSearch(msg, &s.input, &s.searching, &s.search, s.list); !submitted {
				return cmd
			}
			return s.reload()
		}
		if handled, load := s.pageKey(k, msg); handled {
			if load {
				return s.load()
			}
			return nil
		}
		switch {
		case key.Matches(msg, k.Back):
			return a.pop()
		case key.Matches(msg, k.Open):
			u := s.selected()
			if u == nil {
				return nil
			}
			if s.pick != nil {
				cmd := s.pick(*u)
				return tea.Batch(cmd, a.pop())
			}
			return a.push(newPersonScreen(a, *u))
		case key.Matches(msg, k.Edit) && s.pick == nil:
			if u := s.selected(); u != nil {
				return a.push(newUserFormScreen(a, u))
			}
		case key.Matches(msg, k.New) && s.pick == nil:
			return a.push(newUserFormScreen(a, nil))
		case key.Matches(msg, k.Search):
			s.searching = true
			s.input.SetValue(s.search)
			s.input.CursorEnd()
			return s.input.Focus()
		case key.Matches(msg, k.StaffFilter):
			s.staff = s.staff.next()
			return s.reload()
		case key.Matches(msg, k.ActiveFilter):
			s.active = s.active.next()
			return s.reload()
		default:
			s.list.update(msg)
		}
		return nil
	}
	if s.searching {
		var cmd tea.Cmd
		s.input, cmd = s.input.Update(msg)
		return cmd
	}
	return nil
}

func (s *usersScreen) show(p model.Page[model.User]) {
	s.take(p)
	rows := make([][]string, len(p.Results))
	for i, u := range p.Results {
		active := "yes"
		if !u.IsActive {
			active = "no"
		}
		rows[i] = []string{clean(u.Email), clean(u.FullName()), u.Role(), active, u.Created.UTC().Format(model.DateLayout)}
	}
	s.list.setRows(rows)
}

func (s *usersScreen) layout(w, h int) {
	s.list.setSize(w-2, max(h-4, 3))
	s.input.Width = max(w-30, 10)
}

func (s *usersScreen) criteria() string {
	st := s.a.st
	role := map[triState]string{triAll: "everyone", triYes: "staff only", triNo: "patients only"}[s.staff]
	act := map[triState]string{triAll: "active and inactive", triYes: "active only", triNo: "inactive only"}[s.active]
	parts := []string{st.Chip.Render(role), st.Chip.Render(act)}
	if s.search != "" {
		parts = append(parts, st.Muted.Render("search ")+st.Chip.Render("“"+clean(s.search)+"”"))
	}
	return strings.Join(parts, st.Faint.Render(" · "))
}

func (s *usersScreen) view(w, h int) string {
	a, st := s.a, s.a.st
	var b strings.Builder
	title := "Users"
	if s.pick != nil {
		title = "Choose the patient account"
	}
	sub := "loading…"
	if s.loaded {
		sub = plural(s.count, "account", "accounts")
		if s.pages > 1 {
			sub += fmt.Sprintf(" · page %d of %d", s.pageNo, s.pages)
		}
	}
	b.WriteString(st.Title.Render(title) + st.Faint.Render("  ·  ") + st.Subtitle.Render(sub) + "\n")
	if s.searching {
		b.WriteString(s.input.View() + st.Hint.Render("  enter search · esc cancel") + "\n")
	} else {
		b.WriteString(s.criteria() + "\n")
	}
	b.WriteByte('\n')
	b.WriteString(s.body(a, "Loading accounts…", st.Muted.Render("No accounts match.")))
	return indent(b.String(), 2)
}

func (s *usersScreen) help() bindings {
	k := s.a.keys
	if s.searching {
		return bindings{short: []key.Binding{k.Apply, k.StopInput}, full: [][]key.Binding{{k.Apply, k.StopInput}}}
	}
	edit := k.Open
	edit.SetHelp("enter", "edit")
	if s.pick != nil {
		return bindings{
			short: []key.Binding{k.Pick, k.Search, k.StaffFilter, k.ActiveFilter, k.Back},
			full:  [][]key.Binding{{k.Up, k.Down, k.Pick}, {k.Search, k.StaffFilter, k.ActiveFilter}, {k.NextPage, k.PrevPage, k.Refresh}},
		}
	}
	return bindings{
		short: []key.Binding{edit, k.New, k.Search, k.StaffFilter, k.ActiveFilter, k.Back},
		full: [][]key.Binding{{k.Up, k.Down, edit, k.New},
			{k.Search, k.StaffFilter, k.ActiveFilter}, {k.NextPage, k.PrevPage, k.Refresh}},
	}
}
