package client_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/mail"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/password"
	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/server"
	"github.com/anavara/anavara/tui/client"
)

// testPassword passes the password policy for every test account.
const testPassword = "Vq7!plum-Orbit-42"

// fastHash keeps argon2id cheap in tests; Verify honours stored parameters.
func fastHash() password.Params {
	return password.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
}

// env is a real API server on a real listener and a real SQLite file.
type env struct {
	t     *testing.T
	srv   *server.Server
	store db.Store
	mail  *mail.Capture
	clock *testenv.Clock
	url   string
	// transport carries every test client's connections, so they can be
	// closed before the server shuts down: a connection the transport dialled
	// but never used would otherwise hold Shutdown until its read timeout.
	transport *http.Transport
}

// generousLimits lets tests make as many calls as they like.
func generousLimits() auth.Limits {
	lots := ratelimit.Rule{Limit: 1_000_000, Window: time.Minute}
	return auth.Limits{
		LoginPerIPAndEmail: lots, SignupPerIP: lots, ForgotPerEmail: lots,
		ForgotPerIP: lots, ResetPerEmail: lots, RefreshPerIP: lots,
	}
}

// newEnv starts a server; opts adjust its config before it is built.
func newEnv(t *testing.T, opts ...func(*server.Config)) *env {
	t.Helper()
	store, _ := testenv.OpenStore(t, sqlite.Options{Path: filepath.Join(t.TempDir(), "anavara.db")})
	clock := testenv.NewClock(time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC))
	capture := mail.NewCapture()
	cfg := server.Config{
		JWTSecret:      bytes.Repeat([]byte("s"), 32),
		Now:            clock.Now,
		Limits:         generousLimits(),
		PasswordParams: fastHash(),
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.New(cfg, store, capture)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(func() {
		transport.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		store.Close()
	})
	return &env{t: t, srv: srv, store: store, mail: capture, clock: clock, url: "http://" + ln.Addr().String(), transport: transport}
}

// tokenLog records every OnTokens call.
type tokenLog struct {
	mu    sync.Mutex
	pairs []model.TokenPair
}

func (l *tokenLog) record(p model.TokenPair) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pairs = append(l.pairs, p)
}

// all returns the pairs reported so far.
func (l *tokenLog) all() []model.TokenPair {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]model.TokenPair(nil), l.pairs...)
}

// last returns the latest pair reported, failing when there is none.
func (l *tokenLog) last(t *testing.T) model.TokenPair {
	t.Helper()
	all := l.all()
	if len(all) == 0 {
		t.Fatal("OnTokens was never called")
	}
	return all[len(all)-1]
}

// newClient returns a client of the server reporting tokens to a fresh log.
func (e *env) newClient() (*client.Client, *tokenLog) {
	e.t.Helper()
	log := &tokenLog{}
	c, err := client.New(client.Options{
		BaseURL: e.url, HTTPClient: &http.Client{Transport: e.transport}, Timeout: 10 * time.Second, OnTokens: log.record,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c, log
}

// patient signs a new patient account up through the client.
func (e *env) patient(email string) (*client.Client, model.User) {
	e.t.Helper()
	c, _ := e.newClient()
	res, err := c.Signup(context.Background(), client.SignupRequest{FirstName: "Pat", LastName: "Ient", Email: email, Password: testPassword})
	if err != nil {
		e.t.Fatalf("signup %s: %v", email, err)
	}
	return c, res.User
}

// staff creates a staff account directly in the database, the way
// `anavara createsuperuser` does, and logs it in through the client.
func (e *env) staff(email string) (*client.Client, model.User) {
	e.t.Helper()
	testenv.CreateStaff(e.t, e.store, email, testPassword, fastHash(), e.clock.Now())
	c, _ := e.newClient()
	res, err := c.Login(context.Background(), email, testPassword)
	if err != nil {
		e.t.Fatalf("login %s: %v", email, err)
	}
	return c, res.User
}

// dbUser reads a user straight from the database.
func (e *env) dbUser(id string) db.UserRow {
	e.t.Helper()
	u, err := e.store.Read().UserByID(context.Background(), id)
	if err != nil {
		e.t.Fatalf("user %s: %v", id, err)
	}
	return u
}

// auditActions returns the actions audited for entityID, oldest first.
func (e *env) auditActions(entityID string) []string {
	e.t.Helper()
	events, _, err := e.store.Read().ListAudit(context.Background(), db.AuditFilter{EntityID: entityID, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var actions []string
	for i := len(events) - 1; i >= 0; i-- {
		actions = append(actions, events[i].Action)
	}
	return actions
}

// countAudit counts the audit events with action.
func (e *env) countAudit(action string) int {
	e.t.Helper()
	_, n, err := e.store.Read().ListAudit(context.Background(), db.AuditFilter{Action: action, Limit: 1})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// sixDigits finds the reset code in an email body.
var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// resetCode reads the next reset code mailed to email (the server mails in
// the background, so this waits for it).
func (e *env) resetCode(email string) string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg, err := e.mail.WaitFor(ctx, email)
	if err != nil {
		e.t.Fatalf("no reset email to %s: %v", email, err)
	}
	code := sixDigits.FindString(msg.Body)
	if code == "" {
		e.t.Fatalf("no code in email %q", msg.Body)
	}
	return code
}

// apiError asserts err wraps an *APIError with status and returns it.
func apiError(t *testing.T, err error, status int) *client.APIError {
	t.Helper()
	var ae *client.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *APIError", err, err)
	}
	if ae.Status != status {
		t.Fatalf("status %d, want %d (%v)", ae.Status, status, err)
	}
	if !client.IsStatus(err, status) {
		t.Fatalf("IsStatus(%v, %d) = false", err, status)
	}
	return ae
}

// date parses a YYYY-MM-DD date.
func date(t *testing.T, s string) model.Date {
	t.Helper()
	d, err := model.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func ptr[T any](v T) *T { return &v }

// modelPair returns a token pair.
func modelPair(access, refresh string) model.TokenPair {
	return model.TokenPair{AccessToken: access, RefreshToken: refresh}
}
