package tui_test

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/tui"
	"github.com/anavara/anavara/tui/client"
)

// TestSignInAtAWrongBaseURLSaysSo: a base URL with a path the server does
// not serve (a wrong prefix) made every sign-in answer a bare "Not found.";
// the UI now says that no Anavara API answers there and what --server is.
func TestSignInAtAWrongBaseURLSaysSo(t *testing.T) {
	e := newEnv(t)
	e.patient("nora@example.org", "Nora", "Path")
	c, err := client.New(client.Options{BaseURL: e.url + "/anavara"})
	if err != nil {
		t.Fatal(err)
	}
	d := start(t, tui.Options{Client: c}, 100, 30)
	d.typ("nora@example.org")
	d.press(tea.KeyTab)
	d.typ(testPassword)
	d.press(tea.KeyEnter)
	d.sees("No Anavara API at " + e.url + "/anavara: check --server")
	d.misses("Not found.")
}
