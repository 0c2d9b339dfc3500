package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// auditPage is a loaded page of audit events with the accounts of their
// actors.
type auditPage struct {
	seq    int
	page   model.Page[model.AuditEvent]
	actors map[string]string // actor id → email
}

// auditScreen shows audit events newest first (staff only): one record's
// history, or the whole trail with filters (the audit log).
type auditScreen struct {
	screenBase
	pagedList[model.AuditEvent]
	// log is the whole trail, filtered by filters; otherwise the history
	// of entityID only.
	log      bool
	filters  auditFilters
	entityID string
	about    string
	actors   map[string]string
}

// newAuditScreen is the history of one record or account.
func newAuditScreen(a *app, entityID, about string) *auditScreen {
	s := newAuditList(a)
	s.entityID, s.about = entityID, about
	return s
}

// newAuditLogScreen is the whole audit trail, with filters.
func newAuditLogScreen(a *app) *auditScreen {
	s := newAuditList(a)
	s.log = true
	return s
}

func newAuditList(a *app) *auditScreen {
	s := &auditScreen{screenBase: a.newBase(),
		pagedList: pagedList[model.AuditEvent]{pageNo: 1},
		actors:    map[string]string{}}
	s.list = newList(a,
		column{title: "When (UTC)", width: 19},
		column{title: "Action", width: 29}, // auth.password_reset_requested
		column{title: "By", weight: 70},
		column{title: "From", weight: 30},
	)
	return s
}

func (s *auditScreen) init() tea.Cmd { return s.load() }
func (s *auditScreen) typing() bool  { return false }

func (s *auditScreen) title() string {
	if s.log {
		return "Audit log"
	}
	return "Audit"
}

// query is what the screen lists.
func (s *auditScreen) query() client.AuditQuery {
	q := client.AuditQuery{EntityID: s.entityID}
	q.Page, q.PageSize, q.ByCursor, q.Cursor = s.pageArgs()
	if s.log {
		q.Action, q.ActorID, q.EntityID = s.filters.action, s.filters.actorID, s.filters.entityID
		if s.filters.since != nil {
			d := *s.filters.since
			t := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
			q.Since = &t
		}
	}
	return q
}

// load fetches a page of events, then the accounts of actors not yet known.
func (s *auditScreen) load() tea.Cmd {
	s.seq++
	seq, q := s.seq, s.query()
	known := make(map[string]bool, len(s.actors))
	for k := range s.actors {
		known[k] = true
	}
	return do(s.a, &s.screenBase, "list", true, func(ctx context.Context, c *client.Client) (auditPage, error) {
		p, err := c.ListAuditEvents(ctx, q)
		res := auditPage{seq: seq, page: p, actors: map[string]string{}}
		if err != nil {
			return res, err
		}
		for _, e := range p.Results {
			if e.ActorID == nil || known[*e.ActorID] {
				continue
			}
			known[*e.ActorID] = true
			if u, err := c.GetUser(ctx, *e.ActorID); err == nil {
				res.actors[*e.ActorID] = u.Email
			}
		}
		return res, nil
	})
}

func (s *auditScreen) update(msg tea.Msg) tea.Cmd {
	a, k := s.a, s.a.keys
	switch msg := msg.(type) {
	case result[auditPage]:
		res := msg.val
		if show, cmd := s.settle(a, msg.err, res.seq != s.seq, 1, s.load); !show {
			return cmd
		}
		for id, email := range res.actors {
			s.actors[id] = email
		}
		s.show(res.page)
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
			if e := s.selected(); e != nil {
				return a.push(newAuditEventScreen(a, *e))
			}
		case key.Matches(msg, k.Filter) && s.log:
			return a.push(newAuditFiltersScreen(a, s.filters, func(f auditFilters) tea.Cmd {
				s.filters = f
				s.first()
				return s.load()
			}))
		default:
			s.list.update(msg)
		}
	}
	return nil
}

func (s *auditScreen) show(p model.Page[model.AuditEvent]) {
	s.take(p)
	rows := make([][]string, len(p.Results))
	for i, e := range p.Results {
		by := "—"
		if e.ActorID != nil {
			by = clean(*e.ActorID)
			if email, ok := s.actors[*e.ActorID]; ok {
				by = clean(email)
			}
		}
		rows[i] = []string{e.At.UTC().Format("2006-01-02 15:04:05"), clean(e.Action), by, clean(e.IP)}
	}
	s.list.setRows(rows)
}

func (s *auditScreen) layout(w, h int) { s.list.setSize(w-2, max(h-3, 3)) }

func (s *auditScreen) view(w, h int) string {
	a, st := s.a, s.a.st
	var b strings.Builder
	sub := "loading…"
	if s.loaded {
		sub = plural(s.count, "event", "events")
		if s.pages > 1 {
			sub += fmt.Sprintf(" · page %d of %d", s.pageNo, s.pages)
		}
	}
	heading := "Audit history of " + s.about
	if s.log {
		heading = "Audit log"
		if f := s.filters.describe(); f != "" {
			sub += " · " + f
		}
	}
	b.WriteString(st.Title.Render(heading) + st.Faint.Render("  ·  ") + st.Subtitle.Render(sub) + "\n\n")
	b.WriteString(s.body(a, "Loading history…", st.Muted.Render("No events recorded.")))
	return indent(b.String(), 2)
}

func (s *auditScreen) help() bindings {
	k := s.a.keys
	if s.log {
		return bindings{
			short: []key.Binding{k.Open, k.Filter, k.NextPage, k.PrevPage, k.Back},
			full:  [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom}, {k.Open, k.Filter, k.NextPage, k.PrevPage, k.Refresh}, {k.Back}},
		}
	}
	return bindings{
		short: []key.Binding{k.Open, k.NextPage, k.PrevPage, k.Refresh, k.Back},
		full:  [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom}, {k.Open, k.NextPage, k.PrevPage, k.Refresh}, {k.Back}},
	}
}
