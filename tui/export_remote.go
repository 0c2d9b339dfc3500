package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/anavara/anavara/tui/client"
)

// exportRemoteScreen is the export over SSH. There the UI runs on the
// server, and a file it wrote would sit on the server's disk, out of the
// user's reach and in everyone else's who can read it there: so it writes
// nothing and shows instead how to fetch the export with the API from the
// user's own computer, with curl.
type exportRemoteScreen struct {
	screenBase
	userID string
	whose  string
}

func newExportRemoteScreen(a *app, userID, whose string) *exportRemoteScreen {
	return &exportRemoteScreen{screenBase: a.newBase(), userID: userID, whose: whose}
}

func (s *exportRemoteScreen) init() tea.Cmd { return nil }
func (s *exportRemoteScreen) title() string { return "Export" }
func (s *exportRemoteScreen) typing() bool  { return false }

func (s *exportRemoteScreen) update(msg tea.Msg) tea.Cmd {
	if km, ok := msg.(tea.KeyMsg); ok && key.Matches(km, s.a.keys.Back) {
		return s.a.pop()
	}
	return nil
}

func (s *exportRemoteScreen) help() bindings {
	k := s.a.keys
	return bindings{short: []key.Binding{k.Back}, full: [][]key.Binding{{k.Back}}}
}

// commands are the shell lines that fetch the export: sign in for an
// access token (asking for the password, so it is neither on screen nor
// in the shell's history), then the FHIR and the CSV export, into files
// readable by their owner alone. The address is set once, so that no
// other line grows with it past the width of the screen.
func (s *exportRemoteScreen) commands() []string {
	base := strings.TrimRight(clean(s.a.apiURL), "/")
	email := ""
	if s.a.user != nil {
		email = clean(s.a.user.Email)
	}
	path, file := "/api/users/me/export", "anavara-export"
	if s.userID != "" {
		path, file = "/api/users/"+clean(s.userID)+"/export", "anavara-export-"+shortID(s.userID)
	}
	return []string{
		"API=" + shellQuote(base),
		"umask 077; printf 'Password: '; read -rs PASSWORD; echo",
		`TOKEN=$(curl -fsS "$API/api/auth/login" \`,
		"  --data-urlencode " + shellQuote("email="+email) + ` \`,
		`  --data-urlencode "password=$PASSWORD" \`,
		`  | sed -E 's/.*"access_token":"([^"]+)".*/\1/')`,
		`curl -fsS "$API` + path + `" \`,
		`  -H "Authorization: Bearer $TOKEN" -o ` + file + extFHIR,
		`curl -fsS "$API` + path + "?format=" + client.ExportCSV + `" \`,
		`  -H "Authorization: Bearer $TOKEN" -o ` + file + extCSV,
	}
}

// shellQuote quotes s as one word for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (s *exportRemoteScreen) view(w, h int) string {
	a, st := s.a, s.a.st
	room := max(w-4, 20)
	heading, whose := "Export my data", "your data"
	if s.userID != "" {
		heading, whose = "Export the data of "+s.whose, "their data"
	}
	var b strings.Builder
	b.WriteString(st.Text.Render(wrapWords("Over SSH this runs on the Anavara server, which writes no file for you. Fetch "+whose+" with the API on your own computer:", room)) + "\n\n")
	for _, c := range s.commands() {
		// A line wider than the screen is broken rather than cut short:
		// what is copied must be whole.
		b.WriteString(indent(st.Value.Render(ansi.Hardwrap(c, max(room-2, 10), false)), 2) + "\n")
	}
	note := "read asks for your Anavara password without showing it; umask keeps the files yours alone. .ndjson (FHIR R4) holds everything, .csv the records only."
	if a.apiURL == a.server {
		// The address the front end knows may be the server's own.
		note += " Reach the API at another address? Set API to it."
	}
	b.WriteString("\n" + st.Muted.Render(wrapWords(note, room)))
	return a.page(heading, "over SSH", b.String())
}
