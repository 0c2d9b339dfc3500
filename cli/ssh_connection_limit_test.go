package cli_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// handshakeFrom completes an SSH handshake with a fresh key from the
// loopback address src to addr and hangs up; an error means the front end
// turned the connection away.
func handshakeFrom(t *testing.T, src, addr string) error {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
	raw, err := d.Dial("tcp", addr)
	if err != nil {
		return err
	}
	c, chans, reqs, err := gossh.NewClientConn(raw, addr, &gossh.ClientConfig{User: "x", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
	if err != nil {
		raw.Close()
		return err
	}
	return gossh.NewClient(c, chans, reqs).Close()
}

// TestSSHServeConnectionLimitHeldByAPI is the regression for ssh-serve
// counting connections per process: two ssh-serve front ends (each
// allowing the default 30 a minute itself) against one serve whose
// --ssh-connections-per-minute is 2 let one address connect twice in
// all, not twice through each.
func TestSSHServeConnectionLimitHeldByAPI(t *testing.T) {
	dir := t.TempDir()
	const token = "connection-limit-service-token-0123456789"
	apiLine := runCommand(t, "serve", "--data-dir", filepath.Join(dir, "api"), "--http", "127.0.0.1:0", "--ssh", "",
		"--service-token", token, "--ssh-connections-per-minute", "2")
	api := strings.TrimPrefix(apiLine, "API listening on ")
	var fronts []string
	for _, name := range []string{"front1", "front2"} {
		line := runCommand(t, "ssh-serve", "--api", api, "--service-token", token, "--ssh", "127.0.0.1:0", "--data-dir", filepath.Join(dir, name))
		fronts = append(fronts, strings.TrimPrefix(line, "SSH listening on "))
	}
	const src = "127.0.0.81"
	for i, front := range fronts {
		if err := handshakeFrom(t, src, front); err != nil {
			t.Fatalf("connection %d of 2, through front end %d: %v", i+1, i+1, err)
		}
	}
	for i, front := range fronts {
		if handshakeFrom(t, src, front) == nil {
			t.Fatalf("front end %d accepted a third connection within the minute", i+1)
		}
	}
	if err := handshakeFrom(t, "127.0.0.82", fronts[0]); err != nil {
		t.Fatalf("a connection from another address: %v", err)
	}
}

// TestBuiltInAndSSHServeShareConnectionLimit: serve's built-in front end
// and an ssh-serve asking that serve count one address's connections in
// one bucket, also on SQLite, where the limits live in serve's memory.
func TestBuiltInAndSSHServeShareConnectionLimit(t *testing.T) {
	dir := t.TempDir()
	const token = "shared-limit-service-token-0123456789"
	lines := runCommandLines(t, "API listening on ", "serve", "--data-dir", filepath.Join(dir, "api"), "--http", "127.0.0.1:0",
		"--ssh", "127.0.0.1:0", "--service-token", token, "--ssh-connections-per-minute", "2")
	var api, builtin string
	for _, l := range lines {
		if a, ok := strings.CutPrefix(l, "SSH listening on "); ok {
			builtin = a
		}
		if a, ok := strings.CutPrefix(l, "API listening on "); ok {
			api = a
		}
	}
	if builtin == "" {
		t.Fatalf("serve printed no SSH address: %q", lines)
	}
	line := runCommand(t, "ssh-serve", "--api", api, "--service-token", token, "--ssh", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "front"))
	front := strings.TrimPrefix(line, "SSH listening on ")

	const src = "127.0.0.83"
	if err := handshakeFrom(t, src, builtin); err != nil {
		t.Fatalf("first connection, to serve's front end: %v", err)
	}
	if err := handshakeFrom(t, src, front); err != nil {
		t.Fatalf("second connection, to ssh-serve: %v", err)
	}
	for _, addr := range []string{front, builtin} {
		if handshakeFrom(t, src, addr) == nil {
			t.Fatalf("%s accepted a third connection within the minute", addr)
		}
	}
}
