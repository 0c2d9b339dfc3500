package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/engines"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/mail"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/password"
	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/server"
)

// harness is a real server on a real SQLite file in a temp dir.
type harness struct {
	t     *testing.T
	srv   *server.Server
	store db.Store
	// path is the database file on a SQLite run; target names the
	// database on either engine.
	path   string
	target engines.Target
	mail   *mail.Capture
	clock  *testenv.Clock
	// passwordParams are the server's argon2id costs, which staff
	// accounts made behind its back are hashed with too.
	passwordParams password.Params
}

// harnessSetup is what a harness is built from: the server's config and
// the store's options (its Path is set by the harness).
type harnessSetup struct {
	cfg   server.Config
	store sqlite.Options
	// noResetWorker builds the server without starting its reset-code
	// worker (server.NewWithoutResetWorker).
	noResetWorker bool
}

// harnessOption adjusts the setup before the harness is built.
type harnessOption func(*harnessSetup)

// withLimits replaces the rate limits.
func withLimits(l auth.Limits) harnessOption { return func(h *harnessSetup) { h.cfg.Limits = l } }

// withConfig adjusts the server's config.
func withConfig(f func(*server.Config)) harnessOption {
	return func(h *harnessSetup) { f(&h.cfg) }
}

// withoutResetWorker builds the server with its reset-code worker not
// started: forgot-password requests wait in the outbox until
// h.srv.StartResetWorker, or another server, serves them.
func withoutResetWorker() harnessOption { return func(h *harnessSetup) { h.noResetWorker = true } }

// withBusyTimeout sets how long the store's writes wait for a lock another
// connection holds.
func withBusyTimeout(d time.Duration) harnessOption {
	return func(h *harnessSetup) { h.store.BusyTimeout = d }
}

// newHarnessSetup is the default setup with opts applied.
func newHarnessSetup(clock *testenv.Clock, opts []harnessOption) harnessSetup {
	h := harnessSetup{cfg: server.Config{
		JWTSecret:      bytes.Repeat([]byte("k"), 32),
		Now:            clock.Now,
		Limits:         testLimits(),
		PasswordParams: testPasswordParams,
	}}
	for _, o := range opts {
		o(&h)
	}
	return h
}

// testPasswordParams are argon2id costs a thousand times below
// production's, which under the race detector take about 0.3 s a hash:
// most tests sign up and log in many times and test what is answered,
// not what a hash costs. The tests of that cost, and of what happens when
// hashing is the bottleneck, take withProductionPasswordCost.
var testPasswordParams = password.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// withProductionPasswordCost gives the server production's argon2id
// costs (password.DefaultParams).
func withProductionPasswordCost() harnessOption {
	return func(h *harnessSetup) { h.cfg.PasswordParams = password.DefaultParams }
}

// testLimits are the production limits, except signups, which tests make
// many of from one address.
func testLimits() auth.Limits {
	l := auth.DefaultLimits
	l.SignupPerIP = ratelimit.Rule{Limit: 100000, Window: time.Hour}
	l.RefreshPerIP = ratelimit.Rule{Limit: 100000, Window: time.Minute}
	return l
}

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "anavara.db")
	clock := testenv.NewClock(time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC))
	setup := newHarnessSetup(clock, opts)
	setup.store.Path = path
	store, target := testenv.OpenStore(t, setup.store)
	capture := mail.NewCapture()
	build := server.New
	if setup.noResetWorker {
		build = server.NewWithoutResetWorker
	}
	srv, err := build(setup.cfg, store, capture)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return &harness{t: t, srv: srv, store: store, path: path, target: target, mail: capture, clock: clock,
		passwordParams: setup.cfg.PasswordParams}
}

// response is a finished HTTP exchange.
type response struct {
	t      *testing.T
	Status int
	Header http.Header
	Body   []byte
}

// decode unmarshals the body into v, failing the test on error.
func (r *response) decode(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		r.t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// errorBody decodes the standard error body.
func (r *response) errorBody() model.ErrorBody {
	r.t.Helper()
	var e model.ErrorBody
	r.decode(&e)
	return e
}

// expect fails the test unless the status is want.
func (r *response) expect(want int) *response {
	r.t.Helper()
	if r.Status != want {
		r.t.Fatalf("status %d, want %d; body %s", r.Status, want, r.Body)
	}
	return r
}

// expectError checks status, message and, when fields are given, that
// errors names exactly those fields.
func (r *response) expectError(status int, message string, fields ...string) model.ErrorBody {
	r.t.Helper()
	r.expect(status)
	e := r.errorBody()
	if message != "" && e.Message != message {
		r.t.Fatalf("message %q, want %q (body %s)", e.Message, message, r.Body)
	}
	if len(fields) > 0 {
		for _, f := range fields {
			if len(e.Errors[f]) == 0 {
				r.t.Fatalf("errors lacks field %q: %s", f, r.Body)
			}
		}
		if len(e.Errors) != len(fields) {
			r.t.Fatalf("errors names %d fields, want %v: %s", len(e.Errors), fields, r.Body)
		}
	}
	return e
}

// request describes one call.
type request struct {
	method  string
	path    string
	body    any // marshalled as JSON unless it is a string, sent raw
	token   string
	headers map[string]string
}

// send performs req through the real Fiber app, checks the headers every
// response must carry and validates the exchange against the OpenAPI
// document.
func (h *harness) send(req request) *response {
	h.t.Helper()
	var body io.Reader
	ctype := ""
	switch b := req.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case url.Values:
		body = strings.NewReader(b.Encode())
		ctype = "application/x-www-form-urlencoded"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		body = bytes.NewReader(data)
		ctype = "application/json"
	}
	r := httptest.NewRequest(req.method, req.path, body)
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	if req.token != "" {
		r.Header.Set("Authorization", "Bearer "+req.token)
	}
	for k, v := range req.headers {
		r.Header.Set(k, v)
	}
	reqBody := []byte(nil)
	if body != nil {
		reqBody, _ = io.ReadAll(body)
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
		r.ContentLength = int64(len(reqBody))
	}
	res, err := h.srv.App().Test(r, -1)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.method, req.path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	out := &response{t: h.t, Status: res.StatusCode, Header: res.Header, Body: data}
	if res.Header.Get("X-Request-ID") == "" {
		h.t.Fatalf("%s %s: response has no X-Request-ID", req.method, req.path)
	}
	if res.StatusCode >= 400 {
		var e model.ErrorBody
		if err := json.Unmarshal(data, &e); err != nil || e.Message == "" {
			h.t.Fatalf("%s %s: error response %d is not {message, errors}: %s", req.method, req.path, res.StatusCode, data)
		}
	}
	validateExchange(h.t, req.method, req.path, r.Header, reqBody, out)
	return out
}

func (h *harness) get(path, token string) *response {
	h.t.Helper()
	return h.send(request{method: http.MethodGet, path: path, token: token})
}

func (h *harness) post(path string, body any, token string) *response {
	h.t.Helper()
	return h.send(request{method: http.MethodPost, path: path, body: body, token: token})
}

func (h *harness) patch(path string, body any, token string) *response {
	h.t.Helper()
	return h.send(request{method: http.MethodPatch, path: path, body: body, token: token})
}

func (h *harness) put(path string, body any, token string) *response {
	h.t.Helper()
	return h.send(request{method: http.MethodPut, path: path, body: body, token: token})
}

func (h *harness) delete(path, token string) *response {
	h.t.Helper()
	return h.send(request{method: http.MethodDelete, path: path, token: token})
}

// account is a signed-in user.
type account struct {
	model.User
	Password string
	Access   string
	Refresh  string
}

// testPassword is a password that passes the policy for any test account.
const testPassword = "Vq7!plum-Orbit-42"

// signup registers a patient account through the API.
func (h *harness) signup(email string) account {
	h.t.Helper()
	res := h.post("/api/auth/signup", map[string]any{
		"first_name": "Pat", "last_name": "Ient", "email": email, "password": testPassword,
	}, "").expect(http.StatusCreated)
	var body model.AuthResponse
	res.decode(&body)
	return account{User: body.User, Password: testPassword, Access: body.AccessToken, Refresh: body.RefreshToken}
}

// staff creates a staff account directly in the database, the way
// `anavara createsuperuser` does, and logs it in through the API.
func (h *harness) staff(email string) account {
	h.t.Helper()
	testenv.CreateStaff(h.t, h.store, email, testPassword, h.passwordParams, h.clock.Now())
	return h.login(email, testPassword)
}

// login signs in through the API.
func (h *harness) login(email, pw string) account {
	h.t.Helper()
	res := h.post("/api/auth/login", map[string]any{"email": email, "password": pw}, "").expect(http.StatusOK)
	var body model.AuthResponse
	res.decode(&body)
	return account{User: body.User, Password: pw, Access: body.AccessToken, Refresh: body.RefreshToken}
}

// auditActions returns the actions audited for entityID, oldest first.
func (h *harness) auditActions(entityID string) []string {
	h.t.Helper()
	events, _, err := h.store.Read().ListAudit(context.Background(), db.AuditFilter{EntityID: entityID, Limit: 1000})
	if err != nil {
		h.t.Fatal(err)
	}
	var actions []string
	for i := len(events) - 1; i >= 0; i-- {
		actions = append(actions, events[i].Action)
	}
	return actions
}

// sixDigits finds the reset code in an email body.
var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// resetCode requests a reset code for email and reads it from the mailbox.
func (h *harness) resetCode(email string) string {
	h.t.Helper()
	h.post("/api/auth/forgot-password", map[string]any{"email": email}, "").expect(http.StatusOK)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msg, err := h.mail.WaitFor(ctx, email)
	if err != nil {
		h.t.Fatal(err)
	}
	code := sixDigits.FindString(msg.Body)
	if code == "" {
		h.t.Fatalf("no code in email %q", msg.Body)
	}
	return code
}

// listPage GETs a paginated list at path, expects 200 and decodes the page.
func listPage[T any](h *harness, path, token string) model.Page[T] {
	h.t.Helper()
	var p model.Page[T]
	h.get(path, token).expect(http.StatusOK).decode(&p)
	return p
}

// holdWriteLock takes the database's write lock from another connection
// (testenv.HoldWriteLock) and returns the function that releases it.
func (h *harness) holdWriteLock() (release func()) {
	h.t.Helper()
	testenv.SQLiteOnly(h.t, "holds SQLite's database-wide write lock")
	return testenv.HoldWriteLock(h.t, h.path)
}
