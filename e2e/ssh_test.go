package e2e

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// writeKeyPair writes a fresh ed25519 key as OpenSSH files (path and
// path.pub) and returns the authorized_keys line.
func writeKeyPair(t testing.TB, path string) string {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sshPub, _ := gossh.NewPublicKey(pub)
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(sshPub)))
	if err := os.WriteFile(path+".pub", []byte(line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return line
}

// sshTools finds tmux and the OpenSSH client, skipping the test when either
// is missing or with -short, since the tests that use them also build the
// binary and run a server.
func sshTools(t *testing.T) (tmuxPath, sshPath string) {
	t.Helper()
	tmuxPath, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed (apt-get install -y tmux)")
	}
	sshPath, err = exec.LookPath("ssh")
	if err != nil {
		t.Skip("the OpenSSH client is not installed (apt-get install -y openssh-client)")
	}
	if testing.Short() {
		t.Skip("builds the binary and runs a server: skipped with -short")
	}
	return tmuxPath, sshPath
}

// TestSSHEndToEnd connects the real OpenSSH client, inside tmux, to the SSH
// front end of a real `anavara serve`: a registered key lands signed in on
// its owner's records.
func TestSSHEndToEnd(t *testing.T) {
	tmuxPath, sshPath := sshTools(t)
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	sshAddr := freeAddr(t)
	url := startServer(t, bin, filepath.Join(dir, "data"), "--ssh", sshAddr)

	signup(t, url, "kim@example.org", "Kim", "Keys")
	var auth struct {
		AccessToken string `json:"access_token"`
	}
	if status := post(t, url+"/api/auth/login", "", map[string]string{"email": "kim@example.org", "password": password}, &auth); status != http.StatusOK {
		t.Fatalf("login: %d", status)
	}
	keyPath := filepath.Join(dir, "id_ed25519")
	line := writeKeyPair(t, keyPath)
	if status := post(t, url+"/api/users/me/ssh-keys", auth.AccessToken, map[string]string{"name": "e2e", "public_key": line}, nil); status != http.StatusCreated {
		t.Fatalf("add ssh key: %d", status)
	}
	treated := time.Now().UTC().AddDate(0, 0, 10).Format("2006-01-02")
	if status := post(t, url+"/api/medical-records", auth.AccessToken, map[string]string{
		"patient_name": "Kim Keys", "date_of_birth": "1988-02-03", "date_of_treatment": treated,
		"doctor": "Dr. Openssh", "diagnosis": "Seen over SSH",
	}, nil); status != http.StatusCreated {
		t.Fatalf("create record: %d", status)
	}

	host, port, _ := net.SplitHostPort(sshAddr)
	tm := newTmux(t, tmuxPath, filepath.Join(dir, "tmux.sock"))
	env := []string{"HOME=" + dir, "TERM=xterm-256color", "LANG=C.UTF-8"}
	started := time.Now()
	tm.start("first", env, sshPath, "-tt", "-F", "/dev/null", "-p", port, "-i", keyPath,
		"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile="+filepath.Join(dir, "known_hosts"), host)
	screen := tm.waitFor("first", "Dr. Openssh")
	t.Logf("records screen over ssh after %v (tmux start and polling included)", time.Since(started).Round(time.Millisecond))
	for _, want := range []string{"Kim Keys", treated} {
		if !strings.Contains(screen, want) {
			t.Fatalf("screen lacks %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "Sign in to Anavara") {
		t.Fatalf("a registered key was asked to sign in:\n%s", screen)
	}
	tm.keys("first", "C-c")
	tm.waitFor("first", "[exited 0]")
}
