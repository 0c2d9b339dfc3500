package e2e

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStaffJourneyEndToEnd drives the staff workflows in the real binary,
// in tmux: from the users list to a person, a new record for them with the
// name taken from the account, and from the audit log to that create's
// event; then the patient's side: who accessed her records, the export of
// her data into a file of her own, and an API token for her scripts.
func TestStaffJourneyEndToEnd(t *testing.T) {
	r := newTUIRig(t)
	bin, url, tm, env := r.bin, r.url, r.tm, r.env
	signup(t, url, "ann@example.org", "Ann", "Smith")
	admin := exec.Command(bin, "createsuperuser", "--data-dir", r.data, "--email", "sam@example.org",
		"--first-name", "Sam", "--last-name", "Staff", "--password-stdin")
	admin.Stdin = strings.NewReader(password + "\n")
	if out, err := admin.CombinedOutput(); err != nil {
		t.Fatalf("createsuperuser beside the running server: %v\n%s", err, out)
	}

	tm.start("first", env, bin, "tui", "--server", url)
	tm.waitFor("first", "Sign in to Anavara")
	tm.keys("first", "-l", "sam@example.org")
	tm.keys("first", "Tab")
	tm.keys("first", "-l", password)
	tm.keys("first", "Enter")
	tm.waitFor("first", "Sam Staff · staff")

	// Users → Ann → her (empty) records.
	tm.keys("first", "u")
	tm.waitFor("first", "ann@example.org")
	tm.keys("first", "/")
	tm.keys("first", "-l", "ann")
	tm.keys("first", "Enter")
	tm.waitFor("first", "1 account")
	tm.keys("first", "Enter")
	tm.waitFor("first", "ann@example.org · patient · active")
	tm.waitFor("first", "No records yet: n creates one.")

	// A record for her: account and name filled in from the person.
	tm.keys("first", "n")
	tm.waitFor("first", "New medical record")
	tm.waitFor("first", "ann@example.org  Ann Smith")
	treated := time.Now().UTC().AddDate(0, 0, 7).Format("2006-01-02")
	tm.keys("first", "Tab", "Tab") // patient name (filled) → date of birth
	tm.keys("first", "-l", "1985-06-30")
	tm.keys("first", "Tab")
	tm.keys("first", "-l", treated)
	tm.keys("first", "Tab")
	tm.keys("first", "-l", "Dr. Journey")
	tm.keys("first", "C-s")
	tm.waitFor("first", "Record created for Ann Smith.")
	tm.waitFor("first", "Dr. Journey")

	// Back to the records list, then the audit log and the create's event.
	// One Escape at a time: two sent together can reach the program as
	// one alt+escape.
	tm.keys("first", "Escape") // the person → the users list
	tm.waitFor("first", "Users  ·  1 account")
	tm.keys("first", "Escape")
	tm.waitFor("first", "Medical records")
	tm.keys("first", "a")
	tm.waitFor("first", "Audit log")
	tm.waitFor("first", "record.create")
	// Newest first: the two lists that showed the new record (the person's
	// records, then every record), audited with what they served.
	tm.keys("first", "Enter")
	for _, want := range []string{"a page of records was listed", "1 record of 1 matching (a page by cursor, 20 a page)", "sam@example.org (Sam Staff, staff)"} {
		tm.waitFor("first", want)
	}
	tm.keys("first", "Escape")
	tm.waitFor("first", "record.create") // the log, not the event
	tm.keys("first", "Down", "Down", "Enter")
	tm.waitFor("first", "Audit event")
	// The actor's account loads after the screen opens.
	for _, want := range []string{"a record was created", "sam@example.org (Sam Staff, staff)", "enter open the record"} {
		tm.waitFor("first", want)
	}
	tm.keys("first", "Enter")
	tm.waitFor("first", "Dr. Journey")
	tm.keys("first", "C-c")
	tm.waitFor("first", "[exited 0]")

	// Ann, in a config dir of her own, sees who accessed her records: Sam,
	// who created, listed and opened her record; then exports her data.
	annEnv := []string{"HOME=" + r.home, "XDG_CONFIG_HOME=" + filepath.Join(r.home, "ann-config"), "TERM=xterm-256color", "LANG=C.UTF-8"}
	tm.start("second", annEnv, bin, "tui", "--server", url)
	tm.waitFor("second", "Sign in to Anavara")
	tm.keys("second", "-l", "ann@example.org")
	tm.keys("second", "Tab")
	tm.keys("second", "-l", password)
	tm.keys("second", "Enter")
	tm.waitFor("second", "Ann Smith · patient")
	tm.keys("second", "p")
	tm.waitFor("second", "who accessed my records")
	tm.keys("second", "w")
	tm.waitFor("second", "Who accessed my records")
	for _, want := range []string{"Sam Staff (staff)", "viewed record", "listed records (1 of yours)", "127.0.0.1"} {
		tm.waitFor("second", want)
	}
	tm.keys("second", "Enter")
	tm.waitFor("second", "Access to your data")
	tm.waitFor("second", "Sam Staff (staff)")
	tm.keys("second", "Escape")
	tm.waitFor("second", "Who accessed my records")
	tm.keys("second", "Escape")
	tm.waitFor("second", "Your profile")
	tm.keys("second", "x")
	tm.waitFor("second", "Export my data")
	tm.keys("second", "C-s")
	tm.waitFor("second", "Write all your data to")
	tm.keys("second", "y")
	tm.waitFor("second", "Written:")
	export := filepath.Join(r.home, "anavara-export-"+time.Now().UTC().Format("2006-01-02")+".ndjson")
	fi, err := os.Stat(export)
	if err != nil {
		t.Fatalf("the export is not where the screen said: %v", err)
	}
	data, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || !strings.Contains(string(data), `"resourceType":"Patient"`) || !strings.Contains(string(data), "Dr. Journey") {
		t.Fatalf("the export has mode %v and holds %q", fi.Mode().Perm(), data)
	}

	// An API token for her scripts: the secret, copied off the real
	// terminal's line, reads her records; once she leaves the screen it is
	// gone from it; revoked, it reads nothing.
	tm.keys("second", "Escape")
	tm.waitFor("second", "Your profile")
	tm.keys("second", "t")
	tm.waitFor("second", "No API tokens")
	tm.keys("second", "a")
	tm.waitFor("second", "New API token")
	tm.keys("second", "-l", "journey script")
	tm.keys("second", "Tab", "Space", "C-s")
	screen := tm.waitFor("second", "Copy it now: it is not shown again.")
	var secret string
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, "anv_") {
			secret = strings.TrimRight(l, " ")
		}
	}
	if secret == "" {
		t.Fatalf("no line starts with the token:\n%s", screen)
	}
	if status, body := getWith(t, url+"/api/medical-records", secret); status != http.StatusOK || !strings.Contains(body, "Dr. Journey") {
		t.Fatalf("the copied token: %d %s", status, body)
	}
	tm.keys("second", "Enter")
	if screen := tm.waitFor("second", "Your API tokens  ·  1 token"); strings.Contains(screen, secret) || !strings.Contains(screen, "journey script") {
		t.Fatalf("the secret is still on the screen after leaving:\n%s", screen)
	}
	tm.keys("second", "d")
	tm.waitFor("second", "Revoke API token")
	tm.keys("second", "y")
	tm.waitFor("second", "API token revoked")
	if status, _ := getWith(t, url+"/api/medical-records", secret); status != http.StatusUnauthorized {
		t.Fatalf("the revoked token: %d, want 401", status)
	}
	tm.keys("second", "C-c")
	tm.waitFor("second", "[exited 0]")
}

// getWith sends GET url with token as the bearer and returns the status
// and the body.
func getWith(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}
