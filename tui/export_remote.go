package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

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
// readable by their owner alone.
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
		"umask 077; printf 'Password: '; read -rs PASSWORD; echo",
		"TOKEN=$(curl -fsS " + shellQuote(base+"/api/auth/login") + " \\",
		"  --data-urlencode " + shellQuote("email="+email) + ` --data-urlencode "password=$PASSWORD" \`,
		`  | sed -E 's/.*"access_token":"([^"]+)".*/\1/')`,
		"curl -fsS " + shellQuote(base+path) + ` -H "Authorization: Bearer $TOKEN" \`,
		"  -o " + file + extFHIR,
		"curl -fsS " + shellQuote(base+path+"?format="+client.ExportCSV) + ` -H "Authorization: Bearer $TOKEN" \`,
		"  -o " + file + extCSV,
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
	b.WriteString(st.Text.Render(wrapWords("Over SSH this screen runs on the Anavara server, so it writes no file: a file there would not be on your computer. Fetch "+whose+" with the API from your own computer instead:", room)) + "\n\n")
	for _, c := range s.commands() {
		b.WriteString("  " + st.Value.Render(c) + "\n")
	}
	b.WriteString("\n" + st.Muted.Render(wrapWords("The first line asks for your Anavara password. The .ndjson file is FHIR R4 and holds everything (the account, every record and the access log); the .csv file holds the records only. Both hold medical records: keep them private.", room)))
	if a.apiURL == a.server {
		b.WriteString("\n" + st.Muted.Render(wrapWords("If you reach the API at another address than "+clean(a.apiURL)+", use that one.", room)))
	}
	return a.page(heading, "over SSH", b.String())
}
