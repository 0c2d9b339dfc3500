package sshapp_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/sshapp"
)

func TestKnownKeyLandsOnRecords(t *testing.T) {
	e := newEnv(t)
	key := newKey(t)
	e.patient("known@example.org", "Zora Known", key.PublicKey())
	e.patient("other@example.org", "Otto Other", nil)

	conn, err := e.dial(gossh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	term := e.open(conn, 100, 30)
	term.waitFor("Zora Known")
	if strings.Contains(term.screen(), "Otto Other") {
		t.Fatal("the session shows another patient's record")
	}
}

func TestUnknownKeySeesSignIn(t *testing.T) {
	e := newEnv(t)
	e.patient("someone@example.org", "Sam Someone", nil)
	conn, err := e.dial(gossh.PublicKeys(newKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	term := e.open(conn, 100, 30)
	term.waitFor("Sign in")
	if strings.Contains(term.screen(), "Sam Someone") {
		t.Fatal("an unknown key sees records")
	}
}

// TestOfferedButUnprovenKeyGrantsNothing is the CVE-2024-45337 regression:
// the real OpenSSH client offers the victim's registered public key (the
// server accepts the offer) but cannot sign with it, so it goes on to
// authenticate with the attacker's own key. The session must belong to the
// attacker's key, never to the victim.
func TestOfferedButUnprovenKeyGrantsNothing(t *testing.T) {
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("OpenSSH client not installed (apt-get install openssh-client); .ci/run installs it")
	}
	e := newEnv(t)
	victim := newKey(t)
	e.patient("victim@example.org", "Vera Victim", victim.PublicKey())

	run := func(t *testing.T, attacker testKey, want string) {
		dir := t.TempDir()
		victimPub := filepath.Join(dir, "victim.pub")
		if err := os.WriteFile(victimPub, gossh.MarshalAuthorizedKey(victim.PublicKey()), 0o600); err != nil {
			t.Fatal(err)
		}
		attackerKey := filepath.Join(dir, "attacker")
		if err := os.WriteFile(attackerKey, privatePEM(t, attacker), 0o600); err != nil {
			t.Fatal(err)
		}
		host, port, _ := net.SplitHostPort(e.sshAddr)
		cmd := exec.Command(sshBin, "-tt", "-p", port, "-F", "/dev/null",
			"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
			"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes",
			"-i", victimPub, "-i", attackerKey, host)
		out := runInPTY(t, cmd, 100, 30)
		out.waitFor(want)
		if strings.Contains(out.screen(), "Vera Victim") {
			t.Fatal("offering the victim's public key gave access to the victim's records")
		}
	}
	t.Run("attacker's own key is registered", func(t *testing.T) {
		attacker := newKey(t)
		e.patient("attacker@example.org", "Adam Attacker", attacker.PublicKey())
		run(t, attacker, "Adam Attacker")
	})
	t.Run("attacker's key is unknown", func(t *testing.T) {
		run(t, newKey(t), "Sign in")
	})
}

func TestPasswordAuthIsRefused(t *testing.T) {
	e := newEnv(t)
	e.patient("pw@example.org", "Pia Password", nil)
	if _, err := e.dial(gossh.Password("Vq7!plum-Orbit-42")); err == nil {
		t.Fatal("password authentication succeeded")
	}
	challenge := gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return nil, nil })
	if _, err := e.dial(challenge); err == nil {
		t.Fatal("keyboard-interactive authentication succeeded")
	}
}

func TestNoPTYExplainsAndExits1(t *testing.T) {
	e := newEnv(t)
	conn, err := e.dial(gossh.PublicKeys(newKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.CombinedOutput("records")
	var exit *gossh.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() != 1 {
		t.Fatalf("exit %v, want status 1", err)
	}
	if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); len(lines) != 1 || !strings.Contains(strings.ToLower(lines[0]), "pty") {
		t.Fatalf("output %q, want a one-line explanation", out)
	}
}

func TestHostKeyStableAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host_key")
	first, err := sshapp.LoadOrCreateHostKey(path)
	if err != nil {
		t.Fatal(err)
	}
	second, err := sshapp.LoadOrCreateHostKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(first) != string(second) {
		t.Fatal("host key changed between starts")
	}
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("host key mode %v, want 0600", info.Mode().Perm())
	}
	signer, err := gossh.ParsePrivateKey(first)
	if err != nil || signer.PublicKey().Type() != gossh.KeyAlgoED25519 {
		t.Fatalf("host key %v, %v: want ed25519", signer, err)
	}
}

func TestSessionCap(t *testing.T) {
	e := newEnv(t, func(c *sshapp.Config) { c.MaxSessions = 2; c.MaxAnonymousSessions = 2 })
	var terms []*terminal
	for i := 0; i < 2; i++ {
		conn, err := e.dial(gossh.PublicKeys(newKey(t)))
		if err != nil {
			t.Fatal(err)
		}
		term := e.open(conn, 80, 24)
		term.waitFor("Sign in")
		terms = append(terms, term)
	}
	conn, err := e.dial(gossh.PublicKeys(newKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	extra := e.open(conn, 80, 24)
	extra.waitFor("too many open sessions")
	select {
	case err := <-extra.exited:
		var exit *gossh.ExitError
		if !errors.As(err, &exit) || exit.ExitStatus() != 1 {
			t.Fatalf("turned-away session ended with %v, want status 1", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("turned-away session did not end")
	}
	// A slot frees when a session ends.
	terms[0].send("\x03")
	<-terms[0].exited
	waitUntil(t, func() bool { return e.ssh.ActiveSessions() == 1 })
	conn, err = e.dial(gossh.PublicKeys(newKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	e.open(conn, 80, 24).waitFor("Sign in")
}

func TestUnknownKeysRefusedWhenNotAllowed(t *testing.T) {
	e := newEnv(t, func(c *sshapp.Config) { c.AllowUnknownKeys = false })
	known := newKey(t)
	e.patient("k@example.org", "Kim Known", known.PublicKey())
	if _, err := e.dial(gossh.PublicKeys(newKey(t))); err == nil {
		t.Fatal("an unknown key completed the handshake")
	}
	conn, err := e.dial(gossh.PublicKeys(known))
	if err != nil {
		t.Fatal(err)
	}
	e.open(conn, 100, 30).waitFor("Kim Known")
}

func TestConnectionRateLimit(t *testing.T) {
	e := newEnv(t, func(c *sshapp.Config) { c.ConnectionsPerIP = ratelimit.Rule{Limit: 2, Window: time.Hour} })
	for i := 0; i < 2; i++ {
		conn, err := e.dial(gossh.PublicKeys(newKey(t)))
		if err != nil {
			t.Fatalf("connection %d: %v", i+1, err)
		}
		conn.Close()
	}
	if _, err := e.dial(gossh.PublicKeys(newKey(t))); err == nil {
		t.Fatal("third connection within the window was accepted")
	}
}

// TestConnectionRateLimitSharedOnPostgres: two front ends built into two
// serve processes on one PostgreSQL database (each with its own store)
// share one per-address budget.
func TestConnectionRateLimitSharedOnPostgres(t *testing.T) {
	if !testenv.OnPostgres() {
		t.Skip("the limit is shared through PostgreSQL; on SQLite one process serves a database")
	}
	e := newEnv(t, func(c *sshapp.Config) { c.ConnectionsPerIP = ratelimit.Rule{Limit: 2, Window: time.Hour} })
	cfg := e.cfg
	cfg.RateLimits = db.RateLimits(testenv.OpenAgain(t, e.target))
	other, err := sshapp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go other.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		other.Shutdown(ctx)
	})
	dial := func(addr string) error {
		conn, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{
			User: "anyone", Auth: []gossh.AuthMethod{gossh.PublicKeys(newKey(t))},
			HostKeyCallback: gossh.FixedHostKey(e.hostKey), Timeout: 10 * time.Second,
		})
		if err == nil {
			conn.Close()
		}
		return err
	}
	if err := dial(e.sshAddr); err != nil {
		t.Fatalf("first connection: %v", err)
	}
	if err := dial(ln.Addr().String()); err != nil {
		t.Fatalf("second connection, to the other front end: %v", err)
	}
	for _, addr := range []string{e.sshAddr, ln.Addr().String()} {
		if dial(addr) == nil {
			t.Fatalf("a third connection within the window was accepted by %s", addr)
		}
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	e := newEnv(t)
	key := newKey(t)
	e.patient("leak@example.org", "Lee Leak", key.PublicKey())
	cycle := func() {
		conn, err := e.dial(gossh.PublicKeys(key))
		if err != nil {
			t.Fatal(err)
		}
		term := e.open(conn, 80, 24)
		term.waitFor("Lee Leak")
		term.send("\x03")
		<-term.exited
		conn.Close()
	}
	cycle() // warm up pools and caches
	waitUntil(t, func() bool { return e.ssh.ActiveSessions() == 0 })
	before := runtime.NumGoroutine()
	for i := 0; i < 50; i++ {
		cycle()
	}
	waitUntil(t, func() bool { return e.ssh.ActiveSessions() == 0 && runtime.NumGoroutine() <= before+5 })
}

func TestShutdownWithOpenSessions(t *testing.T) {
	e := newEnv(t)
	key := newKey(t)
	e.patient("bye@example.org", "Bea Bye", key.PublicKey())
	var terms []*terminal
	for i := 0; i < 3; i++ {
		conn, err := e.dial(gossh.PublicKeys(key))
		if err != nil {
			t.Fatal(err)
		}
		term := e.open(conn, 80, 24)
		term.waitFor("Bea Bye")
		terms = append(terms, term)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	start := time.Now()
	if err := e.ssh.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > 12*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	for _, term := range terms {
		select {
		case <-term.exited:
		case <-time.After(5 * time.Second):
			t.Fatal("a session survived shutdown")
		}
		if !strings.Contains(term.screen(), "shutting down") {
			t.Fatalf("session was not told: %q", term.screen())
		}
	}
	if _, err := e.dial(gossh.PublicKeys(key)); err == nil {
		t.Fatal("new connections accepted after shutdown")
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("condition not met within 15 s (goroutines: %d)", runtime.NumGoroutine())
}

func TestResizeReachesTheUI(t *testing.T) {
	e := newEnv(t)
	key := newKey(t)
	e.patient("resize@example.org", "Rex Resize", key.PublicKey())
	conn, err := e.dial(gossh.PublicKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	term := e.open(conn, 0, 0)
	term.waitFor("too small")
	if err := term.sess.WindowChange(30, 100); err != nil {
		t.Fatal(err)
	}
	term.waitFor("Rex Resize")
}

func TestIdleSessionsAreClosed(t *testing.T) {
	e := newEnv(t, func(c *sshapp.Config) { c.IdleTimeout = time.Second })
	conn, err := e.dial(gossh.PublicKeys(newKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	term := e.open(conn, 80, 24)
	term.waitFor("Sign in")
	select {
	case <-term.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("an idle session stayed open past the idle timeout")
	}
}

// The colour profile follows the client's TERM, not the server's.
func TestColourFollowsClientTerminal(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		term   string
		colour bool
	}{{"xterm-256color", true}, {"dumb", false}} {
		t.Run(tc.term, func(t *testing.T) {
			conn, err := e.dial(gossh.PublicKeys(newKey(t)))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			sess, err := conn.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			term := &terminal{t: t, conn: conn, sess: sess, exited: make(chan error, 1)}
			sess.Stdout, sess.Stderr = writerFunc(term.write), writerFunc(term.write)
			if err := sess.RequestPty(tc.term, 24, 80, gossh.TerminalModes{}); err != nil {
				t.Fatal(err)
			}
			if err := sess.Shell(); err != nil {
				t.Fatal(err)
			}
			term.waitFor("Sign in")
			term.mu.Lock()
			raw := term.out.String()
			term.mu.Unlock()
			if got := strings.Contains(raw, "\x1b[38;"); got != tc.colour {
				t.Fatalf("TERM=%s: colour sequences present = %v, want %v", tc.term, got, tc.colour)
			}
		})
	}
}

func TestMaxSessionTime(t *testing.T) {
	e := newEnv(t, func(c *sshapp.Config) { c.MaxSessionTime = 2 * time.Second })
	conn, err := e.dial(gossh.PublicKeys(newKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	term := e.open(conn, 80, 24)
	term.waitFor("Sign in")
	// Keep the session busy, so only the absolute limit can end it.
	stop := time.After(10 * time.Second)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-term.exited:
			return
		case <-tick.C:
			io.WriteString(term.stdin, "a")
		case <-stop:
			t.Fatal("a busy session outlived the maximum session time")
		}
	}
}

// holdRaw opens a TCP connection that never starts the SSH handshake; it
// returns once the server has sent its version line, so the server has
// taken the connection in.
func (e *env) holdRaw(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", e.sshAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "SSH-2.0-") {
		t.Fatalf("server version line %q, %v", line, err)
	}
	return c
}

func TestHandshakeDeadline(t *testing.T) {
	e := newEnv(t, func(c *sshapp.Config) { c.HandshakeTimeout = time.Second })
	// A connection that never authenticates is closed at the deadline, long
	// before the idle timeout (15 minutes) would close it.
	raw := e.holdRaw(t)
	raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, raw); err != nil {
		t.Fatalf("an unauthenticated connection was still open after 10 s: %v", err)
	}
	// One that authenticates keeps going past it.
	conn, err := e.dial(gossh.PublicKeys(newKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	e.open(conn, 80, 24).waitFor("Sign in")
}

func TestUnauthenticatedConnectionCap(t *testing.T) {
	e := newEnv(t, func(c *sshapp.Config) { c.MaxUnauthenticated = 2 })
	first := e.holdRaw(t)
	e.holdRaw(t)
	if conn, err := e.dial(gossh.PublicKeys(newKey(t))); err == nil {
		conn.Close()
		t.Fatal("a connection past the unauthenticated cap was accepted")
	}
	// A connection that goes away gives its place back...
	first.Close()
	var conn *gossh.Client
	waitUntil(t, func() bool {
		c, err := e.dial(gossh.PublicKeys(newKey(t)))
		conn = c
		return err == nil
	})
	defer conn.Close()
	// ...and so does one that authenticates: with one raw connection still
	// held, another client gets in beside the authenticated one.
	second, err := e.dial(gossh.PublicKeys(newKey(t)))
	if err != nil {
		t.Fatalf("an authenticated connection still counts as unauthenticated: %v", err)
	}
	second.Close()
}

func TestAnonymousSessionsLeaveRoomForRegistered(t *testing.T) {
	e := newEnv(t, func(c *sshapp.Config) { c.MaxSessions = 3; c.MaxAnonymousSessions = 1 })
	key := newKey(t)
	e.patient("reg@example.org", "Rhea Registered", key.PublicKey())
	openWith := func(signer gossh.Signer, want string) *terminal {
		t.Helper()
		conn, err := e.dial(gossh.PublicKeys(signer))
		if err != nil {
			t.Fatal(err)
		}
		term := e.open(conn, 100, 30)
		term.waitFor(want)
		return term
	}
	endsWithStatus1 := func(term *terminal) {
		t.Helper()
		select {
		case err := <-term.exited:
			var exit *gossh.ExitError
			if !errors.As(err, &exit) || exit.ExitStatus() != 1 {
				t.Fatalf("turned-away session ended with %v, want status 1", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("turned-away session did not end")
		}
	}
	openWith(newKey(t), "Sign in")
	endsWithStatus1(openWith(newKey(t), "too many sign-in sessions"))
	// The slots unregistered keys may not take are there for registered ones.
	openWith(key, "Rhea Registered")
	openWith(key, "Rhea Registered")
	endsWithStatus1(openWith(key, "too many open sessions"))
}

// TestOnlyAuditedAlgorithms checks with the real OpenSSH client that the
// server negotiates only algorithms ssh-audit passes: weaker ones the
// client insists on are refused, and the default set connects.
func TestOnlyAuditedAlgorithms(t *testing.T) {
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("OpenSSH client not installed (apt-get install openssh-client); .ci/run installs it")
	}
	e := newEnv(t)
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "id")
	if err := os.WriteFile(keyPath, privatePEM(t, newKey(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(e.sshAddr)
	run := func(opts ...string) (string, error) {
		args := append([]string{"-vv", "-p", port, "-F", "/dev/null", "-i", keyPath,
			"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
			"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"},
			opts...)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, sshBin, append(args, host, "true")...).CombinedOutput()
		return string(out), err
	}

	out, _ := run()
	out = strings.ReplaceAll(out, "\r\n", "\n")
	if !strings.Contains(out, "Authenticated to ") {
		t.Fatalf("the default client did not authenticate:\n%s", out)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`kex: algorithm: (mlkem768x25519-sha256|curve25519-sha256|curve25519-sha256@libssh\.org)\n`),
		regexp.MustCompile(`kex: host key algorithm: ssh-ed25519\n`),
		regexp.MustCompile(`kex: server->client cipher: chacha20-poly1305@openssh\.com MAC: <implicit>`),
	} {
		if !want.MatchString(out) {
			t.Errorf("the default negotiation does not match %s:\n%s", want, out)
		}
	}
	// What the server offers, as the client's -vv log quotes it.
	_, offer, _ := strings.Cut(out, "peer server KEXINIT proposal\n")
	for _, want := range []string{
		"KEX algorithms: mlkem768x25519-sha256,curve25519-sha256,curve25519-sha256@libssh.org,kex-strict-s-v00@openssh.com\n",
		"host key algorithms: ssh-ed25519\n",
		"ciphers stoc: chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr\n",
		"ciphers ctos: chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr\n",
		"MACs stoc: hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com\n",
		"MACs ctos: hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com\n",
	} {
		if !strings.Contains(offer, want) {
			t.Errorf("the server's proposal lacks %q:\n%s", want, offer)
		}
	}

	supported := func(query, alg string) bool {
		out, err := exec.Command(sshBin, "-Q", query).Output()
		return err == nil && slices.Contains(strings.Fields(string(out)), alg)
	}
	for _, tc := range []struct {
		query, alg string
		opts       []string
		refusal    string
	}{
		{"kex", "ecdh-sha2-nistp256", []string{"-o", "KexAlgorithms=ecdh-sha2-nistp256"}, "no matching key exchange method"},
		{"kex", "ecdh-sha2-nistp521", []string{"-o", "KexAlgorithms=ecdh-sha2-nistp521"}, "no matching key exchange method"},
		{"kex", "diffie-hellman-group14-sha1", []string{"-o", "KexAlgorithms=diffie-hellman-group14-sha1"}, "no matching key exchange method"},
		{"kex", "diffie-hellman-group14-sha256", []string{"-o", "KexAlgorithms=diffie-hellman-group14-sha256"}, "no matching key exchange method"},
		{"mac", "hmac-sha1", []string{"-o", "Ciphers=aes128-ctr", "-o", "MACs=hmac-sha1"}, "no matching MAC"},
		{"mac", "hmac-sha1-96", []string{"-o", "Ciphers=aes128-ctr", "-o", "MACs=hmac-sha1-96"}, "no matching MAC"},
		{"mac", "hmac-sha2-256", []string{"-o", "Ciphers=aes128-ctr", "-o", "MACs=hmac-sha2-256"}, "no matching MAC"},
		{"mac", "hmac-sha2-512", []string{"-o", "Ciphers=aes256-ctr", "-o", "MACs=hmac-sha2-512"}, "no matching MAC"},
		{"cipher", "aes128-cbc", []string{"-o", "Ciphers=aes128-cbc"}, "no matching cipher"},
		{"key", "ecdsa-sha2-nistp256", []string{"-o", "HostKeyAlgorithms=ecdsa-sha2-nistp256"}, "no matching host key type"},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			if !supported(tc.query, tc.alg) {
				t.Skipf("this OpenSSH client does not offer %s", tc.alg)
			}
			out, err := run(tc.opts...)
			if err == nil || !strings.Contains(out, tc.refusal) {
				t.Fatalf("a client insisting on %s was not refused with %q (%v):\n%s", tc.alg, tc.refusal, err, out)
			}
		})
	}
	// The EtM MACs the server keeps work with the CTR ciphers.
	for _, mac := range []string{"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com"} {
		if out, _ := run("-o", "Ciphers=aes256-ctr", "-o", "MACs="+mac); !strings.Contains(out, "Authenticated to ") {
			t.Errorf("aes256-ctr with %s did not connect:\n%s", mac, out)
		}
	}
}

// TestShutdownClosesConnectionsInHandshake: a connection that never
// finishes its handshake is closed by Shutdown (after the grace period),
// not left to its handshake deadline (an hour here).
// charmbracelet/ssh's own Shutdown neither waited for nor closed these.
func TestShutdownClosesConnectionsInHandshake(t *testing.T) {
	e := newEnv(t, func(c *sshapp.Config) {
		c.HandshakeTimeout = time.Hour
		c.ShutdownGrace = 200 * time.Millisecond
	})
	raw := e.holdRaw(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.ssh.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, raw); err != nil {
		t.Fatalf("a connection in its handshake was still open after Shutdown returned: %v", err)
	}
	// And no new connection is served once it has begun.
	if conn, err := e.dial(gossh.PublicKeys(newKey(t))); err == nil {
		conn.Close()
		t.Fatal("a connection was served after Shutdown")
	}
}
