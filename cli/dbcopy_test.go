package cli_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/ssh"

	"github.com/anavara/anavara/auth"
	"github.com/anavara/anavara/cli"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/engines"
	"github.com/anavara/anavara/db/postgres/pgtest"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/mail"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/password"
	"github.com/anavara/anavara/ratelimit"
	"github.com/anavara/anavara/server"
)

// copyParams are cheap password costs, for tests that sign many in.
var copyParams = password.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// apiServer is a real API server on a loopback listener over store, with
// the clock and the JWT secret every apiServer of a test shares, so that
// tokens issued by the source's server are good on the target's.
type apiServer struct {
	base  string
	store db.Store
	mail  *mail.Capture
}

// serveStore serves store until the test ends, then closes it.
func serveStore(t *testing.T, store db.Store, clock *testenv.Clock) *apiServer {
	t.Helper()
	limits := auth.DefaultLimits
	limits.SignupPerIP = ratelimit.Rule{Limit: 1_000_000, Window: time.Hour}
	mailbox := mail.NewCapture()
	srv, err := server.New(server.Config{
		JWTSecret:      bytes.Repeat([]byte("s"), 32),
		Limits:         limits,
		PasswordParams: copyParams,
		Now:            clock.Now,
		Logger:         nil,
	}, store, mailbox)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-served
		if err := store.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &apiServer{base: "http://" + ln.Addr().String(), store: store, mail: mailbox}
}

// openTarget opens the database setting names, migrated, as serve would.
func openTarget(t *testing.T, setting string) db.Store {
	t.Helper()
	target, err := engines.Parse(setting, "")
	if err != nil {
		t.Fatal(err)
	}
	store, err := engines.Open(context.Background(), target, engines.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return store
}

// do sends a JSON request and returns the status and the raw body.
func (s *apiServer) do(t *testing.T, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, raw
}

// must sends a request that must answer want, decoding the body into out.
func (s *apiServer) must(t *testing.T, want int, method, path, token string, body, out any) {
	t.Helper()
	status, raw := s.do(t, method, path, token, body)
	if status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, status, raw, want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// copyFixture is what populate made and the checks after the copy use.
type copyFixture struct {
	staffToken string
	// rotated was rotated into current before the copy: presenting it again
	// is reuse, which revokes current too.
	rotated, current string
	// live is a refresh token never used.
	live string
	// resetPassword is the password patient two set by reset.
	resetPassword string
}

const copyPassword = "Vq7!plum-Orbit-42"

var sixDigitCode = regexp.MustCompile(`\b[0-9]{6}\b`)

// populate makes every kind of row through the API of src: staff, sign-ups,
// a staff-created account and an update, records created, updated, read and
// deleted, a password reset (used and unused codes), rotated, reused and
// revoked refresh-token families, a logout, an SSH key, failed logins.
func populate(t *testing.T, src *apiServer, clock *testenv.Clock) copyFixture {
	t.Helper()
	var f copyFixture
	testenv.CreateStaff(t, src.store, "admin@example.org", copyPassword, copyParams, clock.Now())
	var staff model.AuthResponse
	src.must(t, http.StatusOK, http.MethodPost, "/api/auth/login", "", map[string]any{"email": "admin@example.org", "password": copyPassword}, &staff)
	f.staffToken = staff.AccessToken

	var one, two model.AuthResponse
	src.must(t, http.StatusCreated, http.MethodPost, "/api/auth/signup", "",
		map[string]any{"first_name": "Élodie", "last_name": "Ünal", "email": "elodie@example.org", "password": copyPassword}, &one)
	src.must(t, http.StatusCreated, http.MethodPost, "/api/auth/signup", "",
		map[string]any{"first_name": "Kwame", "last_name": "Osei", "email": "kwame@example.org", "password": copyPassword}, &two)
	var made model.User
	src.must(t, http.StatusCreated, http.MethodPost, "/api/users", f.staffToken,
		map[string]any{"first_name": "Nia", "last_name": "Nurse", "email": "nia@example.org", "password": copyPassword, "is_staff": true}, &made)
	src.must(t, http.StatusOK, http.MethodPatch, "/api/users/"+made.ID, f.staffToken, map[string]any{"last_name": "Okafor"}, nil)

	var ids []string
	for i := range 12 {
		var r model.MedicalRecord
		token, body := one.AccessToken, map[string]any{"patient_name": fmt.Sprintf("Élodie Ünal %d", i), "date_of_birth": "1990-02-28",
			"date_of_treatment": "2026-04-15", "doctor": "Dr. Öz", "diagnosis": "Grippe\nsecond line", "treatment": "Rest"}
		if i%3 == 0 { // some by staff, for the second patient
			token, body["user_id"], body["patient_name"] = f.staffToken, two.User.ID, "Kwame Osei"
		}
		src.must(t, http.StatusCreated, http.MethodPost, "/api/medical-records", token, body, &r)
		ids = append(ids, r.ID)
	}
	src.must(t, http.StatusOK, http.MethodPatch, "/api/medical-records/"+ids[1], one.AccessToken, map[string]any{"treatment": "Tea and rest"}, nil)
	src.must(t, http.StatusOK, http.MethodGet, "/api/medical-records/"+ids[2], f.staffToken, nil, nil)
	src.must(t, http.StatusNoContent, http.MethodDelete, "/api/medical-records/"+ids[4], one.AccessToken, nil, nil)

	// A password reset: one code used, then one requested and left unused.
	src.must(t, http.StatusOK, http.MethodPost, "/api/auth/forgot-password", "", map[string]any{"email": "kwame@example.org"}, nil)
	waitCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msg, err := src.mail.WaitFor(waitCtx, "kwame@example.org")
	code := sixDigitCode.FindString(msg.Body)
	if err != nil || code == "" {
		t.Fatalf("no reset code mailed: %q", msg.Body)
	}
	f.resetPassword = "Lantern-Quartz-Ferry-71"
	src.must(t, http.StatusOK, http.MethodPost, "/api/auth/reset-password", "",
		map[string]any{"email": "kwame@example.org", "otp_code": code, "password": f.resetPassword}, nil)
	clock.Advance(2 * time.Minute)
	src.must(t, http.StatusOK, http.MethodPost, "/api/auth/forgot-password", "", map[string]any{"email": "elodie@example.org"}, nil)
	// Served before the copy, so that neither database's worker changes
	// its rows afterwards: mailed, and gone from the outbox.
	if _, err := src.mail.WaitFor(waitCtx, "elodie@example.org"); err != nil {
		t.Fatal(err)
	}
	for {
		due, err := src.store.Read().ResetRequestsDue(waitCtx, clock.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if !due {
			break
		}
		time.Sleep(time.Millisecond)
	}

	// Refresh families: one rotated (its first token is reuse from now on),
	// one rotated and then reused, so revoked whole, one logged out, and a
	// token never used.
	var pair model.TokenPair
	src.must(t, http.StatusOK, http.MethodPost, "/api/auth/token/refresh", "", map[string]any{"refresh_token": one.RefreshToken}, &pair)
	f.rotated, f.current = one.RefreshToken, pair.RefreshToken
	var other, again model.AuthResponse
	src.must(t, http.StatusOK, http.MethodPost, "/api/auth/login", "", map[string]any{"email": "kwame@example.org", "password": f.resetPassword}, &other)
	src.must(t, http.StatusOK, http.MethodPost, "/api/auth/token/refresh", "", map[string]any{"refresh_token": other.RefreshToken}, &pair)
	clock.Advance(11 * time.Second)
	src.must(t, http.StatusUnauthorized, http.MethodPost, "/api/auth/token/refresh", "", map[string]any{"refresh_token": other.RefreshToken}, nil)
	src.must(t, http.StatusOK, http.MethodPost, "/api/auth/login", "", map[string]any{"email": "kwame@example.org", "password": f.resetPassword}, &again)
	src.must(t, http.StatusNoContent, http.MethodPost, "/api/auth/logout", again.AccessToken, map[string]any{"refresh_token": again.RefreshToken}, nil)
	var live model.AuthResponse
	src.must(t, http.StatusOK, http.MethodPost, "/api/auth/login", "", map[string]any{"email": "nia@example.org", "password": copyPassword}, &live)
	f.live = live.RefreshToken

	// An SSH key, and failed logins in the audit trail.
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	src.must(t, http.StatusCreated, http.MethodPost, "/api/users/me/ssh-keys", one.AccessToken,
		map[string]any{"name": "laptop", "public_key": string(ssh.MarshalAuthorizedKey(sshPub))}, nil)
	// API tokens: one used (its events name it), one revoked.
	var job, spent model.NewAPIToken
	src.must(t, http.StatusCreated, http.MethodPost, "/api/users/me/tokens", one.AccessToken,
		map[string]any{"name": "nightly", "scopes": []string{"records:read"}, "expires_in_days": 90}, &job)
	src.must(t, http.StatusOK, http.MethodGet, "/api/medical-records", job.Token, nil, nil)
	src.must(t, http.StatusCreated, http.MethodPost, "/api/users/me/tokens", one.AccessToken,
		map[string]any{"name": "spent", "scopes": []string{"users:read"}}, &spent)
	src.must(t, http.StatusNoContent, http.MethodDelete, "/api/users/me/tokens/"+spent.ID, one.AccessToken, nil, nil)
	for range 2 {
		src.must(t, http.StatusUnauthorized, http.MethodPost, "/api/auth/login", "", map[string]any{"email": "elodie@example.org", "password": "wrong-password-1"}, nil)
	}
	src.must(t, http.StatusUnauthorized, http.MethodPost, "/api/auth/login", "", map[string]any{"email": "nobody@example.org", "password": "wrong-password-1"}, nil)
	return f
}

// rows is every row of a store as its Export delivers them, each table
// sorted by id, so that two engines' exports compare.
type rows struct {
	tally   db.Tally
	users   []db.UserRow
	records []model.MedicalRecord
	tokens  []db.RefreshToken
	otps    []db.OTPCode
	keys    []db.SSHKeyRow
	apiKeys []db.APITokenRow
	events  []model.AuditEvent
	resets  []db.ResetRequest
}

// rowCollector is an ExportSink that keeps every row (a test's small
// database only).
type rowCollector struct{ r rows }

func (c *rowCollector) Start(_ context.Context, t db.Tally) error { c.r.tally = t; return nil }
func (c *rowCollector) Users(_ context.Context, r []db.UserRow) error {
	c.r.users = append(c.r.users, r...)
	return nil
}
func (c *rowCollector) MedicalRecords(_ context.Context, r []model.MedicalRecord) error {
	c.r.records = append(c.r.records, r...)
	return nil
}
func (c *rowCollector) RefreshTokens(_ context.Context, r []db.RefreshToken) error {
	c.r.tokens = append(c.r.tokens, r...)
	return nil
}
func (c *rowCollector) OTPCodes(_ context.Context, r []db.OTPCode) error {
	c.r.otps = append(c.r.otps, r...)
	return nil
}
func (c *rowCollector) SSHKeys(_ context.Context, r []db.SSHKeyRow) error {
	c.r.keys = append(c.r.keys, r...)
	return nil
}
func (c *rowCollector) APITokens(_ context.Context, r []db.APITokenRow) error {
	c.r.apiKeys = append(c.r.apiKeys, r...)
	return nil
}
func (c *rowCollector) AuditEvents(_ context.Context, r []model.AuditEvent) error {
	c.r.events = append(c.r.events, r...)
	return nil
}
func (c *rowCollector) ResetRequests(_ context.Context, r []db.ResetRequest) error {
	c.r.resets = append(c.r.resets, r...)
	return nil
}

// allRows reads every row of store.
func allRows(t *testing.T, store db.Store) rows {
	t.Helper()
	var c rowCollector
	if err := store.(db.Exporter).Export(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	r := c.r
	slices.SortFunc(r.users, func(a, b db.UserRow) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(r.records, func(a, b model.MedicalRecord) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(r.tokens, func(a, b db.RefreshToken) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(r.otps, func(a, b db.OTPCode) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(r.keys, func(a, b db.SSHKeyRow) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(r.apiKeys, func(a, b db.APITokenRow) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(r.events, func(a, b model.AuditEvent) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(r.resets, func(a, b db.ResetRequest) int { return cmp.Compare(a.ID, b.ID) })
	return r
}

// compareRows fails the test at the first table whose rows differ.
func compareRows(t *testing.T, want, got rows) {
	t.Helper()
	check := func(table string, a, b any) {
		t.Helper()
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s differ:\nsource %+v\ntarget %+v", table, a, b)
		}
	}
	check("tallies", want.tally, got.tally)
	check("users", want.users, got.users)
	check("medical_records", want.records, got.records)
	check("refresh_tokens", want.tokens, got.tokens)
	check("otp_codes", want.otps, got.otps)
	check("ssh_keys", want.keys, got.keys)
	check("api_tokens", want.apiKeys, got.apiKeys)
	check("audit_events", want.events, got.events)
	check("reset_requests", want.resets, got.resets)
}

// runCLI runs anavara with args and returns its exit code and output.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errs bytes.Buffer
	code = cli.Execute(context.Background(), args, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errs})
	return code, out.String(), errs.String()
}

// testCopyRoundTrip fills the database from (served while the copy runs)
// through the API, copies it to the empty database to with anavara db
// copy, and checks that the target holds the same rows and that its API
// answers as the source's does.
func testCopyRoundTrip(t *testing.T, from, to string, fromStore db.Store) {
	clock := testenv.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	src := serveStore(t, fromStore, clock)
	f := populate(t, src, clock)

	code, stdout, stderr := runCLI("db", "copy", "--from", from, "--to", to, "--progress", "1ns")
	if code != 0 {
		t.Fatalf("db copy exited %d: %s%s", code, stdout, stderr)
	}
	for _, want := range []string{"users                    4 rows copied, verified", "medical_records         11 rows copied, verified",
		"counters ", "copied "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("db copy printed no %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "copied 11 of 11 medical_records") || !strings.Contains(stderr, "every row copied; checking the counts") {
		t.Errorf("db copy reported no progress:\n%s", stderr)
	}
	for _, setting := range []string{from, to} {
		if u, err := url.Parse(setting); err == nil {
			if pw, ok := u.User.Password(); ok && strings.Contains(stdout+stderr, ":"+pw+"@") {
				t.Errorf("db copy printed the password of %s:\n%s%s", u.Redacted(), stdout, stderr)
			}
		}
	}
	t.Logf("db copy:\n%s", stdout)

	dst := serveStore(t, openTarget(t, to), clock)
	want, got := allRows(t, src.store), allRows(t, dst.store)
	compareRows(t, want, got)
	if len(want.tokens) < 5 || len(want.otps) < 2 || len(want.keys) != 1 || len(want.apiKeys) != 2 || want.tally.Rows[db.TableAuditEvents] < 20 {
		t.Fatalf("populate made too little: %+v", want.tally.Rows)
	}

	// The API answers alike, lists first (reading records audits them).
	// (The doctor filter differs in case only in ASCII: SQLite's NOCASE,
	// unlike PostgreSQL's fold, matches "Dr. Öz" to "DR. ÖZ" but not to
	// "dr. öz", a difference of the engines, not of the copy.)
	for _, path := range []string{"/api/audit-events?page_size=100", "/api/audit-events?action=auth.login_failed",
		"/api/users?page_size=100", "/api/users?search=%C3%A9lodie", "/api/medical-records?page_size=100",
		"/api/medical-records?ordering=patient_name&page_size=100", "/api/medical-records?search=%C3%89LODIE%20%C3%BCnal",
		"/api/medical-records?doctor=DR.%20%C3%96Z", "/api/users/me"} {
		ws, wb := src.do(t, http.MethodGet, path, f.staffToken, nil)
		gs, gb := dst.do(t, http.MethodGet, path, f.staffToken, nil)
		if ws != http.StatusOK || gs != ws || !bytes.Equal(wb, gb) {
			t.Errorf("GET %s: source %d %s\ntarget %d %s", path, ws, wb, gs, gb)
		}
	}
	// Passwords, the reset one included, sign in on the target.
	dst.must(t, http.StatusOK, http.MethodPost, "/api/auth/login", "", map[string]any{"email": "elodie@example.org", "password": copyPassword}, nil)
	dst.must(t, http.StatusOK, http.MethodPost, "/api/auth/login", "", map[string]any{"email": "kwame@example.org", "password": f.resetPassword}, nil)
	// The refresh families behave alike: the token rotated before the copy
	// is reuse on both and revokes its family, the current one included; a
	// never-used token refreshes on both.
	for _, s := range []*apiServer{src, dst} {
		s.must(t, http.StatusOK, http.MethodPost, "/api/auth/token/refresh", "", map[string]any{"refresh_token": f.live}, nil)
		s.must(t, http.StatusUnauthorized, http.MethodPost, "/api/auth/token/refresh", "", map[string]any{"refresh_token": f.rotated}, nil)
		s.must(t, http.StatusUnauthorized, http.MethodPost, "/api/auth/token/refresh", "", map[string]any{"refresh_token": f.current}, nil)
		var reuse struct{ Count int }
		s.must(t, http.StatusOK, http.MethodGet, "/api/audit-events?action="+model.ActionTokenReuse, f.staffToken, nil, &reuse)
		if reuse.Count != 2 {
			t.Errorf("%s: %d reuse events, want 2 (one before the copy, one now)", s.base, reuse.Count)
		}
	}
}

func TestDBCopySQLiteToSQLite(t *testing.T) {
	dir := t.TempDir()
	from := filepath.Join(dir, "source", "anavara.db")
	testCopyRoundTrip(t, "sqlite:"+from, "sqlite:"+filepath.Join(dir, "target", "anavara.db"), openTarget(t, "sqlite:"+from))
}

func TestDBCopySQLiteToPostgres(t *testing.T) {
	if os.Getenv(pgtest.EnvVar) == "" {
		t.Skip(pgtest.SkipMessage)
	}
	from := filepath.Join(t.TempDir(), "anavara.db")
	testCopyRoundTrip(t, "sqlite:"+from, pgtest.URL(t), openTarget(t, "sqlite:"+from))
}

func TestDBCopyPostgresToSQLite(t *testing.T) {
	if os.Getenv(pgtest.EnvVar) == "" {
		t.Skip(pgtest.SkipMessage)
	}
	from := pgtest.URL(t)
	testCopyRoundTrip(t, from, "sqlite:"+filepath.Join(t.TempDir(), "anavara.db"), openTarget(t, from))
}

func TestDBCopyRefusesATargetWithUsers(t *testing.T) {
	dir := t.TempDir()
	from, to := "sqlite:"+filepath.Join(dir, "a.db"), "sqlite:"+filepath.Join(dir, "b.db")
	src := openTarget(t, from)
	testenv.CreateStaff(t, src, "admin@example.org", copyPassword, copyParams, time.Now())
	src.Close()
	dst := openTarget(t, to)
	testenv.CreateStaff(t, dst, "other@example.org", copyPassword, copyParams, time.Now())
	before := allRows(t, dst)
	dst.Close()

	code, _, stderr := runCLI("db", "copy", "--from", from, "--to", to)
	if code == 0 || !strings.Contains(stderr, "not empty (1 users") || !strings.Contains(stderr, "refusing to copy into") {
		t.Fatalf("copy into a database with a user: exit %d: %s", code, stderr)
	}
	dst = openTarget(t, to)
	defer dst.Close()
	compareRows(t, before, allRows(t, dst))
}

func TestDBCopyRefusesBadArguments(t *testing.T) {
	dir := t.TempDir()
	good := "sqlite:" + filepath.Join(dir, "good.db")
	openTarget(t, good).Close()
	old := "sqlite:" + filepath.Join(dir, "old.db")
	oldStore := openTarget(t, old)
	oldStore.Close()
	// A database one migration behind this binary.
	conn, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(`DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`); err != nil {
		t.Fatal(err)
	}
	conn.Close()

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--to", good}, "--from is required"},
		{[]string{"--from", good}, "--to is required"},
		{[]string{"--from", "mysql://root:hunter2@db/anavara", "--to", good}, "--from: not a database this version can open"},
		{[]string{"--from", good, "--to", "sqlite:"}, "--to: sqlite: needs a file path"},
		{[]string{"--from", good, "--to", good}, "both name"},
		{[]string{"--from", "sqlite:" + filepath.Join(dir, "missing.db"), "--to", "sqlite:" + filepath.Join(dir, "new.db")}, "no database to copy at"},
		{[]string{"--from", old, "--to", "sqlite:" + filepath.Join(dir, "new.db")}, "older than this anavara's"},
		{[]string{"--from", good, "--to", "postgres://anavara:hunter2@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=1"}, "open target"},
	} {
		code, _, stderr := runCLI(append([]string{"db", "copy"}, c.args...)...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("db copy %q: exit %d, %q; want an error with %q", c.args, code, stderr, c.want)
		}
		if strings.Contains(stderr, "hunter2") {
			t.Errorf("db copy %q printed the password: %s", c.args, stderr)
		}
	}
	if code, _, stderr := runCLI("db", "copy", "--from", old, "--to", "sqlite:"+filepath.Join(dir, "new.db")); !strings.Contains(stderr, "anavara migrate --database") {
		t.Errorf("an old source: exit %d, %q, want the migrate command to run", code, stderr)
	}
}

// TestDBCopyFailingMidwayLeavesTheTargetEmpty copies a source with a record
// whose owner is missing (written with foreign keys off), which the target
// refuses after the users and some records are in: nothing stays.
func TestDBCopyFailingMidwayLeavesTheTargetEmpty(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "source.db")
	from, to := "sqlite:"+path, "sqlite:"+filepath.Join(dir, "target.db")
	src := openTarget(t, from)
	staff := testenv.CreateStaff(t, src, "admin@example.org", copyPassword, copyParams, time.Now())
	ctx := context.Background()
	now := time.Now().UTC()
	err := src.Write(ctx, func(q db.Tx) error {
		for i := range 1500 {
			err := q.CreateRecord(ctx, model.MedicalRecord{ID: uuid.NewString(), UserID: staff.ID, PatientName: fmt.Sprint("P ", i),
				DateOfBirth: model.NewDate(1990, 1, 1), DateOfTreatment: model.NewDate(2026, 1, 1), Doctor: "D", Created: now, Updated: now})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	src.Close()
	conn, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=off")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(`INSERT INTO medical_records (id, user_id, patient_name, date_of_birth, date_of_treatment, doctor, created, updated)
		VALUES (?, ?, 'Orphan', '1990-01-01', '2026-01-01', 'D', 1, 1)`, uuid.NewString(), uuid.NewString()); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(`UPDATE counts SET n = n + 1 WHERE name = 'medical_records'`); err != nil {
		t.Fatal(err)
	}
	conn.Close()

	code, _, stderr := runCLI("db", "copy", "--from", from, "--to", to, "--progress", "0")
	if code == 0 || !strings.Contains(stderr, "copy failed; nothing was written") || !strings.Contains(stderr, "FOREIGN KEY") {
		t.Fatalf("copy of a source with an orphan record: exit %d: %s", code, stderr)
	}
	dst, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(dir, "target.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	for table, n := range allRows(t, dst).tally.Rows {
		if n != 0 {
			t.Errorf("after a failed copy the target has %d %s", n, table)
		}
	}
}

func TestDBCopyHelp(t *testing.T) {
	code, stdout, _ := runCLI("db", "copy", "--help")
	for _, want := range []string{"--from", "--to", "one transaction", "consistent snapshot", "sqlite:./anavara-data/anavara.db", "anavara migrate"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("db copy --help (exit %d) does not say %q:\n%s", code, want, stdout)
		}
	}
	code, stdout, _ = runCLI("db")
	if code != 0 || !regexp.MustCompile(`(?m)^\s+copy\s+Copy a whole Anavara database`).MatchString(stdout) {
		t.Errorf("anavara db (exit %d) does not list copy:\n%s", code, stdout)
	}
	if code, _, stderr := runCLI("db", "cpy"); code == 0 || !strings.Contains(stderr, "unknown command") {
		t.Errorf("anavara db cpy: exit %d, %s", code, stderr)
	}
}
