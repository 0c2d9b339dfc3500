package tui

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/paginator"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// pageSizes are the page sizes + and - step through.
func pageSizes() [4]int { return [...]int{10, 20, 50, 100} }

// sortField is an ordering of the records list.
type sortField struct {
	field    string
	name     string
	asc      string // how ascending order reads
	desc     string // how descending order reads
	descends bool   // the natural direction
}

// sortFields are the orderings s steps through.
func sortFields() [4]sortField {
	return [...]sortField{
		{"created", "created", "oldest first", "newest first", true},
		{"date_of_treatment", "treatment date", "soonest treatment first", "latest treatment first", false},
		{"patient_name", "patient", "patient A→Z", "patient Z→A", false},
		{"updated", "updated", "least recently updated", "recently updated first", true},
	}
}

// recordFilters narrow the records list.
type recordFilters struct {
	doctor    string
	after     *model.Date
	before    *model.Date
	userID    string
	userLabel string
}

func (f recordFilters) active() bool {
	return f.doctor != "" || f.after != nil || f.before != nil || f.userID != ""
}

// recordsPage is a loaded page, tagged with the request it answers.
type recordsPage struct {
	seq  int
	page model.Page[model.MedicalRecord]
}

// recordsScreen is the home screen: a page of medical records.
type recordsScreen struct {
	screenBase
	pagedList[model.MedicalRecord]
	search    string
	input     textinput.Model
	searching bool
	filters   recordFilters
	sort      int
	desc      bool
	keepID    string
	width     int
	height    int
	pager     paginator.Model
}

func newRecordsScreen(a *app) *recordsScreen {
	s := &recordsScreen{
		screenBase: a.newBase(),
		pagedList:  pagedList[model.MedicalRecord]{pageNo: 1, size: model.DefaultPageSize},
		desc:       true,
	}
	s.list = newList(a,
		column{title: "Patient", weight: 30},
		column{title: "Treatment", width: 10},
		column{title: "Doctor", weight: 24},
		column{title: "Diagnosis", weight: 46},
	)
	s.input = newSearchInput(a, "patient, doctor or diagnosis")
	s.pager = paginator.New(paginator.WithPerPage(s.size))
	s.pager.Type = paginator.Dots
	s.pager.ActiveDot = a.st.Accent.Render("●")
	s.pager.InactiveDot = a.st.Faint.Render("○")
	return s
}

func (s *recordsScreen) init() tea.Cmd   { return s.load() }
func (s *recordsScreen) resume() tea.Cmd { return s.load() }
func (s *recordsScreen) title() string   { return "Records" }
func (s *recordsScreen) typing() bool    { return s.searching }

// query is the list request for the current page, search, filters and
// order.
func (s *recordsScreen) query() client.RecordQuery {
	f := sortFields()[s.sort]
	order := f.field
	if s.desc {
		order = "-" + order
	}
	page, size, byCursor, cursor := s.pageArgs()
	return client.RecordQuery{
		Page:          page,
		PageSize:      size,
		ByCursor:      byCursor,
		Cursor:        cursor,
		Search:        s.search,
		Doctor:        s.filters.doctor,
		UserID:        s.filters.userID,
		Ordering:      order,
		TreatedAfter:  s.filters.after,
		TreatedBefore: s.filters.before,
	}
}

// load fetches the current page, keeping the selected record selected.
func (s *recordsScreen) load() tea.Cmd {
	if r := s.selected(); r != nil && s.keepID == "" {
		s.keepID = r.ID
	}
	s.seq++
	q, seq := s.query(), s.seq
	return do(s.a, &s.screenBase, "list", true, func(ctx context.Context, c *client.Client) (recordsPage, error) {
		p, err := c.ListRecords(ctx, q)
		return recordsPage{seq: seq, page: p}, err
	})
}

// reload goes to page 1 (after the search, filters or order changed).
func (s *recordsScreen) reload() tea.Cmd {
	s.first()
	s.keepID = ""
	s.list.setCursor(0)
	return s.load()
}

func (s *recordsScreen) update(msg tea.Msg) tea.Cmd {
	a, k := s.a, s.a.keys
	switch msg := msg.(type) {
	case result[recordsPage]: // list
		res := msg.val
		if show, cmd := s.settle(a, msg.err, res.seq != s.seq, s.pageNo-1, s.load); !show {
			return cmd
		}
		s.show(res.page)
		return nil
	case result[none]: // delete
		if msg.err != nil {
			a.fail(msg.err)
			return nil
		}
		a.notify("Record deleted.")
		return s.load()

	case tea.KeyMsg:
		if s.searching {
			return s.searchKey(msg)
		}
		switch {
		case key.Matches(msg, k.Back):
			if s.search != "" || s.filters.active() {
				s.search, s.filters = "", recordFilters{}
				a.notify("Search and filters cleared.")
				return s.reload()
			}
			return nil
		case key.Matches(msg, k.Open):
			if r := s.selected(); r != nil {
				return a.push(newRecordDetailScreen(a, *r))
			}
		case key.Matches(msg, k.New):
			f := newRecordFormScreen(a, nil)
			f.created = func(r model.MedicalRecord) {
				// Select the new record, not the one selected before. In the
				// default order (newest first) it heads page 1.
				s.keepID = r.ID
				if f := sortFields()[s.sort]; f.field == "created" && s.desc {
					s.first()
				}
			}
			return a.push(f)
		case key.Matches(msg, k.Edit):
			if r := s.selected(); r != nil {
				return a.push(newRecordFormScreen(a, r))
			}
		case key.Matches(msg, k.Delete):
			if r := s.selected(); r != nil {
				rec := *r
				return a.push(newConfirmScreen(a, "Delete record", deleteQuestion(rec), "Delete", func() tea.Cmd {
					return do(a, &s.screenBase, "delete", true, func(ctx context.Context, c *client.Client) (none, error) {
						return none{}, c.DeleteRecord(ctx, rec.ID, rec.Version)
					})
				}))
			}
		case key.Matches(msg, k.Search):
			s.searching = true
			s.input.SetValue(s.search)
			s.input.CursorEnd()
			return s.input.Focus()
		case key.Matches(msg, k.Filter):
			return a.push(newRecordFiltersScreen(a, s.filters, func(f recordFilters) tea.Cmd {
				s.filters, s.keepID = f, ""
				s.first()
				s.list.setCursor(0)
				return nil // the pop that follows reloads
			}))
		case key.Matches(msg, k.Sort):
			fields := sortFields()
			s.sort = (s.sort + 1) % len(fields)
			s.desc = fields[s.sort].descends
			return s.reload()
		case key.Matches(msg, k.Reverse):
			s.desc = !s.desc
			return s.reload()
		case key.Matches(msg, k.NextPage):
			if s.turnPage(1) {
				s.keepID = ""
				return s.load()
			}
		case key.Matches(msg, k.PrevPage):
			if s.turnPage(-1) {
				s.keepID = ""
				return s.load()
			}
		case key.Matches(msg, k.Bigger), key.Matches(msg, k.Smaller):
			return s.resize(key.Matches(msg, k.Bigger))
		case key.Matches(msg, k.Refresh):
			return s.load()
		case key.Matches(msg, k.Profile):
			return a.push(newProfileScreen(a))
		case key.Matches(msg, k.Users) && a.isStaff():
			return a.push(newUsersScreen(a, nil))
		case key.Matches(msg, k.AuditLog) && a.isStaff():
			// The whole trail; one record's history is `a` in its view.
			return a.push(newAuditLogScreen(a))
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

// searchKey edits the search line.
func (s *recordsScreen) searchKey(msg tea.KeyMsg) tea.Cmd {
	if submitted, cmd := editSearch(msg, &s.input, &s.searching, &s.search, s.list); !submitted {
		return cmd
	}
	return s.reload()
}

// resize steps the page size, staying near the same records.
func (s *recordsScreen) resize(bigger bool) tea.Cmd {
	i := 0
	sizes := pageSizes()
	for j, n := range sizes {
		if n == s.size {
			i = j
		}
	}
	if bigger && i < len(sizes)-1 {
		i++
	} else if !bigger && i > 0 {
		i--
	} else {
		return nil
	}
	// A walk by cursor stays where it is, with more or fewer rows after;
	// the counted page number is scaled to match.
	first := (s.pageNo - 1) * s.size
	s.size = sizes[i]
	s.pageNo = first/s.size + 1
	return s.load()
}

// show displays a loaded page.
func (s *recordsScreen) show(p model.Page[model.MedicalRecord]) {
	s.take(p)
	rows := make([][]string, len(p.Results))
	cur := -1
	for i, r := range p.Results {
		rows[i] = []string{
			clean(r.PatientName),
			r.DateOfTreatment.String(),
			clean(r.Doctor),
			excerpt(r.Diagnosis, 200),
		}
		if r.ID == s.keepID {
			cur = i
		}
	}
	s.keepID = ""
	s.list.setRows(rows)
	if cur >= 0 {
		s.list.setCursor(cur)
	}
	s.pager.PerPage = s.size
	s.pager.TotalPages = s.pages
	s.pager.Page = s.pageNo - 1
}

func (s *recordsScreen) layout(w, h int) {
	s.width, s.height = w, h
	s.list.setSize(w-2, max(h-5, 3))
	s.input.Width = max(w-30, 10)
}

// criteria describes the order, page size, search and filters in force.
func (s *recordsScreen) criteria() string {
	st := s.a.st
	f := sortFields()[s.sort]
	order := f.asc
	if s.desc {
		order = f.desc
	}
	parts := []string{
		st.Muted.Render("sorted ") + st.Chip.Render(order),
		st.Chip.Render(fmt.Sprint(s.size)) + st.Muted.Render(" per page"),
	}
	if s.search != "" {
		parts = append(parts, st.Muted.Render("search ")+st.Chip.Render("“"+clean(s.search)+"”"))
	}
	if s.filters.doctor != "" {
		parts = append(parts, st.Muted.Render("doctor ")+st.Chip.Render(clean(s.filters.doctor)))
	}
	if s.filters.after != nil {
		parts = append(parts, st.Muted.Render("treated from ")+st.Chip.Render(s.filters.after.String()))
	}
	if s.filters.before != nil {
		parts = append(parts, st.Muted.Render("until ")+st.Chip.Render(s.filters.before.String()))
	}
	if s.filters.userID != "" {
		parts = append(parts, st.Muted.Render("patient ")+st.Chip.Render(s.filters.userLabel))
	}
	return strings.Join(parts, st.Faint.Render(" · "))
}

func (s *recordsScreen) view(w, h int) string {
	a, st := s.a, s.a.st
	var b strings.Builder
	sub := "loading…"
	if s.loaded {
		sub = plural(s.count, "record", "records")
		if s.pages > 1 {
			sub += fmt.Sprintf(" · page %d of %d", s.pageNo, s.pages)
		}
	}
	b.WriteString(st.Title.Render("Medical records") + st.Faint.Render("  ·  ") + st.Subtitle.Render(sub) + "\n")
	if s.searching {
		b.WriteString(s.input.View() + st.Hint.Render("  enter search · esc cancel") + "\n")
	} else {
		b.WriteString(s.criteria() + "\n")
	}
	b.WriteByte('\n')
	empty := st.Muted.Render("No records yet. Press ") + st.Accent.Render("n") + st.Muted.Render(" to create one.")
	if s.search != "" || s.filters.active() {
		empty = st.Muted.Render("No records match. Press esc to clear the search and filters.")
	}
	b.WriteString(s.body(a, "Loading records…", empty))
	// Page indicator on the last line.
	lines := strings.Count(b.String(), "\n") + 1
	for ; lines < h-1; lines++ {
		b.WriteByte('\n')
	}
	if s.loaded && s.pages > 1 {
		pager := s.pager.View()
		if s.pages > 20 {
			pager = st.Accent.Render(fmt.Sprintf("%d/%d", s.pageNo, s.pages))
		}
		b.WriteString("\n" + pager + st.Faint.Render("  [ prev · ] next"))
	}
	return indent(b.String(), 2)
}

func (s *recordsScreen) help() bindings {
	k := s.a.keys
	if s.searching {
		return bindings{short: []key.Binding{k.Apply, k.StopInput}, full: [][]key.Binding{{k.Apply, k.StopInput}}}
	}
	short := []key.Binding{k.Open, k.New, k.Edit, k.Delete, k.Search}
	full := [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom, k.Open},
		{k.New, k.Edit, k.Delete, k.Refresh, k.Profile},
		{k.Search, k.Filter, k.Sort, k.Reverse, k.Users, k.AuditLog},
		{k.NextPage, k.PrevPage, k.Bigger, k.Smaller},
	}
	return bindings{short: short, full: full}
}

// deleteQuestion asks about one record.
func deleteQuestion(r model.MedicalRecord) string {
	return fmt.Sprintf("Delete the record of %s, treated on %s by %s?\nThis cannot be undone.",
		clean(r.PatientName), r.DateOfTreatment, clean(r.Doctor))
}
