package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// recordDetailScreen shows every field of one record, the diagnosis and
// treatment in full with their line breaks.
type recordDetailScreen struct {
	screenBase
	rec        model.MedicalRecord
	owner      *model.User // the patient account, when known
	ownerAsked bool        // a lookup of the owner is under way
	loading    bool
	vp         viewport.Model
	width      int
	body       string // cached s.vp.View()
	bodyAt     [3]int // YOffset, Width, Height the cache is for; {-1} when stale
}

func newRecordDetailScreen(a *app, rec model.MedicalRecord) *recordDetailScreen {
	s := &recordDetailScreen{screenBase: a.newBase(), rec: rec, loading: true}
	s.vp = viewport.New(80, 10)
	s.vp.KeyMap = viewport.KeyMap{
		PageDown:     key.NewBinding(key.WithKeys("pgdown", " ", "f")),
		PageUp:       key.NewBinding(key.WithKeys("pgup", "b")),
		HalfPageUp:   key.NewBinding(key.WithKeys("ctrl+u")),
		HalfPageDown: key.NewBinding(key.WithKeys("ctrl+d")),
		Up:           key.NewBinding(key.WithKeys("up", "k")),
		Down:         key.NewBinding(key.WithKeys("down", "j")),
	}
	if a.user != nil && rec.UserID == a.user.ID {
		s.owner = a.user
	}
	return s
}

// init reloads the record (the list may be stale); once it is in, staff
// also look up the patient account. The calls are made one after the other
// so that an expired access token is refreshed once, not twice at once.
func (s *recordDetailScreen) init() tea.Cmd {
	s.render()
	return s.fetch()
}

func (s *recordDetailScreen) resume() tea.Cmd { return s.fetch() }

func (s *recordDetailScreen) fetch() tea.Cmd {
	id := s.rec.ID
	return do(s.a, &s.screenBase, "get", true, func(ctx context.Context, c *client.Client) (model.MedicalRecord, error) {
		return c.GetRecord(ctx, id)
	})
}

func (s *recordDetailScreen) fetchOwner() tea.Cmd {
	if s.owner != nil || s.ownerAsked || !s.a.isStaff() || s.rec.UserID == "" {
		return nil
	}
	s.ownerAsked = true
	id := s.rec.UserID
	return do(s.a, &s.screenBase, "owner", true, func(ctx context.Context, c *client.Client) (model.User, error) {
		return c.GetUser(ctx, id)
	})
}

func (s *recordDetailScreen) title() string { return "Record" }
func (s *recordDetailScreen) typing() bool  { return false }

func (s *recordDetailScreen) help() bindings {
	k := s.a.keys
	short := []key.Binding{k.Edit, k.Delete, k.AccessLog, k.ScrollDown, k.Back}
	full := [][]key.Binding{{k.Edit, k.Delete, k.AccessLog, k.Refresh}, {k.ScrollUp, k.ScrollDown, k.Top, k.Bottom}, {k.Back}}
	if s.a.isStaff() {
		// a in its place: w stays in the full help, for a line that fits 80 columns.
		short = []key.Binding{k.Audit, k.Edit, k.Delete, k.ScrollDown, k.Back}
		full[0] = append(full[0], k.Audit)
	}
	return bindings{short: short, full: full}
}

func (s *recordDetailScreen) update(msg tea.Msg) tea.Cmd {
	a, k := s.a, s.a.keys
	switch msg := msg.(type) {
	case result[model.MedicalRecord]: // get
		s.loading = false
		if msg.err != nil {
			a.fail(msg.err)
			return nil
		}
		prevOwner := s.rec.UserID
		s.rec = msg.val
		if s.rec.UserID != prevOwner {
			s.owner = nil
		}
		s.render()
		return s.fetchOwner()
	case result[model.User]: // owner
		s.ownerAsked = false
		if msg.err == nil {
			u := msg.val
			s.owner = &u
			s.render()
		}
		return nil
	case result[none]: // delete
		if msg.err != nil {
			a.fail(msg.err)
			return nil
		}
		cmd := a.pop()
		a.notify("Record deleted.")
		return cmd
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, k.Back):
			return a.pop()
		case key.Matches(msg, k.Edit):
			return a.push(newRecordFormScreen(a, &s.rec))
		case key.Matches(msg, k.Refresh):
			return s.fetch()
		case key.Matches(msg, k.Delete):
			rec := s.rec
			return a.push(newConfirmScreen(a, "Delete record", deleteQuestion(rec), "Delete", func() tea.Cmd {
				return do(a, &s.screenBase, "delete", true, func(ctx context.Context, c *client.Client) (none, error) {
					return none{}, c.DeleteRecord(ctx, rec.ID, rec.Version)
				})
			}))
		case key.Matches(msg, k.AccessLog):
			return a.push(newRecordAccessLogScreen(a, s.rec, s.owner))
		case key.Matches(msg, k.Audit) && a.isStaff():
			return a.push(newAuditScreen(a, s.rec.ID, clean(s.rec.PatientName)))
		case key.Matches(msg, k.Top):
			// The viewport has no bindings of its own for the ends.
			s.vp.GotoTop()
			return nil
		case key.Matches(msg, k.Bottom):
			s.vp.GotoBottom()
			return nil
		}
		var cmd tea.Cmd
		s.vp, cmd = s.vp.Update(msg)
		return cmd
	}
	return nil
}

func (s *recordDetailScreen) layout(w, h int) {
	s.width = w
	s.vp.Width = max(w-2, 1)
	s.vp.Height = max(h-2, 1)
	s.render()
}

// render builds the scrollable body once per change, so View stays cheap.
func (s *recordDetailScreen) render() {
	st := s.a.st
	r := s.rec
	w := max(s.vp.Width-2, 10)
	var b strings.Builder
	row := func(label, value string) {
		b.WriteString(st.Label.Render(padRight(label, 17)) + value + "\n")
	}
	row("Patient", st.Value.Bold(true).Render(clean(r.PatientName)))
	dob := st.Value.Render(r.DateOfBirth.String())
	if age := ageOn(r.DateOfBirth, s.a.today()); age >= 0 {
		dob += st.Muted.Render(fmt.Sprintf("  (%d years)", age))
	}
	row("Date of birth", dob)
	row("Treatment date", st.Value.Render(r.DateOfTreatment.String()))
	row("Doctor", st.Value.Render(clean(r.Doctor)))
	switch {
	case s.owner != nil && s.a.user != nil && s.owner.ID == s.a.user.ID && !s.a.isStaff():
		row("Patient account", st.Value.Render(clean(s.owner.Email))+st.Muted.Render("  (you)"))
	case s.owner != nil:
		row("Patient account", st.Value.Render(clean(s.owner.Email))+st.Muted.Render("  "+clean(s.owner.FullName())))
	default:
		row("Patient account", st.Muted.Render(clean(r.UserID)))
	}
	row("Record ID", st.Muted.Render(clean(r.ID)))
	row("Created", st.Muted.Render(stamp(r.Created)))
	row("Updated", st.Muted.Render(stamp(r.Updated)))
	block := func(title, text string) {
		b.WriteString("\n" + st.Section.Render(title) + "\n")
		text = cleanBlock(text)
		if strings.TrimSpace(text) == "" {
			b.WriteString(st.Faint.Render("┃ ") + st.Faint.Render("(none)") + "\n")
			return
		}
		wrapped := st.r.NewStyle().Width(w).Render(text)
		for _, l := range strings.Split(wrapped, "\n") {
			b.WriteString(st.Faint.Render("┃ ") + st.Value.Render(strings.TrimRight(l, " ")) + "\n")
		}
	}
	block("Diagnosis", r.Diagnosis)
	block("Treatment", r.Treatment)
	s.vp.SetContent(strings.TrimSuffix(b.String(), "\n"))
	s.bodyAt = [3]int{-1}
}

// bodyView is the viewport's rendering, redone only when it scrolled,
// resized or the content changed.
func (s *recordDetailScreen) bodyView() string {
	at := [3]int{s.vp.YOffset, s.vp.Width, s.vp.Height}
	if at != s.bodyAt {
		s.body, s.bodyAt = s.vp.View(), at
	}
	return s.body
}

func (s *recordDetailScreen) view(w, h int) string {
	st := s.a.st
	head := st.Title.Render(clean(s.rec.PatientName))
	sub := "treatment on " + s.rec.DateOfTreatment.String()
	if s.loading {
		sub += " · " + s.a.spinnerView()
	}
	head += st.Faint.Render("  ·  ") + st.Subtitle.Render(sub)
	if p := s.vp.ScrollPercent(); s.vp.TotalLineCount() > s.vp.Height {
		head += st.Faint.Render(fmt.Sprintf("  ·  %d%%", int(p*100)))
	}
	return indent(head+"\n\n"+s.bodyView(), 2)
}

// ageOn is the age in whole years of someone born on dob, on day.
func ageOn(dob, day model.Date) int {
	if dob.IsZero() {
		return -1
	}
	age := day.Year() - dob.Year()
	if day.Month() < dob.Month() || (day.Month() == dob.Month() && day.Day() < dob.Day()) {
		age--
	}
	return age
}

// stamp formats a server timestamp in UTC.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
