package tui_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	gossh "golang.org/x/crypto/ssh"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/tui"
	"github.com/anavara/anavara/tui/client"
)

// sshKeyLine makes a new ed25519 public key as an authorized_keys line with
// comment, and returns it with its SHA256 fingerprint.
func sshKeyLine(t testing.TB, comment string) (line, fingerprint string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	line = strings.TrimSpace(string(gossh.MarshalAuthorizedKey(k)))
	if comment != "" {
		line += " " + comment
	}
	return line, gossh.FingerprintSHA256(k)
}

// paste sends text as a terminal's bracketed paste.
func (d *driver) paste(text string) {
	d.t.Helper()
	d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(text), Paste: true})
}

// serverKeys lists the SSH keys of c's account on the server.
func serverKeys(t testing.TB, c *client.Client) []model.SSHKey {
	t.Helper()
	keys, err := c.ListSSHKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestProfileSSHKeys(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	bob := e.patient("bob@example.org", "Bob", "Jones")
	d := signedIn(t, ann, 100, 30)
	d.typ("p")
	d.sees("Your profile", "k ssh keys")
	d.typ("k")
	d.sees("Your SSH keys", "0 keys", "No SSH keys yet", "a add key")

	// Blank public key: flagged before sending.
	d.typ("a")
	d.sees("Add an SSH key", "Name", "Public key")
	d.press(tea.KeyCtrlS)
	if !strings.Contains(d.below("Public key"), model.MsgBlank) {
		t.Fatalf("blank key not flagged:\n%s", d.view())
	}
	if n := len(serverKeys(t, ann.c)); n != 0 {
		t.Fatalf("%d keys on the server after a blank submit", n)
	}

	// An invalid key: the API's field error under the field.
	d.paste("ssh-ed25519 not-really-a-key")
	d.press(tea.KeyEnter)
	if !strings.Contains(d.below("Public key"), "✗") || !strings.Contains(d.view(), "authorized_keys line") {
		t.Fatalf("invalid key not flagged under the field:\n%s", d.view())
	}
	d.sees("Please correct the highlighted fields.")

	// A valid key with a name: listed, and on the server.
	line, fp := sshKeyLine(t, "ann@laptop")
	d.clear()
	d.paste(line)
	d.press(tea.KeyShiftTab)
	d.typ("work laptop")
	d.press(tea.KeyCtrlS)
	d.sees("Your SSH keys", "1 key", "work laptop", "ed25519", "never", `SSH key “work laptop” added.`, fp)
	keys := serverKeys(t, ann.c)
	if len(keys) != 1 || keys[0].Fingerprint != fp || keys[0].Name != "work laptop" {
		t.Fatalf("server keys after add: %+v", keys)
	}

	// The same key again: 409, shown under the field, nothing added.
	d.typ("a")
	d.tabs(1)
	d.paste(line)
	d.press(tea.KeyEnter)
	if !strings.Contains(d.below("Public key"), "already linked") {
		t.Fatalf("duplicate key not flagged:\n%s", d.view())
	}
	// Bob's key is refused as well (a key belongs to one account).
	bobLine, _ := sshKeyLine(t, "")
	if _, err := bob.c.AddSSHKey(context.Background(), "bob", bobLine); err != nil {
		t.Fatal(err)
	}
	d.clear()
	d.paste(bobLine)
	d.press(tea.KeyEnter)
	if !strings.Contains(d.below("Public key"), "already linked") {
		t.Fatalf("another account's key not flagged:\n%s", d.view())
	}
	if n := len(serverKeys(t, ann.c)); n != 1 {
		t.Fatalf("%d keys on the server after duplicates", n)
	}
	d.press(tea.KeyEsc) // dismisses the error
	d.press(tea.KeyEsc) // leaving a form with a pasted key asks first
	d.sees("Discard changes?")
	d.typ("y")
	d.sees("Your SSH keys")

	// A second key without a name takes the comment.
	line2, fp2 := sshKeyLine(t, "ann@desktop")
	d.typ("a")
	d.tabs(1)
	d.paste(line2)
	d.press(tea.KeyEnter)
	d.sees("2 keys", "work laptop", "ann@desktop")

	// Remove the selected (second) key, with confirmation.
	d.typ("j")
	d.sees(fp2)
	d.typ("d")
	d.sees("Remove SSH key", "ann@desktop", fp2)
	d.typ("n")
	if n := len(serverKeys(t, ann.c)); n != 2 {
		t.Fatalf("%d keys after cancelling the removal", n)
	}
	d.typ("d")
	d.typ("y")
	d.sees("SSH key removed.", "1 key", "work laptop")
	d.misses("ann@desktop")
	keys = serverKeys(t, ann.c)
	if len(keys) != 1 || keys[0].Fingerprint != fp {
		t.Fatalf("server keys after removal: %+v", keys)
	}
	if n := len(serverKeys(t, bob.c)); n != 1 {
		t.Fatalf("bob has %d keys", n)
	}
	// Back to the profile.
	d.press(tea.KeyEsc)
	d.sees("Your profile")
}

func TestSSHKeyNamesAreSanitised(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	line, _ := sshKeyLine(t, "")
	if _, err := ann.c.AddSSHKey(context.Background(), "evil\x1b[2Jname", line); err != nil {
		t.Fatal(err)
	}
	d := signedIn(t, ann, 100, 30)
	d.typ("p")
	d.typ("k")
	if strings.Contains(d.m.View(), "\x1b[2J") {
		t.Fatal("a key name reached the terminal as an escape sequence")
	}
	d.sees("evil")
}

func TestLinkOfferAfterSignIn(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	line, fp := sshKeyLine(t, "")
	d := start(t, tui.Options{Client: e.client(), SSHKey: line}, 80, 24)
	d.sees("Sign in to Anavara")
	d.misses("Link this SSH key")
	d.typ("ann@example.org")
	d.press(tea.KeyTab)
	d.typ(testPassword)
	d.press(tea.KeyEnter)
	d.sees("Link this SSH key to your account? (y/n)", "ssh-ed25519", fp, "y link key", "your next ssh connection")
	d.misses("`") // plain text, not Markdown
	fits(t, d, 80, 24, "link offer")
	if n := len(serverKeys(t, ann.c)); n != 0 {
		t.Fatal("key linked before the user said yes")
	}
	d.typ("y")
	d.sees("✓ SSH key linked: from now on, ssh signs you in by this key alone.", "Medical records")
	d.misses("Link this SSH key")
	keys := serverKeys(t, ann.c)
	// Named for what and when: the SSH protocol carries no key comment, and
	// the type alone ("ssh-ed25519") told keys apart by nothing.
	if want := "ssh-ed25519 key linked over SSH on " + future(0).String(); len(keys) != 1 || keys[0].Fingerprint != fp || keys[0].Name != want {
		t.Fatalf("server keys after linking: %+v, want one named %q", keys, want)
	}
	// The offer is made once per session: signing out and in again does
	// not repeat it.
	d.typ("p")
	d.typ("o")
	d.typ("y")
	d.sees("Sign in to Anavara")
	d.typ("ann@example.org")
	d.press(tea.KeyTab)
	d.typ(testPassword)
	d.press(tea.KeyEnter)
	d.sees("Medical records")
	d.misses("Link this SSH key")
}

func TestLinkOfferAfterSignUpCanBeDeclined(t *testing.T) {
	e := newEnv(t)
	line, _ := sshKeyLine(t, "")
	c := e.client()
	d := start(t, tui.Options{Client: c, SSHKey: line}, 80, 24)
	d.tabs(3)
	d.press(tea.KeyEnter) // Create account
	d.typ("Cleo")
	d.press(tea.KeyTab)
	d.typ("Park")
	d.press(tea.KeyTab)
	d.typ("cleo@example.org")
	d.press(tea.KeyTab)
	d.typ(testPassword)
	d.press(tea.KeyTab)
	d.typ(testPassword)
	d.press(tea.KeyEnter)
	d.sees("Link this SSH key to your account?")
	d.press(tea.KeyEsc)
	d.sees("Medical records")
	d.misses("Link this SSH key", "SSH key linked")
	if n := len(serverKeys(t, c)); n != 0 {
		t.Fatalf("%d keys linked after declining", n)
	}
}

func TestLinkOfferKeyOfAnotherAccount(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	bob := e.patient("bob@example.org", "Bob", "Jones")
	line, _ := sshKeyLine(t, "")
	if _, err := bob.c.AddSSHKey(context.Background(), "bob", line); err != nil {
		t.Fatal(err)
	}
	d := start(t, tui.Options{Client: e.client(), SSHKey: line}, 80, 24)
	d.typ("ann@example.org")
	d.press(tea.KeyTab)
	d.typ(testPassword)
	d.press(tea.KeyEnter)
	d.typ("y")
	d.sees("Not linked: this SSH key already belongs to another account.", "Medical records")
	d.misses("Link this SSH key")
	if n := len(serverKeys(t, ann.c)); n != 0 {
		t.Fatalf("ann has %d keys", n)
	}
	d.press(tea.KeyEsc)
	d.misses("Not linked")
}

func TestNoLinkOffer(t *testing.T) {
	e := newEnv(t)
	ann := e.patient("ann@example.org", "Ann", "Smith")
	line, _ := sshKeyLine(t, "")

	// The local TUI: no key.
	d := start(t, tui.Options{Client: e.client()}, 80, 24)
	d.typ("ann@example.org")
	d.press(tea.KeyTab)
	d.typ(testPassword)
	d.press(tea.KeyEnter)
	d.sees("Medical records", "Welcome back, Ann.")
	d.misses("Link this SSH key")

	// Signed in by the key already: nothing to offer, even after signing
	// out and in again.
	d = start(t, tui.Options{Client: ann.c, SignedIn: true, SSHKey: line}, 80, 24)
	d.sees("Medical records")
	d.misses("Link this SSH key")
	d.typ("p")
	d.typ("o")
	d.typ("y")
	d.typ("ann@example.org")
	d.press(tea.KeyTab)
	d.typ(testPassword)
	d.press(tea.KeyEnter)
	d.sees("Medical records")
	d.misses("Link this SSH key")
	if n := len(serverKeys(t, ann.c)); n != 0 {
		t.Fatalf("ann has %d keys", n)
	}
}
