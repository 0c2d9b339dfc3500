package tui_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui/client"
)

// TestExportMyData: p then x writes the patient's data into the file the
// prefilled path names, after asking; the file is the user's alone; an
// existing file is replaced only after a second question; enter on the
// format switches to CSV and the path's extension with it.
func TestExportMyData(t *testing.T) {
	e := newEnv(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	rec := ann.record(t, client.RecordInput{PatientName: "Ann Smith", Diagnosis: "Influenza, \"acute\""})

	d := signedIn(t, ann, 110, 32)
	d.typ("p")
	d.typ("x")
	name := "anavara-export-" + model.DateOf(time.Now()).String() + ".ndjson"
	d.sees("Export my data", "~/"+name, "FHIR R4 NDJSON")
	path := filepath.Join(home, name)

	d.press(tea.KeyCtrlS)
	d.sees("Export", "Write all your data to", filepath.Base(home), "keep it private")
	d.typ("n") // not now: nothing is written
	assertNoFile(t, path)
	d.press(tea.KeyCtrlS)
	d.typ("y")
	d.sees("Written: "+path, "lines", "Exported to")
	lines := fileLines(t, path)
	if len(lines) < 3 || !strings.Contains(lines[0], `"resourceType":"Patient"`) || !strings.Contains(strings.Join(lines, "\n"), rec.ID) {
		t.Fatalf("the export holds %q", lines)
	}
	d.sees(plural(len(lines), "line"))
	if n := exports(t, e); n != 1 {
		t.Fatalf("%d exports audited, want 1", n)
	}

	// The file is there now: replacing it takes a yes.
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.press(tea.KeyCtrlS)
	d.sees("Replace file?", "already exists")
	d.typ("n")
	if b, _ := os.ReadFile(path); string(b) != "old\n" {
		t.Fatalf("the file was overwritten without a yes: %q", b)
	}
	d.press(tea.KeyCtrlS)
	d.typ("y")
	d.sees("Written: " + path)
	if got := fileLines(t, path); len(got) != len(lines) {
		t.Fatalf("the replaced file holds %q", got)
	}

	// CSV: enter on the format switches it, and the extension.
	d.press(tea.KeyTab)
	d.press(tea.KeyEnter)
	csvName := strings.TrimSuffix(name, ".ndjson") + ".csv"
	d.sees("CSV (the records only)", "~/"+csvName)
	d.press(tea.KeyCtrlS)
	d.sees("Write your records to")
	d.typ("y")
	d.sees("Written: " + filepath.Join(home, csvName))
	rows := fileLines(t, filepath.Join(home, csvName))
	if len(rows) != 2 || !strings.Contains(rows[1], rec.ID) || !strings.Contains(rows[1], `"Influenza, ""acute"""`) {
		t.Fatalf("the CSV export holds %q", rows)
	}

	// A path in a folder that does not exist is refused on the form.
	d.press(tea.KeyShiftTab)
	d.clear()
	d.typ(filepath.Join(home, "nowhere", "x.csv"))
	d.press(tea.KeyCtrlS)
	d.sees("does not exist")
}

// TestStaffExportsPerson: x on a person's page exports their data.
func TestStaffExportsPerson(t *testing.T) {
	e := newEnv(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	sam := e.staff("sam@example.org")
	ann := e.patient("ann@example.org", "Ann", "Smith")
	rec := ann.record(t, client.RecordInput{PatientName: "Ann Smith"})

	d := signedIn(t, sam, 110, 32)
	d.typ("u")
	d.typ("/")
	d.typ("ann")
	d.press(tea.KeyEnter, tea.KeyEnter)
	d.typ("x")
	d.sees("Export the data of Ann Smith", "~/anavara-export-"+ann.ID[:8]+"-")
	path := filepath.Join(t.TempDir(), "ann.ndjson")
	d.clear()
	d.typ(path)
	d.press(tea.KeyCtrlS)
	d.sees("Write all the data of Ann Smith to")
	d.typ("y")
	d.sees("Written: " + path)
	if all := strings.Join(fileLines(t, path), "\n"); !strings.Contains(all, rec.ID) || !strings.Contains(all, ann.ID) {
		t.Fatalf("the export of ann holds %q", all)
	}
	assertOnlyFiles(t, home)
}

// fileLines reads a file's lines, failing unless it has mode 0600.
func fileLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func assertNoFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		t.Fatalf("%s was written", path)
	}
}

// plural is n with its noun, as the UI writes it.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
