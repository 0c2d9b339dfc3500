package tui_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui"
	"github.com/anavara/anavara/tui/client"
)

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	e.patient("ann@example.org", "Ann", "Smith")
	creds := tui.FileCredentials(t.TempDir())
	c := e.client()
	d := start(t, tui.Options{Client: c, Credentials: creds}, 80, 24)
	d.sees("Sign in to Anavara", "Server "+e.url, "Email", "Password")

	d.typ("Ann@Example.org")
	d.press(tea.KeyTab)
	d.typ(testPassword)
	d.press(tea.KeyEnter)

	d.sees("Medical records", "0 records", "Ann Smith · patient", "Welcome back, Ann.", "No records yet")
	rt, err := creds.Load(e.url)
	if err != nil || rt == "" {
		t.Fatalf("refresh token not stored: %q, %v", rt, err)
	}
	if rt != c.Tokens().RefreshToken {
		t.Fatal("stored refresh token is not the client's")
	}
}

func TestSignInWrongPassword(t *testing.T) {
	e := newEnv(t)
	e.patient("ann@example.org", "Ann", "Smith")
	d := start(t, tui.Options{Client: e.client()}, 80, 24)
	d.typ("ann@example.org")
	d.press(tea.KeyTab)
	d.typ("not-my-password")
	d.press(tea.KeyEnter)

	d.sees("Invalid email or password", "Sign in to Anavara")
	d.misses("Medical records", "not-my-password")
	if !strings.Contains(d.lineWith("Email"), "ann@example.org") {
		t.Fatal("email was not kept for another try")
	}
	// The error is dismissible with esc.
	d.press(tea.KeyEsc)
	d.misses("Invalid email or password")
	// A second try with the right password works.
	d.typ(testPassword)
	d.press(tea.KeyEnter)
	d.sees("Medical records")
}

func TestSignInChecksFieldsBeforeSending(t *testing.T) {
	e := newEnv(t)
	d := start(t, tui.Options{Client: e.client()}, 80, 24)
	d.press(tea.KeyEnter) // on the email field: moves on
	d.press(tea.KeyEnter) // on the password field: submits
	if !strings.Contains(d.below("Email"), model.MsgBlank) || !strings.Contains(d.below("Password"), model.MsgBlank) {
		t.Fatalf("blank fields not flagged inline:\n%s", d.view())
	}
	// The focus is back on the first field in error, the email.
	d.typ("not-an-email")
	d.press(tea.KeyTab)
	d.typ("whatever1")
	d.press(tea.KeyEnter)
	if !strings.Contains(d.below("Email"), model.MsgInvalidEmail) {
		t.Fatalf("invalid email not flagged next to the field:\n%s", d.view())
	}
	d.misses(model.MsgBlank)
}

func TestSignUp(t *testing.T) {
	e := newEnv(t)
	creds := tui.FileCredentials(t.TempDir())
	d := start(t, tui.Options{Client: e.client(), Credentials: creds}, 80, 24)
	d.tabs(3) // email, password, [Sign in], [Create account]
	d.press(tea.KeyEnter)
	d.sees("Create your account", "First name", "Last name", "Confirm")

	d.typ("Bea")
	d.press(tea.KeyTab)
	d.typ("Jones")
	d.press(tea.KeyTab)
	d.typ("bea@example.org")
	d.press(tea.KeyTab)
	d.typ("password") // on the common-passwords list
	d.press(tea.KeyTab)
	d.typ("password")
	d.press(tea.KeyEnter)
	if !strings.Contains(d.below("Password"), model.MsgPasswordCommon) {
		t.Fatalf("weak password not flagged inline:\n%s", d.view())
	}

	// Focus is back on the password: replace it, and mistype the confirmation.
	d.clear()
	d.typ(testPassword)
	d.press(tea.KeyTab)
	d.clear()
	d.typ(testPassword + "x")
	d.press(tea.KeyEnter)
	if !strings.Contains(d.below("Confirm"), "do not match") {
		t.Fatalf("mismatch not flagged:\n%s", d.view())
	}
	d.clear()
	d.typ(testPassword)
	d.press(tea.KeyEnter)

	d.sees("Medical records", "Bea Jones · patient", "Welcome to Anavara, Bea.")
	// The account exists and works.
	if _, err := e.client().Login(context.Background(), "bea@example.org", testPassword); err != nil {
		t.Fatalf("login with the new account: %v", err)
	}
	if rt, _ := creds.Load(e.url); rt == "" {
		t.Fatal("sign-up did not store the refresh token")
	}
}

func TestSignUpShowsServerFieldErrors(t *testing.T) {
	e := newEnv(t)
	e.patient("taken@example.org", "Tim", "Taken")
	d := start(t, tui.Options{Client: e.client()}, 80, 24)
	d.tabs(3)
	d.press(tea.KeyEnter)
	d.typ("Tom")
	d.press(tea.KeyTab)
	d.typ("Other")
	d.press(tea.KeyTab)
	d.typ("TAKEN@example.org")
	d.press(tea.KeyTab)
	d.typ(testPassword)
	d.press(tea.KeyTab)
	d.typ(testPassword)
	d.press(tea.KeyEnter)
	if !strings.Contains(d.below("Email"), model.MsgEmailTaken) {
		t.Fatalf("409 field error not next to the email field:\n%s", d.view())
	}
	d.sees("Create your account")
}

func TestForgotAndResetPassword(t *testing.T) {
	e := newEnv(t)
	e.patient("ann@example.org", "Ann", "Smith")
	d := start(t, tui.Options{Client: e.client()}, 80, 24)
	d.typ("ann@example.org")
	d.tabs(4) // password, [Sign in], [Create account], [Forgot password]
	d.press(tea.KeyEnter)
	d.sees("Forgot your password?")
	if !strings.Contains(d.lineWith("Email"), "ann@example.org") {
		t.Fatal("the email typed on sign-in was not carried over")
	}
	d.press(tea.KeyEnter)
	d.sees("Choose a new password", "If an account exists for that email, a reset code has been sent.")

	code := e.resetCode("ann@example.org")
	const newPassword = "Mq4?river-Lantern-88"

	// A wrong code is the server's business; a malformed one is caught here.
	d.typ("12ab")
	d.press(tea.KeyTab)
	d.typ(newPassword)
	d.press(tea.KeyTab)
	d.typ(newPassword)
	d.press(tea.KeyEnter)
	if !strings.Contains(d.below("Code"), model.MsgInvalidCode) {
		t.Fatalf("malformed code not flagged:\n%s", d.view())
	}
	d.clear()
	d.typ(code)
	d.press(tea.KeyEnter) // moves to the new password
	d.press(tea.KeyEnter) // moves to the confirmation
	d.press(tea.KeyEnter) // submits

	d.sees("Sign in to Anavara", "Password changed. Sign in with your new password.")
	d.typ(newPassword) // focus is on the password, the email is filled in
	d.press(tea.KeyEnter)
	d.sees("Medical records", "Ann Smith")
}

func TestResumesStoredSessionAndSignsOut(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	dir := t.TempDir()
	creds := tui.FileCredentials(dir)
	if err := creds.Save(e.url, ann.c.Tokens().RefreshToken); err != nil {
		t.Fatal(err)
	}

	// As `anavara tui` does: only the stored refresh token.
	c := e.client()
	c.SetTokens(model.TokenPair{RefreshToken: ann.c.Tokens().RefreshToken})
	d := start(t, tui.Options{Client: c, Credentials: creds}, 80, 24)
	d.sees("Medical records", "Ann Smith · patient")
	rt, _ := creds.Load(e.url)
	if rt == "" || rt != c.Tokens().RefreshToken {
		t.Fatal("the rotated refresh token was not stored")
	}

	d.typ("p")
	d.sees("Your profile", "ann@example.org", "patient")
	d.typ("o")
	d.sees("Sign out of Anavara on this device?")
	d.typ("y")
	d.sees("Sign in to Anavara", "Signed out.")
	if rt, _ := creds.Load(e.url); rt != "" {
		t.Fatal("sign-out kept the stored refresh token")
	}
	// The token is revoked on the server too.
	c2 := e.client()
	c2.SetTokens(model.TokenPair{RefreshToken: rt})
	if _, err := c2.Refresh(context.Background()); err == nil {
		t.Fatal("refresh token still valid after sign-out")
	}
}

func TestExpiredStoredSessionAsksToSignIn(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	c.SetTokens(model.TokenPair{RefreshToken: "not-a-real-token"})
	creds := tui.FileCredentials(t.TempDir())
	_ = creds.Save(e.url, "not-a-real-token")
	d := start(t, tui.Options{Client: c, Credentials: creds}, 80, 24)
	d.sees("Sign in to Anavara", "Please sign in again")
	if rt, _ := creds.Load(e.url); rt != "" {
		t.Fatal("a refused token was kept")
	}
}

func TestUnreachableServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := client.New(client.Options{BaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	d := start(t, tui.Options{Client: c}, 100, 24)
	d.typ("ann@example.org")
	d.press(tea.KeyTab)
	d.typ(testPassword)
	d.press(tea.KeyEnter)
	d.sees("Cannot reach the Anavara server at " + url)
	d.misses("dial tcp", "connection refused")
}

func TestFileCredentials(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "anavara")
	s := tui.FileCredentials(dir)
	if rt, err := s.Load("http://a"); err != nil || rt != "" {
		t.Fatalf("empty store: %q, %v", rt, err)
	}
	if err := s.Save("http://a", "one"); err != nil {
		t.Fatal(err)
	}
	if err := s.Save("http://b:8080", "two"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials.json mode %v, want 0600", fi.Mode().Perm())
	}
	// A second store on the same dir (the next run) sees both.
	s2 := tui.FileCredentials(dir)
	if rt, _ := s2.Load("http://a"); rt != "one" {
		t.Fatalf("a = %q", rt)
	}
	if err := s2.Delete("http://a"); err != nil {
		t.Fatal(err)
	}
	if rt, _ := s2.Load("http://a"); rt != "" {
		t.Fatal("delete kept the token")
	}
	if rt, _ := s2.Load("http://b:8080"); rt != "two" {
		t.Fatal("delete removed another server's token")
	}
	if err := s2.Delete("http://nothing"); err != nil {
		t.Fatalf("deleting nothing: %v", err)
	}
}

func TestQuitKeys(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")

	// q is a letter while a text field has the keyboard.
	d := start(t, tui.Options{Client: e.client()}, 80, 24)
	d.typ("q")
	if d.quit {
		t.Fatal("q quit while typing an email")
	}
	if !strings.Contains(d.lineWith("Email"), "q") {
		t.Fatal("q was not typed")
	}
	d.press(tea.KeyCtrlC)
	if !d.quit {
		t.Fatal("ctrl+c did not quit")
	}

	// On the records list q quits.
	d = signedIn(t, ann, 80, 24)
	d.sees("Medical records")
	d.typ("q")
	if !d.quit {
		t.Fatal("q did not quit the records list")
	}
}

// TestSignInHelpNamesTheFocusedButton is issue 11 defect 6: with the focus
// on "Create account" the help line said "enter sign in".
func TestSignInHelpNamesTheFocusedButton(t *testing.T) {
	e := newEnv(t)
	d := start(t, tui.Options{Client: e.client()}, 80, 24)
	for i, want := range []string{"enter sign in", "enter sign in", "enter create account", "enter forgot password", "enter sign in"} {
		if l := d.lineWith("quit"); !strings.Contains(l, want) {
			t.Fatalf("focus %d: help line %q lacks %q", i+1, l, want)
		}
		d.press(tea.KeyTab)
		if i == 0 {
			d.press(tea.KeyTab) // the password field
		}
	}
}
