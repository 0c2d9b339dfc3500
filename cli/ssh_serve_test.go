package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/anavara/anavara/cli"
)

// runCommand runs an anavara command in-process until the test ends and
// returns the first line it printed.
func runCommand(t *testing.T, args ...string) string {
	t.Helper()
	return runCommandUntil(t, "", args...)
}

// runCommandUntil is runCommand returning the first line that starts with
// prefix.
func runCommandUntil(t *testing.T, prefix string, args ...string) string {
	t.Helper()
	lines := runCommandLines(t, prefix, args...)
	return lines[len(lines)-1]
}

// runCommandLines is runCommandUntil returning every line printed up to
// and including the first that starts with prefix, trimmed.
func runCommandLines(t *testing.T, prefix string, args ...string) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- cli.Execute(ctx, args, cli.Streams{In: strings.NewReader(""), Out: outW, Err: io.Discard})
		outW.Close()
	}()
	lines := bufio.NewReader(outR)
	var printed []string
	for {
		l, err := lines.ReadString('\n')
		if err != nil {
			cancel()
			t.Fatalf("%v printed no line starting %q (exit %d)", args, prefix, <-done)
		}
		printed = append(printed, strings.TrimSpace(l))
		if strings.HasPrefix(l, prefix) {
			break
		}
	}
	go io.Copy(io.Discard, lines)
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Errorf("%v did not stop", args)
		}
	})
	return printed
}

func postJSON(t *testing.T, url, token string, body any) map[string]any {
	t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode >= 300 {
		t.Fatalf("POST %s: %d %v", url, res.StatusCode, out)
	}
	return out
}

// screenOf opens a PTY session with signer and returns what it shows once
// it contains want (or fails).
func screenOf(t *testing.T, addr string, signer gossh.Signer, want string) string {
	t.Helper()
	return screenOfFrom(t, "", addr, signer, want)
}

// screenOfFrom is screenOf from the loopback address src ("" for any).
func screenOfFrom(t *testing.T, src, addr string, signer gossh.Signer, want string) string {
	t.Helper()
	d := net.Dialer{Timeout: 10 * time.Second}
	if src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	raw, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, chans, reqs, err := gossh.NewClientConn(raw, addr, &gossh.ClientConfig{User: "x", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second})
	if err != nil {
		raw.Close()
		t.Fatal(err)
	}
	conn := gossh.NewClient(c, chans, reqs)
	defer conn.Close()
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var mu sync.Mutex
	var out bytes.Buffer
	sess.Stdout = writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(p) })
	sess.Stderr = sess.Stdout
	if err := sess.RequestPty("xterm", 30, 100, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		s := out.String()
		mu.Unlock()
		if strings.Contains(s, want) {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Fatalf("SSH screen never showed %q: %q", want, out.String())
	return ""
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestSSHServeAgainstSeparateAPI runs the API and the SSH front end as two
// commands sharing only a service token, as a scaled deployment does.
func TestSSHServeAgainstSeparateAPI(t *testing.T) {
	dir := t.TempDir()
	const token = "separate-front-end-service-token-0123456789"
	apiLine := runCommand(t, "serve", "--data-dir", filepath.Join(dir, "api"), "--http", "127.0.0.1:0", "--ssh", "", "--service-token", token)
	api := strings.TrimPrefix(apiLine, "API listening on ")
	sshLine := runCommand(t, "ssh-serve", "--api", api, "--service-token", token, "--ssh", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "front"))
	sshAddr := strings.TrimPrefix(sshLine, "SSH listening on ")

	signup := postJSON(t, api+"/api/auth/signup", "", map[string]string{"first_name": "Sal", "last_name": "Scale",
		"email": "sal@example.org", "password": "Vq7!plum-Orbit-42"})
	access := signup["access_token"].(string)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	postJSON(t, api+"/api/users/me/ssh-keys", access, map[string]string{"public_key": string(gossh.MarshalAuthorizedKey(signer.PublicKey()))})
	postJSON(t, api+"/api/medical-records", access, map[string]string{"patient_name": "Sal Scale", "date_of_birth": "1970-01-01",
		"date_of_treatment": time.Now().UTC().AddDate(0, 0, 3).Format("2006-01-02"), "doctor": "Dr. Separate"})

	screenOf(t, sshAddr, signer, "Dr. Separate")

	// A front end with the wrong token cannot sign anyone in, and says so.
	wrongLine := runCommand(t, "ssh-serve", "--api", api, "--service-token", "wrong", "--ssh", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "front2"))
	screenOf(t, strings.TrimPrefix(wrongLine, "SSH listening on "), signer, "misconfigured")
}

// TestSSHServeServiceTokenRotation: the API accepts its current and next
// service tokens, and a front end given two sends the first.
func TestSSHServeServiceTokenRotation(t *testing.T) {
	dir := t.TempDir()
	const old, next = "rotation-old-service-token-0123456789", "rotation-new-service-token-0123456789"
	apiLine := runCommand(t, "serve", "--data-dir", filepath.Join(dir, "api"), "--http", "127.0.0.1:0", "--ssh", "", "--service-token", old+","+next)
	api := strings.TrimPrefix(apiLine, "API listening on ")
	signup := postJSON(t, api+"/api/auth/signup", "", map[string]string{"first_name": "Ro", "last_name": "Tate",
		"email": "ro@example.org", "password": "Vq7!plum-Orbit-42"})
	access := signup["access_token"].(string)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	postJSON(t, api+"/api/users/me/ssh-keys", access, map[string]string{"public_key": string(gossh.MarshalAuthorizedKey(signer.PublicKey()))})
	postJSON(t, api+"/api/medical-records", access, map[string]string{"patient_name": "Ro Tate", "date_of_birth": "1970-01-01",
		"date_of_treatment": time.Now().UTC().AddDate(0, 0, 3).Format("2006-01-02"), "doctor": "Dr. Rotation"})

	for i, tok := range []string{old, next, next + "," + old} {
		line := runCommand(t, "ssh-serve", "--api", api, "--service-token", tok, "--ssh", "127.0.0.1:0",
			"--data-dir", filepath.Join(dir, fmt.Sprintf("front%d", i)))
		screenOf(t, strings.TrimPrefix(line, "SSH listening on "), signer, "Dr. Rotation")
	}
	// A front end sends the first of its two: one whose first the API does
	// not hold cannot sign anyone in, though its second would have worked.
	line := runCommand(t, "ssh-serve", "--api", api, "--service-token", "not-the-api-token-0123456789,"+next, "--ssh", "127.0.0.1:0",
		"--data-dir", filepath.Join(dir, "front-wrong"))
	screenOf(t, strings.TrimPrefix(line, "SSH listening on "), signer, "misconfigured")
}

func TestSSHServeNeedsAPIAndToken(t *testing.T) {
	var stderr strings.Builder
	code := cli.Execute(context.Background(), []string{"ssh-serve", "--ssh", "127.0.0.1:0"}, cli.Streams{In: strings.NewReader(""), Out: io.Discard, Err: &stderr})
	if code == 0 || !strings.Contains(stderr.String(), "--api and --service-token are required") {
		t.Fatalf("exit %d, %q", code, stderr.String())
	}
}

// TestSSHFrontDoorFlags checks that the handshake limits reach the SSH
// front end: the deadline from its environment variable, the
// unauthenticated cap from its flag.
func TestSSHFrontDoorFlags(t *testing.T) {
	t.Setenv("ANAVARA_SSH_HANDSHAKE_TIMEOUT", "1s")
	// No API is needed: nothing here gets past the handshake.
	line := runCommand(t, "ssh-serve", "--api", "http://127.0.0.1:1", "--service-token", "front-door-token",
		"--ssh", "127.0.0.1:0", "--data-dir", t.TempDir(), "--ssh-max-unauthenticated", "1")
	addr := strings.TrimPrefix(line, "SSH listening on ")
	// versionLine reads what the server sends first on a new connection.
	versionLine := func(c net.Conn) (string, error) {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		return bufio.NewReader(c).ReadString('\n')
	}
	held, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if v, err := versionLine(held); err != nil || !strings.HasPrefix(v, "SSH-2.0-") {
		t.Fatalf("version line %q, %v", v, err)
	}
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	if v, err := versionLine(extra); err == nil {
		t.Fatalf("a connection past --ssh-max-unauthenticated 1 was served (%q)", v)
	}
	held.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, held); err != nil {
		t.Fatalf("ANAVARA_SSH_HANDSHAKE_TIMEOUT=1s did not close an unauthenticated connection: %v", err)
	}
}

// TestSSHListenerCaps checks that the SSH listener of serve and of
// ssh-serve closes connections past the total and per-address caps at
// once, before the SSH server sees them.
func TestSSHListenerCaps(t *testing.T) {
	// holdRaw opens a connection and reports whether the SSH server
	// answered it with its version line; a served one is kept open.
	holdRaw := func(t *testing.T, addr string) bool {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		v, err := bufio.NewReader(c).ReadString('\n')
		return err == nil && strings.HasPrefix(v, "SSH-2.0-")
	}
	dir := t.TempDir()
	for name, args := range map[string][]string{
		"serve per address": {"serve", "--data-dir", filepath.Join(dir, "serve"), "--http", "127.0.0.1:0", "--ssh", "127.0.0.1:0",
			"--ssh-max-connections-per-address", "2"},
		"ssh-serve total": {"ssh-serve", "--api", "http://127.0.0.1:1", "--service-token", "caps-token", "--ssh", "127.0.0.1:0",
			"--data-dir", filepath.Join(dir, "front"), "--ssh-max-connections", "2"},
	} {
		t.Run(name, func(t *testing.T) {
			addr := strings.TrimSpace(strings.TrimPrefix(runCommandUntil(t, "SSH listening on ", args...), "SSH listening on "))
			for i := 0; i < 2; i++ {
				if !holdRaw(t, addr) {
					t.Fatalf("connection %d under the cap was not served", i+1)
				}
			}
			if holdRaw(t, addr) {
				t.Fatal("a third connection past a cap of 2 was served")
			}
		})
	}
}
