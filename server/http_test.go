package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/mail"
	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/server"
)

// htHarnessAt builds a harness like newHarness, but on the database file at
// path, and returns a function that closes the store (once; the cleanup
// closes it too if the test did not).
func htHarnessAt(t *testing.T, path string, opts ...harnessOption) (*harness, func()) {
	t.Helper()
	testenv.SQLiteOnly(t, "works on the SQLite file itself")
	clock := testenv.NewClock(time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC))
	setup := newHarnessSetup(clock, opts)
	setup.store.Path = path
	store, err := sqlite.Open(context.Background(), setup.store)
	if err != nil {
		t.Fatal(err)
	}
	capture := mail.NewCapture()
	srv, err := server.New(setup.cfg, store, capture)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	closeStore := func() {
		once.Do(func() {
			if err := store.Close(); err != nil {
				t.Errorf("close store: %v", err)
			}
		})
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		closeStore()
	})
	return &harness{t: t, srv: srv, store: store, mail: capture, clock: clock, passwordParams: setup.cfg.PasswordParams}, closeStore
}

// htRaw sends r straight to the app, without the harness's checks.
func htRaw(t *testing.T, h *harness, r *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := h.srv.App().Test(r, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// htListen serves h's app on a loopback port until the harness shuts it
// down, and returns the address.
func htListen(t *testing.T, h *harness) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.srv.Serve(ln) }()
	return ln.Addr().String()
}

// htOverWire writes req on a fresh connection to addr and reads the answer
// while still writing, so an early answer to a large body is seen even if the
// server stops reading.
func htOverWire(t *testing.T, addr string, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		_ = req.Write(conn)
	}()
	defer func() {
		conn.Close()
		<-wrote
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// htJSONError checks the response is the JSON error body with message.
func htJSONError(t *testing.T, res *response, status int, message string) {
	t.Helper()
	res.expectError(status, message)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	var raw map[string]any
	res.decode(&raw)
	if _, ok := raw["errors"]; ok {
		t.Fatalf("error without field problems carries errors: %s", res.Body)
	}
}

// htUserCount counts the users in the database.
func htUserCount(h *harness) int {
	h.t.Helper()
	_, n, err := h.store.Read().ListUsers(context.Background(), db.UserFilter{Limit: 1})
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

func TestHTTPUnknownRoute(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	r := mrCreate(h, a.Access, nil)
	cases := []request{
		{method: http.MethodGet, path: "/nope"},
		{method: http.MethodGet, path: "/api"},
		{method: http.MethodGet, path: "/api/nope"},
		{method: http.MethodPost, path: "/api/auth/nope", body: map[string]any{}},
		{method: http.MethodGet, path: "/api/v2/medical-records"},
		{method: http.MethodGet, path: "/api/medical-records/" + r.ID + "/extra", token: a.Access},
		{method: http.MethodDelete, path: "/api/medical-records/" + r.ID + "/extra", token: a.Access},
		{method: http.MethodGet, path: "/api/users/me/extra", token: a.Access},
		{method: http.MethodGet, path: "/api/nope", headers: map[string]string{"Accept": "text/html"}},
		// Without credentials too: an unknown path is unknown to everyone,
		// not a 401, under every prefix that has authenticated routes.
		{method: http.MethodGet, path: "/api/medical-records/" + r.ID + "/extra"},
		{method: http.MethodGet, path: "/api/users/a/b/c"},
		{method: http.MethodGet, path: "/api/users/me/extra"},
		{method: http.MethodGet, path: "/api/audit-events/x"},
		{method: http.MethodPost, path: "/api/auth/change-password/x", body: map[string]any{}},
	}
	for _, req := range cases {
		t.Run(req.method+" "+req.path, func(t *testing.T) {
			h := mrSub(h, t)
			htJSONError(t, h.send(req), http.StatusNotFound, "Not found.")
		})
	}
	mrSame(t, "record", mrMustStored(h, r.ID), r)
}

func TestHTTPMethodNotAllowed(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	r := mrCreate(h, a.Access, nil)
	cases := []request{
		{method: http.MethodDelete, path: "/api/auth/login"},
		{method: http.MethodGet, path: "/api/auth/signup"},
		{method: http.MethodPut, path: "/api/auth/logout"},
		{method: http.MethodPut, path: "/healthz"},
		{method: http.MethodPost, path: "/healthz"},
		{method: http.MethodDelete, path: "/api/medical-records", token: a.Access},
		{method: http.MethodPut, path: "/api/medical-records", token: a.Access, body: mrBody(nil)},
		{method: http.MethodPatch, path: "/api/medical-records/", token: a.Access, body: map[string]any{"doctor": "x"}},
		{method: http.MethodPost, path: "/api/medical-records/" + r.ID, token: a.Access, body: mrBody(nil)},
		{method: http.MethodDelete, path: "/api/users/me", token: a.Access},
		{method: http.MethodPut, path: "/api/users", token: a.Access},
		// A method no route has is 405 with or without credentials.
		{method: http.MethodDelete, path: "/api/users/me"},
		{method: http.MethodPut, path: "/api/medical-records"},
		{method: http.MethodPost, path: "/api/audit-events"},
	}
	for _, req := range cases {
		t.Run(req.method+" "+req.path, func(t *testing.T) {
			h := mrSub(h, t)
			htJSONError(t, h.send(req), http.StatusMethodNotAllowed, "Method not allowed.")
		})
	}
	mrSame(t, "record", mrMustStored(h, r.ID), r)
	if n := mrCount(h, ""); n != 1 {
		t.Fatalf("%d records, want 1", n)
	}
}

func TestHTTPBodyTooLarge(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	users := htUserCount(h)

	// A JSON object of exactly size bytes.
	object := func(size int, fields map[string]any) string {
		data, _ := json.Marshal(fields)
		pad := size - len(data) - len(`,"pad":""`)
		return strings.TrimSuffix(string(data), "}") + `,"pad":"` + strings.Repeat("p", pad) + `"}`
	}
	const limit = 1 << 20
	signup := map[string]any{"first_name": "Big", "last_name": "Body", "email": "big@example.org", "password": testPassword}

	// Fiber's app.Test cannot see this answer (fasthttp rejects the request
	// before any handler, and Test reports the connection's error), so these
	// go to a real listener.
	addr := htListen(t, h)
	for _, tc := range []struct {
		name    string
		path    string
		body    string
		ctype   string
		token   string
		chunked bool
	}{
		{"signup JSON", "/api/auth/signup", object(limit+1, signup), "application/json", "", false},
		{"signup form", "/api/auth/signup", url.Values{"email": {"big@example.org"}, "pad": {strings.Repeat("p", limit)}}.Encode(), "application/x-www-form-urlencoded", "", false},
		{"record create", mrPath, object(limit+1, mrBody(nil)), "application/json", a.Access, false},
		{"record create 2 MiB", mrPath, object(2*limit, mrBody(nil)), "application/json", a.Access, false},
		{"record create chunked", mrPath, object(limit+1, mrBody(nil)), "application/json", a.Access, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, "http://"+addr+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.chunked {
				req.ContentLength = -1
				req.Body = io.NopCloser(strings.NewReader(tc.body))
			}
			req.Header.Set("Content-Type", tc.ctype)
			req.Header.Set("X-Request-ID", "big-body-1")
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			res, body := htOverWire(t, addr, req)
			if res.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413; body %s", res.StatusCode, body)
			}
			var e model.ErrorBody
			if err := json.Unmarshal(body, &e); err != nil || e.Message != "Request body too large: the limit is 1 MiB." || e.Errors != nil {
				t.Fatalf("body %s, want {\"message\":\"Request body too large: the limit is 1 MiB.\"}", body)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			// fasthttp drops the request headers when a chunked body
			// overflows, so only a fresh id can be expected there.
			if got := res.Header.Get("X-Request-ID"); got == "" || (!tc.chunked && got != "big-body-1") {
				t.Errorf("X-Request-ID %q, want the client's", got)
			}
		})
	}
	h = mrSub(h, t)
	if n := htUserCount(h); n != users {
		t.Fatalf("users %d → %d after oversized signups", users, n)
	}
	if n := mrCount(h, ""); n != 0 {
		t.Fatalf("%d records after oversized creates", n)
	}

	// Exactly 1 MiB is read and judged on its content.
	big := mrBody(map[string]any{"diagnosis": strings.Repeat("d", 10001)})
	body := object(limit, big)
	if len(body) != limit {
		t.Fatalf("test body is %d bytes", len(body))
	}
	h.send(request{method: http.MethodPost, path: mrPath, body: body, token: a.Access,
		headers: map[string]string{"Content-Type": "application/json"}}).
		expectError(http.StatusBadRequest, "", "diagnosis")
	ok := object(limit, mrBody(nil))
	h.send(request{method: http.MethodPost, path: mrPath, body: ok, token: a.Access,
		headers: map[string]string{"Content-Type": "application/json"}}).expect(http.StatusCreated)
	if n := mrCount(h, a.ID); n != 1 {
		t.Fatalf("%d records after a 1 MiB create, want 1", n)
	}
}

func TestHTTPMalformedBodies(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	r := mrCreate(h, a.Access, nil)
	users := htUserCount(h)

	bodies := []struct {
		name, body string
	}{
		{"truncated", `{"email":`},
		{"not JSON", `not json`},
		{"trailing comma", `{"email":"x@example.org",}`},
		{"single quotes", `{'email':'x@example.org'}`},
		{"array", `[]`},
		{"array of object", `[{"email":"x@example.org"}]`},
		{"string", `"hello"`},
		{"number", `42`},
		{"boolean", `true`},
		{"null", `null`},
		{"two objects", `{"a":1} {"b":2}`},
		{"trailing garbage", `{"a":1}garbage`},
		{"invalid UTF-8 escape", `{"email":"\x"}`},
	}
	endpoints := []struct {
		name, method, path, token string
	}{
		{"signup", http.MethodPost, "/api/auth/signup", ""},
		{"login", http.MethodPost, "/api/auth/login", ""},
		{"record create", http.MethodPost, mrPath, a.Access},
		{"record patch", http.MethodPatch, mrPath + "/" + r.ID, a.Access},
		{"record put", http.MethodPut, mrPath + "/" + r.ID, a.Access},
	}
	for _, ep := range endpoints {
		for _, b := range bodies {
			t.Run(ep.name+" "+b.name, func(t *testing.T) {
				h := mrSub(h, t)
				res := h.send(request{method: ep.method, path: ep.path, body: b.body, token: ep.token,
					headers: map[string]string{"Content-Type": "application/json"}})
				htJSONError(t, res, http.StatusBadRequest, "")
			})
		}
	}
	t.Run("malformed form", func(t *testing.T) {
		h := mrSub(h, t)
		res := h.send(request{method: http.MethodPost, path: mrPath, body: "patient_name=%zz", token: a.Access,
			headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
		htJSONError(t, res, http.StatusBadRequest, "")
	})
	h = mrSub(h, t)
	if n := htUserCount(h); n != users {
		t.Fatalf("users %d → %d", users, n)
	}
	if n := mrCount(h, ""); n != 1 {
		t.Fatalf("%d records, want 1", n)
	}
	mrSame(t, "record", mrMustStored(h, r.ID), r)
}

func TestHTTPUnsupportedContentType(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	users := htUserCount(h)
	jsonBody, _ := json.Marshal(mrBody(nil))
	signup := `{"first_name":"X","last_name":"Y","email":"x@example.org","password":"` + testPassword + `"}`
	type sent struct{ recordType, record, signupType, signup string }
	cases := map[string]sent{}
	for _, ct := range []string{"text/plain", "application/xml", "text/html; charset=utf-8", "application/octet-stream"} {
		cases[ct] = sent{ct, string(jsonBody), ct, signup}
	}
	// A well-formed multipart form is still not a body the API takes.
	multi := func(fields map[string]any) (string, string) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for k, v := range fields {
			_ = w.WriteField(k, v.(string))
		}
		_ = w.Close()
		return w.FormDataContentType(), buf.String()
	}
	mct, mrec := multi(mrBody(nil))
	sct, msign := multi(map[string]any{"first_name": "X", "last_name": "Y", "email": "x@example.org", "password": testPassword})
	cases["multipart/form-data"] = sent{mct, mrec, sct, msign}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h := mrSub(h, t)
			htJSONError(t, h.send(request{method: http.MethodPost, path: mrPath, body: c.record, token: a.Access,
				headers: map[string]string{"Content-Type": c.recordType}}), http.StatusUnsupportedMediaType, "")
			htJSONError(t, h.send(request{method: http.MethodPost, path: "/api/auth/signup", body: c.signup,
				headers: map[string]string{"Content-Type": c.signupType}}), http.StatusUnsupportedMediaType, "")
		})
	}
	h = mrSub(h, t)
	if n := mrCount(h, ""); n != 0 {
		t.Fatalf("%d records stored from unsupported bodies", n)
	}
	if n := htUserCount(h); n != users {
		t.Fatalf("users %d → %d", users, n)
	}
	// JSON with parameters is JSON.
	h.send(request{method: http.MethodPost, path: mrPath, body: string(jsonBody), token: a.Access,
		headers: map[string]string{"Content-Type": "application/json; charset=utf-8"}}).expect(http.StatusCreated)
	if n := mrCount(h, ""); n != 1 {
		t.Fatalf("%d records, want 1", n)
	}
}

var htGeneratedID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func TestHTTPRequestID(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")

	first := h.get("/healthz", "").Header.Get("X-Request-ID")
	second := h.get("/healthz", "").Header.Get("X-Request-ID")
	if first == second || !htGeneratedID.MatchString(first) || !htGeneratedID.MatchString(second) {
		t.Fatalf("generated ids %q and %q", first, second)
	}

	paths := []request{
		{method: http.MethodGet, path: "/healthz"},
		{method: http.MethodGet, path: mrPath, token: a.Access},
		{method: http.MethodGet, path: mrPath},                              // 401
		{method: http.MethodGet, path: "/nowhere"},                          // 404
		{method: http.MethodDelete, path: "/healthz"},                       // 405
		{method: http.MethodGet, path: mrPath + "?page=x", token: a.Access}, // 400
	}
	good := []string{"abc-123_X.y", "a", strings.Repeat("z", 64), "0f8fad5b-d9cb-469f-a165-70867728950e"}
	bad := []string{"has spaces", strings.Repeat("z", 65), strings.Repeat("x", 200), "<script>alert(1)</script>", "a/b", "id;drop", "line\\nbreak", "ünïcode", "a\tb"}
	for _, base := range paths {
		for _, id := range good {
			req := base
			req.headers = map[string]string{"X-Request-ID": id}
			if got := h.send(req).Header.Get("X-Request-ID"); got != id {
				t.Errorf("%s %s: well-formed id %q answered %q", req.method, req.path, id, got)
			}
		}
		for _, id := range bad {
			req := base
			req.headers = map[string]string{"X-Request-ID": id}
			got := h.send(req).Header.Get("X-Request-ID")
			if got == id || strings.Contains(got, id) || !htGeneratedID.MatchString(got) {
				t.Errorf("%s %s: malicious id %q answered %q", req.method, req.path, id, got)
			}
		}
	}
}

func TestHTTPCacheControl(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	r := mrCreate(h, a.Access, nil)
	for _, req := range []request{
		{method: http.MethodGet, path: mrPath, token: a.Access},
		{method: http.MethodGet, path: mrPath + "/" + r.ID, token: a.Access},
		{method: http.MethodPost, path: mrPath, token: a.Access, body: mrBody(nil)},
		{method: http.MethodGet, path: "/api/users/me", token: a.Access},
		{method: http.MethodPost, path: "/api/auth/login", body: map[string]any{"email": "ann@example.org", "password": testPassword}},
		{method: http.MethodGet, path: mrPath},
		{method: http.MethodGet, path: mrPath + "/" + r.ID, token: "bad"},
		{method: http.MethodGet, path: "/api/nowhere"},
		{method: http.MethodPost, path: mrPath, token: a.Access, body: map[string]any{}},
		{method: http.MethodGet, path: "/healthz"},
	} {
		res := h.send(req)
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s %s (%d): Cache-Control %q, want no-store", req.method, req.path, res.Status, cc)
		}
	}
}

func TestHealthOK(t *testing.T) {
	h := newHarness(t)
	res := h.get("/healthz", "").expect(http.StatusOK)
	if body := strings.TrimSpace(string(res.Body)); body != `{"status":"ok"}` {
		t.Fatalf("body %s, want {\"status\":\"ok\"}", body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q", ct)
	}
	h.get("/healthz/", "").expect(http.StatusOK)
}

func TestHealthUnavailableAfterDatabaseClosed(t *testing.T) {
	h, closeStore := htHarnessAt(t, filepath.Join(t.TempDir(), "anavara.db"))
	h.get("/healthz", "").expect(http.StatusOK)
	closeStore()

	res, body := htRaw(t, h, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503; body %s", res.StatusCode, body)
	}
	if res.Header.Get("X-Request-ID") == "" {
		t.Fatal("503 without X-Request-ID")
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("503 body is not JSON: %s", body)
	}
	if v["status"] == "ok" {
		t.Fatalf("503 body claims ok: %s", body)
	}
}

// A full disk makes /healthz answer 503 with a fixed reason (checked
// against the OpenAPI document by the harness), so a load balancer stops
// sending writes that would fail; nothing of the system is revealed.
func TestHealthUnavailableWhenDiskFull(t *testing.T) {
	dir := testenv.Tmpfs(t, "2m")
	h, _ := htHarnessAt(t, filepath.Join(dir, "anavara.db"))
	h.get("/healthz", "").expect(http.StatusOK)
	// Freed before the store closes, which checkpoints.
	t.Cleanup(testenv.FillDisk(t, filepath.Join(dir, "filler")))
	time.Sleep(1100 * time.Millisecond) // past the health answer's one-second reuse
	res := h.get("/healthz", "").expect(http.StatusServiceUnavailable)
	var body map[string]string
	res.decode(&body)
	if body["status"] != "unavailable" || body["reason"] != "disk is full" || body["message"] != "The disk is full." {
		t.Fatalf("503 body %v, want status unavailable, reason disk is full", body)
	}
}

// The contract: every non-2xx response is {"message": ...}, and the 503 of
// /healthz is a non-2xx response.
func TestHealthUnavailableErrorShape(t *testing.T) {
	h, closeStore := htHarnessAt(t, filepath.Join(t.TempDir(), "anavara.db"))
	closeStore()
	res := h.get("/healthz", "") // the harness checks the error shape
	res.expect(http.StatusServiceUnavailable)
}

func TestHTTPInternalErrorHidesDetails(t *testing.T) {
	logs := &testenv.LockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	h, closeStore := htHarnessAt(t, filepath.Join(t.TempDir(), "anavara.db"),
		func(h *harnessSetup) { h.cfg.Logger = logger })
	a := h.signup("ann@example.org")
	s := h.staff("sam@example.org")
	r := mrCreate(h, a.Access, nil)
	closeStore()

	cases := []request{
		{method: http.MethodGet, path: mrPath, token: a.Access},
		{method: http.MethodGet, path: mrPath + "/" + r.ID, token: s.Access},
		{method: http.MethodPost, path: mrPath, token: a.Access, body: mrBody(nil)},
		{method: http.MethodGet, path: "/api/audit-events", token: s.Access},
		{method: http.MethodPost, path: "/api/auth/login", body: map[string]any{"email": "ann@example.org", "password": testPassword}},
	}
	for i, req := range cases {
		t.Run(req.method+" "+req.path, func(t *testing.T) {
			h := mrSub(h, t)
			id := "internal-" + string(rune('a'+i))
			req.headers = map[string]string{"X-Request-ID": id}
			res := h.send(req)
			res.expect(http.StatusInternalServerError)
			if body := strings.TrimSpace(string(res.Body)); body != `{"message":"Internal server error"}` {
				t.Fatalf("body %s, want exactly {\"message\":\"Internal server error\"}", body)
			}
			if res.Header.Get("X-Request-ID") != id {
				t.Fatalf("X-Request-ID %q, want %q", res.Header.Get("X-Request-ID"), id)
			}
			if !strings.Contains(logs.String(), id) {
				t.Fatalf("the log does not name request %s:\n%s", id, logs.String())
			}
		})
	}
	if !strings.Contains(logs.String(), "closed") {
		t.Fatalf("the log does not carry the internal cause:\n%s", logs.String())
	}
}

func TestHTTPFormEncodedAuth(t *testing.T) {
	h := newHarness(t)
	form := url.Values{"first_name": {" Formy "}, "last_name": {"McForm"}, "email": {" Form@Example.ORG "},
		"password": {testPassword}, "is_staff": {"true"}}
	var su model.AuthResponse
	h.post("/api/auth/signup", form, "").expect(http.StatusCreated).decode(&su)
	if su.Message != "Signup successful" || su.AccessToken == "" || su.RefreshToken == "" {
		t.Fatalf("signup response %+v", su)
	}
	if su.User.Email != "form@example.org" || su.User.FirstName != "Formy" || su.User.IsStaff || !su.User.IsActive {
		t.Fatalf("signed-up user %+v", su.User)
	}
	stored, err := h.store.Read().UserByEmail(context.Background(), "form@example.org")
	if err != nil || stored.ID != su.User.ID || stored.IsStaff {
		t.Fatalf("stored user %+v (err %v)", stored.User, err)
	}
	h.post("/api/auth/signup", form, "").expectError(http.StatusConflict, "user with this email already exists.", "email")

	var li model.AuthResponse
	h.post("/api/auth/login", url.Values{"email": {"form@example.org"}, "password": {testPassword}}, "").
		expect(http.StatusOK).decode(&li)
	if li.Message != "Login successful" || li.User.ID != su.User.ID || li.AccessToken == "" {
		t.Fatalf("login response %+v", li)
	}
	var me model.User
	h.get("/api/users/me", li.AccessToken).expect(http.StatusOK).decode(&me)
	if me.ID != su.User.ID {
		t.Fatalf("/me is %s, want %s", me.ID, su.User.ID)
	}
	h.post("/api/auth/login", url.Values{"email": {"form@example.org"}, "password": {"Wrong-pass-99"}}, "").
		expectError(http.StatusUnauthorized, "Invalid email or password")
	h.post("/api/auth/login", url.Values{"email": {"form@example.org"}}, "").
		expectError(http.StatusBadRequest, "", "password")
	h.post("/api/auth/signup", url.Values{"email": {"other@example.org"}}, "").
		expectError(http.StatusBadRequest, "", "first_name", "last_name", "password")
	if _, err := h.store.Read().UserByEmail(context.Background(), "other@example.org"); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("a rejected signup stored a user (err %v)", err)
	}
}

// A request still in its handler when Shutdown's deadline passes is waited
// for: when Shutdown returns its write has landed, so the caller can close
// the database. Requests that come after are refused with 503.
func TestShutdownWaitsForRunningHandlers(t *testing.T) {
	h := newHarness(t, withBusyTimeout(time.Minute))
	release := h.holdWriteLock()
	answered := make(chan int, 1)
	go func() {
		body := `{"first_name":"Late","last_name":"Comer","email":"late@example.org","password":"Quiet-Lantern-2099"}`
		req := httptest.NewRequest(http.MethodPost, "/api/auth/signup", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := h.srv.App().Test(req, -1)
		if err != nil {
			answered <- 0
			return
		}
		res.Body.Close()
		answered <- res.StatusCode
	}()
	// Wait until the signup is inside its handler (it then hashes the
	// password and waits for the write lock).
	for deadline := time.Now().Add(10 * time.Second); h.srv.InFlight() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the signup never reached its handler")
		}
		time.Sleep(time.Millisecond)
	}
	time.AfterFunc(300*time.Millisecond, release)
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	h.srv.Shutdown(short)
	if _, err := h.store.Read().UserByEmail(context.Background(), "late@example.org"); err != nil {
		t.Fatalf("Shutdown returned before the running signup wrote its account: %v", err)
	}
	if status := <-answered; status != http.StatusCreated {
		t.Fatalf("signup answered %d, want 201", status)
	}
	res, err := h.srv.App().Test(httptest.NewRequest(http.MethodGet, "/healthz", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("request after Shutdown answered %d, want 503", res.StatusCode)
	}
}
