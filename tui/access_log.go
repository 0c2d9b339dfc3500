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

// accessLogScreen is a person's access log, newest first: who else viewed,
// listed, searched, exported, changed or deleted their records or their
// account, when, and from where. Patients open their own from the profile,
// staff a person's from that person's page, and both the log of one
// record from its view. The server audits every read of it.
type accessLogScreen struct {
	screenBase
	pagedList[model.AccessLogEntry]
	// userID is the person whose log it is; "" is the signed-in user.
	userID string
	// whose names that person in the heading; "" for the user's own.
	whose   string
	filters accessLogFilters
}

// accessLogPage is a loaded page of the log.
type accessLogPage struct {
	seq  int
	page model.Page[model.AccessLogEntry]
}

// newAccessLogScreen is the access log of account userID, named whose
// ("" and "" for the signed-in user's own).
func newAccessLogScreen(a *app, userID, whose string) *accessLogScreen {
	if a.user != nil && userID == a.user.ID {
		userID, whose = "", ""
	}
	s := &accessLogScreen{screenBase: a.newBase(), userID: userID, whose: whose,
		pagedList: pagedList[model.AccessLogEntry]{pageNo: 1}}
	s.list = newList(a,
		column{title: "When (UTC)", width: 16},
		column{title: "Who", weight: 27},
		column{title: "What", weight: 42}, // "listed records (1 of yours)" whole at 100 columns
		column{title: "Record", width: 8},
		column{title: "From", weight: 19},
	)
	return s
}

// newRecordAccessLogScreen is who accessed one record: its owner's
// access log, filtered to it.
func newRecordAccessLogScreen(a *app, rec model.MedicalRecord, owner *model.User) *accessLogScreen {
	whose := shortID(rec.UserID)
	if owner != nil {
		whose = clean(owner.FullName())
	}
	s := newAccessLogScreen(a, rec.UserID, whose)
	s.filters.recordID = rec.ID
	s.filters.recordLabel = "the record of " + rec.DateOfTreatment.String()
	return s
}

// The log does not reload as it comes back on top: every read of it is
// audited, and staff reading a person's log show in that log.
func (s *accessLogScreen) init() tea.Cmd { return s.load() }
func (s *accessLogScreen) title() string { return "Who accessed" }
func (s *accessLogScreen) typing() bool  { return false }

// own reports whether this is the signed-in user's own log.
func (s *accessLogScreen) own() bool { return s.userID == "" }

func (s *accessLogScreen) query() client.AccessLogQuery {
	q := client.AccessLogQuery{RecordID: s.filters.recordID}
	q.Page, q.PageSize, q.ByCursor, q.Cursor = s.pageArgs()
	if d := s.filters.since; d != nil {
		t := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
		q.Since = &t
	}
	return q
}

func (s *accessLogScreen) load() tea.Cmd {
	s.seq++
	seq, q, id := s.seq, s.query(), s.userID
	return do(s.a, &s.screenBase, "list", true, func(ctx context.Context, c *client.Client) (accessLogPage, error) {
		p, err := c.AccessLog(ctx, id, q)
		return accessLogPage{seq: seq, page: p}, err
	})
}

func (s *accessLogScreen) update(msg tea.Msg) tea.Cmd {
	a, k := s.a, s.a.keys
	switch msg := msg.(type) {
	case result[accessLogPage]:
		res := msg.val
		if show, cmd := s.settle(a, msg.err, res.seq != s.seq, 1, s.load); !show {
			return cmd
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
				return a.push(newAccessEntryScreen(a, *e, s.own()))
			}
		case key.Matches(msg, k.Filter):
			return a.push(newAccessLogFiltersScreen(a, s.filters, func(f accessLogFilters) tea.Cmd {
				s.filters = f
				s.first()
				s.list.setCursor(0)
				return s.load()
			}))
		default:
			s.list.update(msg)
		}
	}
	return nil
}

func (s *accessLogScreen) show(p model.Page[model.AccessLogEntry]) {
	s.take(p)
	own := s.own()
	rows := make([][]string, len(p.Results))
	for i, e := range p.Results {
		rows[i] = []string{e.At.UTC().Format("2006-01-02 15:04"), accessWho(e.Actor), accessWhat(e, own), accessRecord(e), accessFrom(e)}
	}
	s.list.setRows(rows)
}

func (s *accessLogScreen) layout(w, h int) { s.list.setSize(w-2, max(h-3, 3)) }

func (s *accessLogScreen) view(w, h int) string {
	a, st := s.a, s.a.st
	heading := "Who accessed my records"
	if !s.own() {
		heading = "Who accessed the records of " + s.whose
	}
	sub := "loading…"
	if s.loaded {
		sub = plural(s.count, "event", "events")
		if s.pages > 1 {
			sub += fmt.Sprintf(" · page %d of %d", s.pageNo, s.pages)
		}
	}
	if f := s.filters.describe(); f != "" {
		sub += " · " + f
	}
	var b strings.Builder
	b.WriteString(st.Title.Render(heading) + st.Faint.Render("  ·  ") + st.Subtitle.Render(sub) + "\n\n")
	b.WriteString(s.body(a, "Loading who accessed…", st.Muted.Render(s.emptyText())))
	return indent(b.String(), 2)
}

// emptyText is what an empty log says.
func (s *accessLogScreen) emptyText() string {
	switch {
	case s.filters.recordID != "" && s.filters.since == nil:
		return "Nobody else has accessed this record."
	case !s.filters.empty():
		return "Nobody else accessed them in what these filters keep (f changes them)."
	case s.own():
		return "Nobody else has accessed your records or your account yet."
	}
	return "Nobody else has accessed this person's records or account yet."
}

func (s *accessLogScreen) help() bindings {
	k := s.a.keys
	open := key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details"))
	return bindings{
		short: []key.Binding{open, k.Filter, k.NextPage, k.PrevPage, k.Back},
		full:  [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom}, {open, k.Filter, k.NextPage, k.PrevPage, k.Refresh}, {k.Back}},
	}
}
