package tui

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// personScreen is one account as staff see it, from the Users screen: who
// it is, and the records filed under it, newest treatment first, with n to
// create one for them; w, x and t lead to their access log, their export
// and their API tokens.
type personScreen struct {
	screenBase
	pagedList[model.MedicalRecord]
	u model.User
}

// personPage is a loaded page of the person's records.
type personPage struct {
	seq  int
	page model.Page[model.MedicalRecord]
}

func newPersonScreen(a *app, u model.User) *personScreen {
	s := &personScreen{screenBase: a.newBase(), u: u, pagedList: pagedList[model.MedicalRecord]{pageNo: 1}}
	s.list = newList(a,
		column{title: "Treatment", width: 10},
		column{title: "Patient name", weight: 30},
		column{title: "Doctor", weight: 24},
		column{title: "Diagnosis", weight: 46},
	)
	return s
}

func (s *personScreen) init() tea.Cmd   { return s.load() }
func (s *personScreen) resume() tea.Cmd { return s.load() }
func (s *personScreen) title() string   { return clean(s.u.Email) }
func (s *personScreen) typing() bool    { return false }

func (s *personScreen) load() tea.Cmd {
	s.seq++
	seq := s.seq
	q := client.RecordQuery{UserID: s.u.ID, Ordering: "-date_of_treatment"}
	q.Page, q.PageSize, q.ByCursor, q.Cursor = s.pageArgs()
	return do(s.a, &s.screenBase, "list", true, func(ctx context.Context, c *client.Client) (personPage, error) {
		p, err := c.ListRecords(ctx, q)
		return personPage{seq: seq, page: p}, err
	})
}

func (s *personScreen) update(msg tea.Msg) tea.Cmd {
	a, k := s.a, s.a.keys
	switch msg := msg.(type) {
	case result[personPage]:
		res := msg.val
		if show, cmd := s.settle(a, msg.err, res.seq != s.seq, 1, s.load); !show {
			return cmd
		}
		s.take(res.page)
		rows := make([][]string, len(res.page.Results))
		for i, r := range res.page.Results {
			rows[i] = []string{r.DateOfTreatment.String(), clean(r.PatientName), clean(r.Doctor), excerpt(r.Diagnosis, 200)}
		}
		s.list.setRows(rows)
		return nil
	case tea.KeyMsg:
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
			if r := s.selected(); r != nil {
				return a.push(newRecordDetailScreen(a, *r))
			}
		case key.Matches(msg, k.New):
			return a.push(newRecordFormFor(a, s.u))
		case key.Matches(msg, k.Edit):
			u := s.u
			return a.push(newUserFormScreen(a, &u))
		case key.Matches(msg, k.AccessLog):
			return a.push(newAccessLogScreen(a, s.u.ID, clean(s.u.FullName())))
		case key.Matches(msg, k.ExportData):
			return a.push(newExportScreen(a, s.u.ID, clean(s.u.FullName())))
		case key.Matches(msg, k.APITokens):
			return a.push(newAPITokensScreen(a, s.u.ID, clean(s.u.FullName())))
		default:
			s.list.update(msg)
		}
	}
	return nil
}

// newRecordFormFor is the new-record form with the patient account chosen
// and the patient name taken from it, still editable.
func newRecordFormFor(a *app, u model.User) *recordFormScreen {
	f := newRecordFormScreen(a, nil)
	if f.patient != nil {
		f.patient.value = u.ID
		f.patient.text = clean(u.Email) + "  " + clean(u.FullName())
	}
	// Loaded as a stored value: shown inert, saved byte for byte unless edited.
	f.name.load(u.FullName())
	return f
}

func (s *personScreen) layout(w, h int) { s.list.setSize(w-2, max(h-6, 3)) }

func (s *personScreen) view(w, h int) string {
	a, st := s.a, s.a.st
	u := s.u
	status := "active"
	if !u.IsActive {
		status = "deactivated"
	}
	var b strings.Builder
	b.WriteString(st.Title.Render(clean(u.FullName())) + st.Faint.Render("  ·  ") +
		st.Subtitle.Render(clean(u.Email)+" · "+u.Role()+" · "+status+" · joined "+u.Created.UTC().Format("2006-01-02")) + "\n\n")
	sub := "loading…"
	if s.loaded {
		sub = plural(s.count, "record", "records")
		if s.pages > 1 {
			sub += fmt.Sprintf(" · page %d of %d", s.pageNo, s.pages)
		}
	}
	k := a.keys
	action := func(k key.Binding) string {
		return st.Accent.Render(k.Help().Key) + " " + st.Muted.Render(k.Help().Desc)
	}
	line := st.Label.Render("Records") + st.Faint.Render("  ·  ") + st.Muted.Render(sub) +
		st.Faint.Render("      ") + action(k.AccessLog) + st.Faint.Render("  ·  ") + action(k.ExportData)
	// Their API tokens, where the line has room (always in the full help).
	if more := line + st.Faint.Render("  ·  ") + action(k.APITokens); lipgloss.Width(more) <= w-2 {
		line = more
	}
	b.WriteString(line + "\n\n")
	b.WriteString(s.body(a, "Loading records…", st.Muted.Render("No records yet: n creates one.")))
	return indent(b.String(), 2)
}

func (s *personScreen) help() bindings {
	k := s.a.keys
	return bindings{
		short: []key.Binding{k.Open, k.New, k.Edit, k.NextPage, k.Back}, // w and x show on the page
		full:  [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom, k.Open}, {k.New, k.Edit, k.Refresh}, {k.AccessLog, k.ExportData, k.APITokens}, {k.NextPage, k.PrevPage, k.Back}},
	}
}
