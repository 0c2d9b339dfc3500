package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/tui/client"
)

// exportTimeout bounds an export from asking the server to the file being
// in place: a long history streams for a while, unlike one answer.
const exportTimeout = 10 * time.Minute

// Extensions of the export's files, by format.
const (
	extFHIR = ".ndjson"
	extCSV  = ".csv"
)

// exportScreen writes a person's data into a file the user names and
// confirms: their own from the profile, or, for staff, a person's from
// that person's page. FHIR R4 NDJSON holds everything (the account, every
// record, the access log); CSV the records only.
type exportScreen struct {
	screenBase
	formScreen
	// userID is whose data; "" is the signed-in user's.
	userID string
	whose  string
	home   string
	path   *field
	format *field
	// done is the last export written, shown above the form.
	done *exportWritten
	// cancel stops the export in flight (esc), which then leaves no file.
	cancel context.CancelFunc
}

// newExportScreen is "Export my data" (userID "") or, for staff, the
// export of the account userID, named whose. Over SSH, where a file would
// land on the server rather than with the user, it is the instructions to
// fetch the data with the API instead.
func newExportScreen(a *app, userID, whose string) screen {
	if a.user != nil && userID == a.user.ID {
		userID, whose = "", ""
	}
	if a.remote {
		return newExportRemoteScreen(a, userID, whose)
	}
	home, _ := os.UserHomeDir()
	s := &exportScreen{screenBase: a.newBase(), formScreen: formScreen{form: newForm(a)}, userID: userID, whose: whose, home: home}
	f := s.form
	s.path = f.text("path", "Save to", "a file path", 4096)
	s.path.set(s.defaultPath())
	s.format = f.picker("format", "Format", "", s.switchFormat)
	s.format.value, s.format.text = client.ExportFHIR, formatLabel(client.ExportFHIR)
	f.button("Export", s.submit)
	f.button("Cancel", s.back)
	f.submit = s.submit
	return s
}

// defaultPath is a new file in the home folder (else the current one),
// named after the day and, for someone else's data, the account.
func (s *exportScreen) defaultPath() string {
	name := "anavara-export-"
	if s.userID != "" {
		name += shortID(s.userID) + "-"
	}
	name += s.a.today().String() + extFHIR
	if s.home != "" {
		return "~/" + name
	}
	return name
}

// formatLabel says what a format holds.
func formatLabel(format string) string {
	if format == client.ExportCSV {
		return "CSV (the records only)"
	}
	return "FHIR R4 NDJSON (everything: account, records, access log)"
}

// switchFormat turns the format over, and the path's extension with it
// when it is the other format's.
func (s *exportScreen) switchFormat() tea.Cmd {
	from, to, ext := extFHIR, extCSV, client.ExportCSV
	if s.format.value == client.ExportCSV {
		from, to, ext = extCSV, extFHIR, client.ExportFHIR
	}
	s.format.value, s.format.text = ext, formatLabel(ext)
	if p := s.path.buffer(); strings.HasSuffix(p, from) {
		s.path.set(strings.TrimSuffix(p, from) + to)
	}
	return nil
}

func (s *exportScreen) title() string { return "Export" }

func (s *exportScreen) help() bindings { return s.form.help("export", "back") }

// submit checks the path and asks before writing: to replace the file
// there, if there is one, else to write the data at all.
func (s *exportScreen) submit() tea.Cmd {
	a, f := s.a, s.form
	if s.busy {
		return nil
	}
	f.clearErrors()
	target, exists, problem := exportTarget(s.path.val(), s.home)
	if problem != "" {
		s.path.err = problem
		return f.focusFirstError()
	}
	shown := clean(target)
	if exists {
		return a.push(newConfirmScreen(a, "Replace file?",
			shown+" already exists. Replace it with this export?", "Replace", func() tea.Cmd { return s.write(target, true) }))
	}
	return a.push(newConfirmScreen(a, "Export",
		"Write "+s.what()+" to "+shown+"? The file holds medical records: keep it private.", "Export", func() tea.Cmd { return s.write(target, false) }))
}

// what says what the export holds, for the question.
func (s *exportScreen) what() string {
	csv := s.format.value == client.ExportCSV
	switch {
	case s.userID == "" && csv:
		return "your records"
	case s.userID == "":
		return "all your data"
	case csv:
		return "the records of " + s.whose
	}
	return "all the data of " + s.whose
}

// write fetches the export and streams it into target.
func (s *exportScreen) write(target string, replace bool) tea.Cmd {
	a := s.a
	a.clearBanner()
	s.busy, s.done = true, nil
	stop, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	userID, format := s.userID, s.format.value
	return doWithin(a, &s.screenBase, "export", true, exportTimeout, func(ctx context.Context, c *client.Client) (exportWritten, error) {
		defer cancel()
		ctx, done := context.WithCancel(ctx)
		defer done()
		context.AfterFunc(stop, done)
		ex, err := c.Export(ctx, userID, format)
		if err != nil {
			return exportWritten{}, err
		}
		defer ex.Body.Close()
		return writeExport(target, ex.Body, replace)
	})
}

func (s *exportScreen) update(msg tea.Msg) tea.Cmd {
	a := s.a
	if res, ok := msg.(result[exportWritten]); ok {
		s.busy = false
		var fe *exportFileError
		switch {
		case errors.As(res.err, &fe):
			a.failText(fe.text())
			return nil
		case res.err != nil:
			return s.form.apiError(res.err)
		}
		w := res.val
		s.done = &w
		a.notify("Exported to " + clean(w.path) + ".")
		return nil
	}
	return s.input(msg, s.back)
}

// back leaves the screen, stopping an export under way: the file it was
// writing is removed, so none is left half written.
func (s *exportScreen) back() tea.Cmd {
	if s.busy && s.cancel != nil {
		s.cancel()
		s.a.notify("Export cancelled.")
	}
	return s.a.pop()
}

// layout gives the path all the room there is: a path is longer than
// the names and dates other forms take.
func (s *exportScreen) layout(w, _ int) {
	s.form.setWidth(w - 4)
	s.path.input.Width = min(max(w-4-s.form.labelW-4, 20), 100)
	// The input scrolls its text for the width it had: moving the cursor
	// makes it scroll again for the new one.
	s.path.input.CursorStart()
	s.path.input.CursorEnd()
}

func (s *exportScreen) view(w, h int) string {
	a, st := s.a, s.a.st
	heading, sub := "Export my data", "a file on this computer, readable by you alone"
	if s.userID != "" {
		heading = "Export the data of " + s.whose
	}
	var b strings.Builder
	switch {
	case s.busy:
		b.WriteString(a.spinnerView() + st.Muted.Render(" Exporting…") + "\n\n")
	case s.done != nil:
		d := s.done
		b.WriteString(st.Success.Render("✓ Written: ") + st.Value.Render(clean(d.path)) + "\n" +
			st.Muted.Render(fmt.Sprintf("  %s, %s", plural(int(d.lines), "line", "lines"), byteSize(d.bytes))) + "\n\n")
	}
	b.WriteString(s.form.view())
	b.WriteString("\n\n" + st.Muted.Render(wrapWords("enter on Format switches it. The file is created for you alone (mode 0600); an existing file is replaced only if you confirm.", max(w-4, 20))))
	return a.page(heading, sub, b.String())
}

// byteSize is n bytes for people: "812 bytes", "3.4 kB", "1.2 MB".
func byteSize(n int64) string {
	switch {
	case n < 1000:
		return plural(int(n), "byte", "bytes")
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1000)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}
