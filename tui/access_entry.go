package tui

import (
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
)

// accessEntryScreen shows one event of an access log in full: who, with
// their account id, what, every record concerned by its whole id, from
// where and by which way in.
type accessEntryScreen struct {
	screenBase
	e   model.AccessLogEntry
	own bool
}

func newAccessEntryScreen(a *app, e model.AccessLogEntry, own bool) *accessEntryScreen {
	return &accessEntryScreen{screenBase: a.newBase(), e: e, own: own}
}

func (s *accessEntryScreen) init() tea.Cmd { return nil }
func (s *accessEntryScreen) title() string { return "Access" }
func (s *accessEntryScreen) typing() bool  { return false }

func (s *accessEntryScreen) update(msg tea.Msg) tea.Cmd {
	if km, ok := msg.(tea.KeyMsg); ok && key.Matches(km, s.a.keys.Back) {
		return s.a.pop()
	}
	return nil
}

func (s *accessEntryScreen) view(w, h int) string {
	st := s.a.st
	e := s.e
	who := accessWho(e.Actor)
	if e.Actor != nil && e.Actor.ID != "" {
		who += st.Muted.Render("  account " + clean(e.Actor.ID))
	}
	if e.Actor == nil {
		who += st.Muted.Render("  nobody signed in: a command run on the server")
	}
	rows := [][2]string{
		{"When", e.At.UTC().Format(time.RFC3339) + " (UTC)"},
		{"Who", who},
		{"What", accessWhat(e, s.own) + st.Faint.Render("  ·  "+clean(e.Action))},
	}
	switch {
	case e.Entity == model.EntityRecord && e.EntityID != nil:
		rows = append(rows, [2]string{"Record", clean(*e.EntityID)})
	case len(e.RecordIDs) > 0:
		ids := make([]string, len(e.RecordIDs))
		for i, id := range e.RecordIDs {
			ids[i] = clean(id)
		}
		rows = append(rows, [2]string{"Records", strings.Join(ids, "\n"+strings.Repeat(" ", 9))})
	case e.Entity == model.EntityDatabase:
		rows = append(rows, [2]string{"Records", "all of them, with everyone else's"})
	case e.Entity == model.EntityUser:
		whose := "your account"
		if !s.own {
			whose = "their account"
		}
		rows = append(rows, [2]string{"About", whose})
	}
	rows = append(rows,
		[2]string{"From", accessFrom(e)},
		[2]string{"Via", accessVia(e.Via)},
		[2]string{"Event", st.Muted.Render(clean(e.ID))},
	)
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(st.Label.Render(padRight(r[0], 9)) + r[1] + "\n")
	}
	if e.Action == model.ActionRecordList || e.Action == model.ActionRecordSearch {
		note := "Of a list or search, the log shows only the records of this person it served, never what was searched for."
		b.WriteString("\n" + st.Muted.Render(wrapWords(note, max(w-4, 20))))
	}
	heading := "Access to your data"
	if !s.own {
		heading = "Access to their data"
	}
	return s.a.page(heading, "", strings.TrimSuffix(b.String(), "\n"))
}

func (s *accessEntryScreen) help() bindings {
	k := s.a.keys
	return bindings{short: []key.Binding{k.Back}, full: [][]key.Binding{{k.Back}}}
}
