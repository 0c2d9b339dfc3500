package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// auditEventScreen shows one audit event: who acted, on what, when and
// from where. The trail records which account or record an event is
// about, never what it held or which fields changed, so neither is shown.
type auditEventScreen struct {
	screenBase
	e     model.AuditEvent
	actor *model.User // loaded on open; nil until then or when gone
	about *model.User // the account the event is about, for user events
}

func newAuditEventScreen(a *app, e model.AuditEvent) *auditEventScreen {
	return &auditEventScreen{screenBase: a.newBase(), e: e}
}

// auditPeople are the accounts an event names.
type auditPeople struct{ actor, about *model.User }

// init loads the accounts behind the actor and, for account events, the
// subject. Records are not loaded: opening one is itself a read of medical
// data, which the user asks for with o.
func (s *auditEventScreen) init() tea.Cmd {
	e := s.e
	return do(s.a, &s.screenBase, "people", true, func(ctx context.Context, c *client.Client) (auditPeople, error) {
		var p auditPeople
		if e.ActorID != nil {
			if u, err := c.GetUser(ctx, *e.ActorID); err == nil {
				p.actor = &u
			}
		}
		if e.Entity == model.EntityUser && e.EntityID != nil {
			if u, err := c.GetUser(ctx, *e.EntityID); err == nil {
				p.about = &u
			}
		}
		return p, nil
	})
}

func (s *auditEventScreen) title() string { return "Event" }
func (s *auditEventScreen) typing() bool  { return false }

func (s *auditEventScreen) update(msg tea.Msg) tea.Cmd {
	a, k := s.a, s.a.keys
	switch msg := msg.(type) {
	case result[model.MedicalRecord]:
		if msg.err != nil {
			a.fail(msg.err)
			return nil
		}
		return a.push(newRecordDetailScreen(a, msg.val))
	case result[auditPeople]:
		s.actor, s.about = msg.val.actor, msg.val.about
		return nil
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, k.Back):
			return a.pop()
		case key.Matches(msg, k.Open) && s.isRecord():
			id := *s.e.EntityID
			return do(a, &s.screenBase, "record", true, func(ctx context.Context, c *client.Client) (model.MedicalRecord, error) {
				return c.GetRecord(ctx, id)
			})
		}
	}
	return nil
}

func (s *auditEventScreen) isRecord() bool {
	return s.e.Entity == model.EntityRecord && s.e.EntityID != nil && s.e.Action != model.ActionRecordDelete
}

// person is an account as "email (Name, role)".
func person(u *model.User, id *string) string {
	switch {
	case u != nil:
		s := clean(u.Email)
		if n := clean(u.FullName()); n != "" {
			s += " (" + n + ", " + u.Role() + ")"
		}
		return s
	case id != nil:
		return clean(*id) + " (no longer readable)"
	}
	return "—"
}

func (s *auditEventScreen) view(w, h int) string {
	a, st := s.a, s.a.st
	e := s.e
	what := clean(e.Action)
	if m := actionMeaning(e.Action); m != "" {
		what += st.Faint.Render("  ·  ") + m
	}
	by := person(s.actor, e.ActorID)
	if e.ActorID == nil {
		by = "nobody signed in"
	}
	about := clean(e.Entity)
	switch {
	case e.Entity == model.EntityUser && e.EntityID != nil:
		about = "account " + person(s.about, e.EntityID)
	case e.EntityID != nil:
		about += " " + clean(*e.EntityID)
	}
	from := clean(e.IP)
	if from == "" {
		from = "—"
	}
	rows := [][2]string{
		{"When", e.At.UTC().Format(time.RFC3339) + " (UTC)"},
		{"Action", what},
		{"By", by},
		{"About", about},
		{"From", from},
	}
	if served, filters, ok := listedRecords(e); ok {
		rows = append(rows, [2]string{"Served", served}, [2]string{"Filters", filters})
	}
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(st.Label.Render(padRight(r[0], 9)) + r[1] + "\n")
	}
	if e.Action == model.ActionUserUpdate || e.Action == model.ActionRecordUpdate {
		b.WriteString("\n" + st.Muted.Render("The audit trail records who changed what, not the values or which fields changed."))
	}
	return a.page("Audit event", "", b.String())
}

// listedRecords describes what a list or search event served and how it
// was asked for; ok is false for other events. The trail keeps the shape
// of free text, never the text, so that is all there is to show.
func listedRecords(e model.AuditEvent) (served, filters string, ok bool) {
	if e.Action != model.ActionRecordList && e.Action != model.ActionRecordSearch {
		return "", "", false
	}
	var d model.RecordListDetail
	if err := json.Unmarshal(e.Detail, &d); err != nil {
		return plural(len(e.RecordIDs), "record", "records"), "—", true
	}
	page := fmt.Sprintf("page %d", d.Page)
	if d.Paginate == model.PaginateCursor {
		page = "a page by cursor"
	}
	served = fmt.Sprintf("%s of %d matching (%s, %d a page)", plural(len(e.RecordIDs), "record", "records"), d.Count, page, d.PageSize)
	var parts []string
	shape := func(name string, t *model.TextShape) {
		if t != nil {
			parts = append(parts, fmt.Sprintf("%s of %s, %s", name, plural(t.Words, "word", "words"), plural(t.Length, "character", "characters")))
		}
	}
	shape("search", d.Search)
	shape("doctor", d.Doctor)
	if d.UserID != "" {
		parts = append(parts, "account "+clean(d.UserID))
	}
	if d.TreatedAfter != nil {
		parts = append(parts, "treated from "+d.TreatedAfter.String())
	}
	if d.TreatedBefore != nil {
		parts = append(parts, "treated until "+d.TreatedBefore.String())
	}
	if d.Ordering != "" {
		parts = append(parts, "ordered by "+clean(d.Ordering))
	}
	if len(parts) == 0 {
		return served, "none", true
	}
	return served, strings.Join(parts, "; "), true
}

func (s *auditEventScreen) help() bindings {
	k := s.a.keys
	short := []key.Binding{k.Back}
	if s.isRecord() {
		short = append([]key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open the record"))}, short...)
	}
	return bindings{short: short, full: [][]key.Binding{short}}
}
