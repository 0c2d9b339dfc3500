package sshapp_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	gossh "golang.org/x/crypto/ssh"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/engines"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/mail"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/server"
	"github.com/anavara/anavara/sshapp"
	"github.com/anavara/anavara/tui/client"
)

const serviceToken = "sshapp-test-service-token-0123456789"

// env is a real API server and a real SSH front end on loopback.
type env struct {
	t       *testing.T
	api     string
	store   db.Store
	target  engines.Target
	cfg     sshapp.Config
	ssh     *sshapp.Server
	sshAddr string
	hostKey gossh.PublicKey
}

type envOption func(*sshapp.Config)

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	return newEnvWithAPI(t, nil, opts...)
}

// newEnvWithAPI is newEnv with the API's config adjusted by apiOpt (when
// not nil).
func newEnvWithAPI(t *testing.T, apiOpt func(*server.Config), opts ...envOption) *env {
	t.Helper()
	dir := t.TempDir()
	store, target := testenv.OpenStore(t, sqlite.Options{Path: filepath.Join(dir, "anavara.db"), Synchronous: "NORMAL"})
	limits := auth.DefaultLimits
	limits.SignupPerIP = ratelimit.Rule{Limit: 10000, Window: time.Hour}
	apiCfg := server.Config{JWTSecret: bytes.Repeat([]byte("s"), 32), ServiceToken: serviceToken, Limits: limits}
	if apiOpt != nil {
		apiOpt(&apiCfg)
	}
	api, err := server.New(apiCfg, store, mail.NewCapture())
	if err != nil {
		t.Fatal(err)
	}
	apiLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go api.Serve(apiLn)

	hostKey, err := sshapp.LoadOrCreateHostKey(filepath.Join(dir, "ssh_host_ed25519_key"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := sshapp.Config{
		HostKeyPEM:       hostKey,
		APIURL:           "http://" + apiLn.Addr().String(),
		ServiceToken:     serviceToken,
		AllowUnknownKeys: true,
		ConnectionsPerIP: ratelimit.Rule{Limit: 10000, Window: time.Minute},
		// As serve's built-in front end has it: in the database on
		// PostgreSQL, in memory on SQLite.
		RateLimits:    db.RateLimits(store),
		ShutdownGrace: 2 * time.Second,
		HTTPClient:    &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}},
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := sshapp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sshLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(sshLn)
	signer, err := gossh.ParsePrivateKey(hostKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		cfg.HTTPClient.CloseIdleConnections()
		api.Shutdown(ctx)
		store.Close()
	})
	return &env{t: t, api: cfg.APIURL, store: store, target: target, cfg: cfg, ssh: srv, sshAddr: sshLn.Addr().String(), hostKey: signer.PublicKey()}
}

// testKey is a client key pair: a signer, plus the private key for tests
// that hand it to the OpenSSH client as a file.
type testKey struct {
	gossh.Signer
	priv ed25519.PrivateKey
}

// newKey makes a client key pair.
func newKey(t *testing.T) testKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{Signer: s, priv: priv}
}

func authorizedLine(k gossh.PublicKey) string {
	return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(k)))
}

// patient creates an account with one record and, when key is not nil,
// links key to it. It returns the API client signed in as that account.
func (e *env) patient(email, patientName string, key gossh.PublicKey) *client.Client {
	e.t.Helper()
	ctx := context.Background()
	c, err := client.New(client.Options{BaseURL: e.api})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := c.Signup(ctx, client.SignupRequest{FirstName: "Pat", LastName: "Ient", Email: email, Password: "Vq7!plum-Orbit-42"}); err != nil {
		e.t.Fatal(err)
	}
	_, err = c.CreateRecord(ctx, client.RecordInput{PatientName: patientName, DateOfBirth: model.NewDate(1990, 1, 2),
		DateOfTreatment: model.DateOf(time.Now()).AddDays(30), Doctor: "Dr. Osei", Diagnosis: "Checkup"})
	if err != nil {
		e.t.Fatal(err)
	}
	if key != nil {
		if _, err := c.AddSSHKey(ctx, "test", authorizedLine(key)); err != nil {
			e.t.Fatal(err)
		}
	}
	return c
}

// dial opens an SSH connection with the given auth methods, checking the
// server's host key.
func (e *env) dial(auth ...gossh.AuthMethod) (*gossh.Client, error) {
	return gossh.Dial("tcp", e.sshAddr, &gossh.ClientConfig{
		User:            "anyone",
		Auth:            auth,
		HostKeyCallback: gossh.FixedHostKey(e.hostKey),
		Timeout:         10 * time.Second,
	})
}

// dialFrom is dial from the loopback address src, so that sessions can
// come from distinct client addresses.
func (e *env) dialFrom(src string, auth ...gossh.AuthMethod) (*gossh.Client, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 10 * time.Second}
	conn, err := d.Dial("tcp", e.sshAddr)
	if err != nil {
		return nil, err
	}
	c, chans, reqs, err := gossh.NewClientConn(conn, e.sshAddr, &gossh.ClientConfig{
		User:            "anyone",
		Auth:            auth,
		HostKeyCallback: gossh.FixedHostKey(e.hostKey),
		Timeout:         10 * time.Second,
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	return gossh.NewClient(c, chans, reqs), nil
}

// terminal is an interactive session with a PTY.
type terminal struct {
	t      *testing.T
	conn   *gossh.Client
	sess   *gossh.Session
	stdin  io.WriteCloser
	mu     sync.Mutex
	out    bytes.Buffer
	exited chan error
}

// open starts a shell with a PTY of w×h on an authenticated connection.
func (e *env) open(conn *gossh.Client, w, h int) *terminal {
	e.t.Helper()
	sess, err := conn.NewSession()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		e.t.Fatal(err)
	}
	term := &terminal{t: e.t, conn: conn, sess: sess, exited: make(chan error, 1)}
	sess.Stdout = writerFunc(term.write)
	sess.Stderr = writerFunc(term.write)
	if term.stdin, err = sess.StdinPipe(); err != nil {
		e.t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		e.t.Fatal(err)
	}
	go func() { term.exited <- sess.Wait() }()
	e.t.Cleanup(func() { sess.Close(); conn.Close() })
	return term
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (t *terminal) write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.out.Write(p)
}

var ansi = regexp.MustCompile(`\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>NOMEDHc78])`)

// screen is everything the session printed so far, escape sequences removed.
func (t *terminal) screen() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return ansi.ReplaceAllString(t.out.String(), "")
}

// waitFor polls the output until it contains want.
func (t *terminal) waitFor(want string) {
	t.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(t.screen(), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.t.Fatalf("screen never showed %q; it shows:\n%s", want, t.screen())
}

// send types keys into the session.
func (t *terminal) send(keys string) {
	t.t.Helper()
	if _, err := io.WriteString(t.stdin, keys); err != nil {
		t.t.Fatal(err)
	}
}

// privatePEM encodes a test key in OpenSSH's private-key format.
func privatePEM(t *testing.T, k testKey) []byte {
	t.Helper()
	block, err := gossh.MarshalPrivateKey(k.priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block)
}

// runInPTY starts cmd on a pseudo-terminal of w×h, as a person's terminal
// would, and returns its output as a terminal.
func runInPTY(t *testing.T, cmd *exec.Cmd, w, h int) *terminal {
	t.Helper()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(w), Rows: uint16(h)})
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, stdin: f, exited: make(chan error, 1)}
	go func() {
		io.Copy(writerFunc(term.write), f)
	}()
	go func() { term.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-term.exited
		f.Close()
	})
	return term
}
