package cli_test

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/anavara/anavara/cli"
)

// TestCreateSuperuserAsksAgain is issue 11 defect 6: on a terminal a weak
// or mistyped password is asked for again instead of ending the command
// (with --password-stdin it still fails at once: createsuperuser.txtar).
func TestCreateSuperuserAsksAgain(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skip("no pty:", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	go func() { _, _ = io.Copy(io.Discard, ptmx) }() // whatever the tty echoes
	// Typed ahead: the password prompt reads a byte at a time, one line per
	// prompt.
	const good = "Vq7!plum-Orbit-42"
	if _, err := io.WriteString(ptmx, "password123\n"+good+"\n"+good+"-typo\n"+good+"\n"+good+"\n"); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := cli.Execute(context.Background(), []string{"createsuperuser", "--data-dir", filepath.Join(t.TempDir(), "data"),
		"--email", "ada@example.org", "--first-name", "Ada", "--last-name", "Admin"},
		cli.Streams{In: tty, Out: &out, Err: &errOut})
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"This password is too common", "Try another.", "The passwords do not match. Try again."} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	if n := strings.Count(errOut.String(), "Password: "); n != 3 {
		t.Errorf("asked %d times, want 3:\n%s", n, errOut.String())
	}
	if !strings.Contains(out.String(), "Staff user ada@example.org created") {
		t.Fatalf("stdout: %s", out.String())
	}
}
