package tui_test

import (
	"context"
	"io"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/anavara/anavara/tui"
	"github.com/anavara/anavara/tui/client"
)

// fits fails unless the view is exactly w×h: h lines, none wider than w.
func fits(t *testing.T, d *driver, w, h int, where string) {
	t.Helper()
	lines := strings.Split(d.m.View(), "\n")
	if len(lines) != h {
		t.Fatalf("%s at %dx%d: %d lines:\n%s", where, w, h, len(lines), d.view())
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Fatalf("%s at %dx%d: line %d is %d wide: %q", where, w, h, i+1, n, l)
		}
	}
}

func TestEveryScreenFits80x24(t *testing.T) {
	e := newEnv(t)
	sam := e.staff("sam@example.org")
	ann := e.patient("ann@example.org", "Ann", "Smith")
	for i := 1; i <= 30; i++ {
		ann.record(t, client.RecordInput{PatientName: name(i) + " with a rather long name indeed",
			Diagnosis: strings.Repeat("A long diagnosis that goes on. ", 40), Doctor: "Dr. Extraordinarily Long Doctor Name"})
	}
	keyLine, _ := sshKeyLine(t, "")
	if _, err := sam.c.AddSSHKey(context.Background(), "work laptop with a long descriptive key name", keyLine); err != nil {
		t.Fatal(err)
	}
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		w, h := size[0], size[1]
		for _, color := range []bool{false, true} {
			opts := tui.Options{Client: e.client()}
			if color {
				opts.Renderer = colorRenderer()
			}
			d := start(t, opts, w, h)
			fits(t, d, w, h, "sign in")
			d.tabs(3)
			d.press(tea.KeyEnter)
			fits(t, d, w, h, "sign up")
			d.press(tea.KeyEsc)
			d.tabs(4)
			d.press(tea.KeyEnter)
			fits(t, d, w, h, "forgot")
			d.tabs(1)
			d.press(tea.KeyEnter)
			fits(t, d, w, h, "reset")

			c := e.client()
			if _, err := c.Login(context.Background(), sam.Email, testPassword); err != nil {
				t.Fatal(err)
			}
			opts.Client, opts.SignedIn = c, true
			d = start(t, opts, w, h)
			d.sees("30 records")
			fits(t, d, w, h, "records")
			d.typ("?")
			fits(t, d, w, h, "full help")
			d.typ("?")
			d.typ("/")
			fits(t, d, w, h, "search")
			d.press(tea.KeyEsc)
			d.press(tea.KeyEnter)
			fits(t, d, w, h, "detail")
			d.typ("e")
			fits(t, d, w, h, "edit form")
			d.press(tea.KeyEsc)
			d.typ("d")
			fits(t, d, w, h, "delete dialog")
			d.typ("n")
			d.typ("a")
			fits(t, d, w, h, "audit")
			d.press(tea.KeyEsc, tea.KeyEsc)
			d.typ("n")
			fits(t, d, w, h, "new record")
			d.press(tea.KeyCtrlS)
			fits(t, d, w, h, "new record with errors")
			d.press(tea.KeyEsc)
			d.typ("f")
			fits(t, d, w, h, "filters")
			d.press(tea.KeyEsc)
			d.typ("u")
			fits(t, d, w, h, "users")
			d.typ("n")
			fits(t, d, w, h, "new user")
			d.press(tea.KeyEsc, tea.KeyEsc)
			d.typ("p")
			fits(t, d, w, h, "profile")
			d.typ("c")
			fits(t, d, w, h, "change password")
			d.press(tea.KeyEsc)
			d.typ("e")
			fits(t, d, w, h, "edit name")
			d.press(tea.KeyEsc)
			d.typ("k")
			d.sees("work laptop")
			fits(t, d, w, h, "ssh keys")
			d.typ("a")
			fits(t, d, w, h, "add ssh key")
			d.press(tea.KeyCtrlS)
			fits(t, d, w, h, "add ssh key with errors")
			d.press(tea.KeyEsc)
			d.typ("d")
			fits(t, d, w, h, "remove ssh key dialog")
			d.typ("n")
			d.typ("?")
			fits(t, d, w, h, "ssh keys full help")
		}
	}
}

func TestTinyAndChangingWindows(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	ann.record(t, client.RecordInput{PatientName: "Ann Smith"})
	d := signedIn(t, ann, 80, 24)
	d.press(tea.KeyEnter) // detail view
	for _, size := range [][2]int{{0, 0}, {1, 1}, {10, 3}, {19, 10}, {80, 4}} {
		d.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		v := d.view()
		if !strings.Contains(v, "Window too small") && !strings.HasPrefix("Window too small", v) {
			t.Fatalf("at %v: %q", size, v)
		}
		if size[0] > 0 && ansi.StringWidth(v) > size[0] {
			t.Fatalf("at %v the message is wider than the window: %q", size, v)
		}
		if strings.Contains(v, "\n") {
			t.Fatalf("at %v: more than one line", size)
		}
	}
	for _, size := range [][2]int{{20, 5}, {21, 6}, {40, 12}, {200, 60}, {80, 24}} {
		d.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		fits(t, d, size[0], size[1], "detail")
	}
	d.press(tea.KeyEsc)
	for _, size := range [][2]int{{20, 5}, {33, 9}, {80, 24}} {
		d.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		fits(t, d, size[0], size[1], "records")
	}
	// The auth screens and forms at tiny sizes.
	s := start(t, tui.Options{Client: e.client()}, 80, 24)
	for _, size := range [][2]int{{20, 5}, {24, 8}, {30, 12}, {45, 15}, {80, 24}} {
		s.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		fits(t, s, size[0], size[1], "sign in")
	}
	s.tabs(3)
	s.press(tea.KeyEnter)
	s.press(tea.KeyEnter, tea.KeyEnter, tea.KeyEnter, tea.KeyEnter, tea.KeyEnter) // all errors
	for _, size := range [][2]int{{20, 5}, {30, 12}, {80, 24}} {
		s.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		fits(t, s, size[0], size[1], "sign up with errors")
	}
	// A model that never got a size does not panic either.
	m := tui.New(tui.Options{Client: e.client(), Renderer: plainRenderer()})
	if v := m.View(); v != "Window too small" {
		t.Fatalf("0x0 view %q", v)
	}
}

func TestProfileEditNameAndChangePassword(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	creds := tui.FileCredentials(t.TempDir())
	d := start(t, tui.Options{Client: ann.c, SignedIn: true, Credentials: creds}, 100, 30)
	d.typ("p")
	d.sees("Your profile", "Ann Smith", "ann@example.org", "patient", "active")

	d.typ("e")
	d.sees("Edit your name")
	d.clear()
	d.press(tea.KeyCtrlS)
	if !strings.Contains(d.below("First name"), "may not be blank") {
		t.Fatalf("blank first name not flagged:\n%s", d.view())
	}
	d.typ("Annabel")
	d.press(tea.KeyCtrlS)
	d.sees("Name saved.", "Annabel Smith · patient")
	if me, _ := ann.c.Me(context.Background()); me.FirstName != "Annabel" {
		t.Fatalf("first name on the server: %q", me.FirstName)
	}

	d.typ("c")
	d.sees("Change your password", "Current password")
	d.typ("wrong-password-1")
	d.press(tea.KeyTab)
	d.typ("Mq4?river-Lantern-88")
	d.press(tea.KeyTab)
	d.typ("Mq4?river-Lantern-88")
	d.press(tea.KeyEnter)
	line := d.below("Current password")
	if !strings.Contains(line, "✗") {
		t.Fatalf("wrong current password not flagged next to the field:\n%s", d.view())
	}
	d.clear()
	d.typ(testPassword)
	d.press(tea.KeyCtrlS)
	d.sees("Password changed.")
	if _, err := e.client().Login(context.Background(), "ann@example.org", "Mq4?river-Lantern-88"); err != nil {
		t.Fatalf("new password does not work: %v", err)
	}
	// Still signed in, with the fresh pair stored.
	d.press(tea.KeyEsc)
	d.typ("r")
	d.sees("Medical records", "0 records")
	if rt, _ := creds.Load(e.url); rt == "" || rt != ann.c.Tokens().RefreshToken {
		t.Fatal("fresh refresh token not stored after the password change")
	}
}

func TestNoColorAndColorProfiles(t *testing.T) {
	e := newEnv(t)
	t.Setenv("TERM", "xterm-256color")
	t.Setenv("COLORTERM", "truecolor")
	t.Setenv("NO_COLOR", "")
	render := func() string {
		r := lipgloss.NewRenderer(io.Discard, termenv.WithTTY(true))
		d := start(t, tui.Options{Client: e.client(), Renderer: r}, 80, 24)
		return d.m.View()
	}
	if v := render(); !strings.Contains(v, "\x1b[") {
		t.Fatal("a colour terminal got no styling")
	}
	t.Setenv("NO_COLOR", "1")
	v := render()
	if strings.ContainsRune(v, 0x1b) {
		t.Fatalf("NO_COLOR output has escape codes: %q", v)
	}
	if !strings.Contains(v, "Sign in to Anavara") || !strings.Contains(v, "›") {
		t.Fatalf("NO_COLOR output lost its text or focus marker:\n%s", v)
	}
}

func TestFastTypingIsText(t *testing.T) {
	e := newEnv(t)
	d := start(t, tui.Options{Client: e.client()}, 80, 24)
	// A terminal delivers quickly typed or pasted letters as one message;
	// words that spell key names ("end", "up", "down") must stay text.
	d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("end")})
	d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("up")})
	d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("down@x.org")})
	if !strings.Contains(d.lineWith("Email"), "endupdown@x.org") {
		t.Fatalf("fast typing lost text:\n%s", d.view())
	}
	d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("pasted end"), Paste: true})
	if !strings.Contains(d.lineWith("Email"), "endupdown@x.orgpasted end") {
		t.Fatalf("paste lost text:\n%s", d.view())
	}
}
