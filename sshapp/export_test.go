package sshapp_test

import (
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/anavara/anavara/sshapp"
)

// A session over SSH runs on the server: "Export my data" writes no file
// there and shows how to fetch the export with the API at the address
// users reach it at.
func TestExportOverSSHShowsTheAPI(t *testing.T) {
	const public = "https://records.example.org"
	e := newEnv(t, func(c *sshapp.Config) { c.PublicAPIURL = public })
	key := newKey(t)
	e.patient("zora@example.org", "Zora Known", key.PublicKey())

	conn, err := e.dial(gossh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	term := e.open(conn, 100, 30)
	term.waitFor("Zora Known")
	term.send("p")
	term.waitFor("Your profile")
	term.send("x")
	term.waitFor("over SSH")
	term.waitFor("API='" + public + "'")
	term.waitFor(`curl -fsS "$API/api/users/me/export?format=csv"`)
	if strings.Contains(term.screen(), "Save to") {
		t.Fatalf("the export form is offered over SSH:\n%s", term.screen())
	}
}
