package tui_test

import (
	"context"
	"os"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui"
	"github.com/anavara/anavara/tui/client"
)

// TestExportOverSSH: a session served over SSH writes no file on the
// server: x shows how to fetch the export with curl at the API's public
// address instead, and nothing is exported.
func TestExportOverSSH(t *testing.T) {
	e := newEnv(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	sam := e.staff("sam@example.org")
	ann := e.patient("ann@example.org", "Ann", "Smith")
	ann.record(t, client.RecordInput{PatientName: "Ann Smith"})

	const public = "https://records.example.org/anavara"
	d := start(t, tui.Options{Client: ann.c, SignedIn: true, Remote: true, APIURL: public}, 110, 32)
	d.typ("p")
	d.typ("x")
	d.sees("Export my data", "over SSH", "writes no file for you",
		"read -rs PASSWORD",
		"API='"+public+"'",
		`TOKEN=$(curl -fsS "$API/api/auth/login" \`,
		"--data-urlencode 'email=ann@example.org' \\",
		`curl -fsS "$API/api/users/me/export" \`,
		`-H "Authorization: Bearer $TOKEN" -o anavara-export.ndjson`,
		`curl -fsS "$API/api/users/me/export?format=csv" \`,
		"-o anavara-export.csv")
	d.misses("Save to", "Reach the API at another address?")
	fits(t, d, 110, 32, "export over SSH")
	d.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	fits(t, d, 80, 24, "export over SSH")
	d.sees(`curl -fsS "$API/api/users/me/export?format=csv" \`)
	d.send(tea.WindowSizeMsg{Width: 110, Height: 32})
	d.press(tea.KeyEnter, tea.KeyCtrlS)
	d.typ("y")
	assertOnlyFiles(t, home)
	if n := exports(t, e); n != 0 {
		t.Fatalf("%d exports made over SSH, want none", n)
	}
	d.press(tea.KeyEsc)
	d.sees("Your profile")

	// Staff: a person's export, and the address the client knows when no
	// public one is given.
	d = start(t, tui.Options{Client: sam.c, SignedIn: true, Remote: true}, 110, 32)
	d.typ("u")
	d.typ("/")
	d.typ("ann")
	d.press(tea.KeyEnter, tea.KeyEnter)
	d.typ("x")
	d.sees("Export the data of Ann Smith", "API='"+e.url+"'", `"$API/api/users/`+ann.ID+`/export"`,
		"'email=sam@example.org'", "-o anavara-export-"+ann.ID[:8]+".csv", "Reach the API at another address?")
	assertOnlyFiles(t, home)
}

// assertOnlyFiles fails unless dir holds exactly names.
func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, en := range entries {
		got = append(got, en.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("%s holds %v, want %v", dir, got, names)
	}
}

// exports counts the audited exports of one person's data.
func exports(t *testing.T, e *env) int {
	t.Helper()
	_, n, err := e.store.Read().ListAudit(context.Background(), db.AuditFilter{Action: model.ActionUserExport, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
