package server_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/server"
)

// observation is one ObserveRequest call.
type observation struct {
	method, route string
	status        int
	d             time.Duration
}

// recordingObserver is a server.RequestObserver that keeps every call.
type recordingObserver struct {
	mu   sync.Mutex
	seen []observation
}

func (o *recordingObserver) ObserveRequest(method, route string, status int, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen = append(o.seen, observation{method, route, status, d})
}

// last returns the most recent observation.
func (o *recordingObserver) last(t *testing.T) observation {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.seen) == 0 {
		t.Fatal("the observer saw no request")
	}
	return o.seen[len(o.seen)-1]
}

// TestRequestObserverSeesRoutePatterns checks that Config.Metrics is told
// about every request with the matched route pattern, never the raw path.
func TestRequestObserverSeesRoutePatterns(t *testing.T) {
	obs := &recordingObserver{}
	h := newHarness(t, func(h *harnessSetup) { h.cfg.Metrics = obs })
	ann := h.signup("ann@example.org")
	rec := mrCreate(h, ann.Access, nil)
	missing := uuid.NewString()

	raw := func(method, path, token string) observation {
		t.Helper()
		req := httptest.NewRequest(method, path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := h.srv.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		o := obs.last(t)
		if o.status != res.StatusCode {
			t.Fatalf("%s %s: observed status %d, response %d", method, path, o.status, res.StatusCode)
		}
		return o
	}
	type want struct {
		method, path, token string
		route               string
		status              int
	}
	cases := []want{
		{http.MethodGet, "/healthz", "", "/healthz", 200},
		{http.MethodGet, mrPath + "/" + rec.ID, ann.Access, "/api/medical-records/:id", 200},
		{http.MethodGet, mrPath + "/" + missing, ann.Access, "/api/medical-records/:id", 404},
		{http.MethodDelete, mrPath + "/" + rec.ID, ann.Access, "/api/medical-records/:id", 204},
		{http.MethodGet, mrPath, ann.Access, "/api/medical-records", 200},
		{http.MethodGet, mrPath + "/", ann.Access, "/api/medical-records", 200},
		// Rejected by the endpoint's authentication: labelled by the endpoint.
		{http.MethodGet, mrPath + "/" + rec.ID, "", "/api/medical-records/:id", 401},
		// Under a group's prefix but no endpoint, with or without credentials.
		{http.MethodGet, mrPath + "/" + rec.ID + "/deeper", ann.Access, server.UnmatchedRoute, 404},
		{http.MethodGet, mrPath + "/" + rec.ID + "/deeper", "", server.UnmatchedRoute, 404},
		{http.MethodGet, "/no/such/" + missing, "", server.UnmatchedRoute, 404},
		{http.MethodGet, "/api/" + missing, "", server.UnmatchedRoute, 404},
		{http.MethodGet, "/docs/index.css", "", "/docs/*", 0},
		{http.MethodPost, mrPath, ann.Access, "/api/medical-records", 400},
		{http.MethodPatch, mrPath + "/" + missing, ann.Access, "/api/medical-records/:id", 404},
	}
	obs.mu.Lock()
	first := len(obs.seen)
	obs.mu.Unlock()
	for _, tc := range cases {
		o := raw(tc.method, tc.path, tc.token)
		if o.method != tc.method || o.route != tc.route || (tc.status != 0 && o.status != tc.status) {
			t.Errorf("%s %s: observed %s %q %d, want %s %q %d", tc.method, tc.path, o.method, o.route, o.status, tc.method, tc.route, tc.status)
		}
		if o.d <= 0 {
			t.Errorf("%s %s: duration %v, want > 0", tc.method, tc.path, o.d)
		}
	}

	// Observers may keep the strings they are given: later requests must
	// not change them (Fiber reuses its buffers between requests).
	obs.mu.Lock()
	defer obs.mu.Unlock()
	for i, tc := range cases {
		if o := obs.seen[first+i]; o.method != tc.method || o.route != tc.route {
			t.Errorf("observation %d changed after later requests: %s %q, want %s %q", i, o.method, o.route, tc.method, tc.route)
		}
	}

	// Bounded cardinality: no observed route carries an id.
	var routes []string
	for _, o := range obs.seen {
		if strings.Contains(o.route, rec.ID) || strings.Contains(o.route, missing) {
			t.Errorf("route label %q carries an id", o.route)
		}
		routes = append(routes, o.route)
	}
	for _, want := range []string{"/api/auth/signup", "/api/medical-records"} {
		if !slices.Contains(routes, want) {
			t.Errorf("routes %v lack %q", routes, want)
		}
	}
}

// TestRequestLogCarriesRoute checks the structured request log names the
// route pattern next to the path, and still never the query string.
func TestRequestLogCarriesRoute(t *testing.T) {
	var logs testenv.LockedBuffer
	h := newHarness(t, func(h *harnessSetup) { h.cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	ann := h.signup("ann@example.org")
	id := uuid.NewString()
	// A query the route does not take (400), whose value must not be logged.
	h.get(mrPath+"/"+id+"?search=Secret+Name", ann.Access).expect(http.StatusBadRequest)

	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "request" && m["method"] == "GET" {
			line = m
		}
	}
	if line == nil {
		t.Fatalf("no request log line for the GET:\n%s", logs.String())
	}
	if line["route"] != "/api/medical-records/:id" || line["path"] != mrPath+"/"+id || line["status"] != float64(400) {
		t.Fatalf("request log %v: want route /api/medical-records/:id, the path and status 400", line)
	}
	if strings.Contains(logs.String(), "Secret") {
		t.Fatal("the log carries the query string")
	}
}
