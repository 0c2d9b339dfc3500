package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/server"
)

const msgUnknownParam = "Unknown query parameter."

// qpPath is a request path for the route pattern p: its parameters
// filled in with a uuid, a wildcard with a name.
func qpPath(p string) string {
	p = regexp.MustCompile(`:[A-Za-z0-9_]+`).ReplaceAllString(p, "7d4f6a2e-3b1c-4e5f-9a8b-0c1d2e3f4a5b")
	return strings.Replace(p, "*", "index.html", 1)
}

// qpRaw sends method target to h's server, without a token, and returns
// the status and the error body if there is one.
func qpRaw(t *testing.T, h *harness, method, target string) (int, model.ErrorBody) {
	t.Helper()
	res, err := h.srv.App().Test(httptest.NewRequest(method, target, nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var e model.ErrorBody
	if res.StatusCode >= 400 && method != http.MethodHead {
		_ = json.Unmarshal(data, &e)
	}
	return res.StatusCode, e
}

// Every route the app registers refuses query parameters it does not
// declare, naming each, before anything else (authentication included):
// a route added without a declaration fails this test, and the server
// would not even start.
func TestEveryRouteRefusesUnknownQueryParameters(t *testing.T) {
	h := newHarness(t)
	routes := h.srv.App().GetRoutes(true)
	if len(routes) < 30 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	table := server.RouteQueryParams()
	for _, r := range routes {
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			h := mrSub(h, t)
			allowed, ok := table[server.RouteKey(r.Method, r.Path)]
			if !ok {
				t.Fatalf("no query-parameter declaration for %s %s", r.Method, r.Path)
			}
			target := qpPath(r.Path) + "?serch=ankle&zz_unknown=1"
			if r.Method == http.MethodHead {
				if status, _ := qpRaw(t, h, r.Method, target); status != http.StatusBadRequest {
					t.Fatalf("HEAD %s: %d, want 400", target, status)
				}
				return
			}
			e := h.send(request{method: r.Method, path: target}).expectError(http.StatusBadRequest, msgUnknownParam, "serch", "zz_unknown")
			if e.Errors["serch"][0] != msgUnknownParam {
				t.Errorf("errors.serch = %v", e.Errors["serch"])
			}
			// What the route declares is never refused as unknown.
			for _, name := range allowed {
				_, e := qpRaw(t, h, r.Method, qpPath(r.Path)+"?"+url.QueryEscape(name)+"=1")
				if slices.Contains(e.Errors[name], msgUnknownParam) {
					t.Errorf("declared parameter %s refused as unknown", name)
				}
			}
		})
	}
}

func TestUnknownQueryParameters(t *testing.T) {
	h := newHarness(t)
	a := h.signup("a@example.org")
	mrCreate(h, a.Access, nil)

	// A misspelt filter fails instead of returning everything.
	h.get(mrPath+"?search=ankle&serch=ankle", a.Access).expectError(http.StatusBadRequest, msgUnknownParam, "serch")
	// Names are case-sensitive, decoded, and shown bounded.
	long := strings.Repeat("é", 40)
	e := h.get(mrPath+"?Search=x&%E2%9C%93=1&"+url.QueryEscape(long)+"=1", a.Access).expectError(http.StatusBadRequest, "", "Search", "✓", strings.Repeat("é", 32)+"…")
	if len(e.Errors) != 3 {
		t.Fatalf("errors %v", e.Errors)
	}
	// The keyset pagination's parameters are taken (and checked).
	listPage[model.MedicalRecord](h, mrPath+"?paginate=cursor", a.Access)
	// An empty name (a stray &) is nothing.
	listPage[model.MedicalRecord](h, mrPath+"?&page=1&", a.Access)
}

// Closed-valued parameters refuse what they do not list: the audit
// trail's action lists the actions.
func TestAuditActionFilterIsValidated(t *testing.T) {
	h := newHarness(t)
	staff := h.staff("admin@example.org")
	e := h.get("/api/audit-events?action=nope", staff.Access).expectError(http.StatusBadRequest, "", "action")
	if !strings.Contains(e.Errors["action"][0], "record.read") || !strings.Contains(e.Errors["action"][0], "auth.login_failed") {
		t.Errorf("errors.action %q does not list the actions", e.Errors["action"][0])
	}
	page := listPage[model.AuditEvent](h, "/api/audit-events?action="+model.ActionLogin, staff.Access)
	if page.Count != 1 || page.Results[0].Action != model.ActionLogin {
		t.Fatalf("action=auth.login: %+v", page)
	}
	for _, v := range model.AuditActions() {
		h.get("/api/audit-events?action="+url.QueryEscape(v), staff.Access).expect(http.StatusOK)
	}
}

// The document lists what each operation accepts: the same parameters as
// the table, and the audit actions as an enum equal to
// model.AuditActions.
func TestOpenAPIQueryParametersMatchTheTable(t *testing.T) {
	doc := docsLoadOpenAPI(t, server.OpenAPIDocument())
	table := server.RouteQueryParams()
	for p, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := server.RouteKey(method, strings.NewReplacer("{", ":", "}", "").Replace(p))
			declared, ok := table[key]
			if !ok {
				t.Errorf("%s: no declaration in query_params.go", key)
				continue
			}
			var documented []string
			for _, ref := range append(item.Parameters, op.Parameters...) {
				if ref.Value != nil && ref.Value.In == "query" {
					documented = append(documented, ref.Value.Name)
				}
			}
			for _, name := range documented {
				if !slices.Contains(declared, name) {
					t.Errorf("%s: documents %s, which the route refuses", key, name)
				}
			}
			for _, name := range declared {
				if !slices.Contains(documented, name) {
					t.Errorf("%s: accepts %s, which the document does not list", key, name)
				}
			}
		}
	}

	op := doc.Paths.Value("/api/audit-events").Get
	var enum []string
	for _, ref := range op.Parameters {
		if ref.Value != nil && ref.Value.Name == "action" {
			for _, v := range ref.Value.Schema.Value.Enum {
				enum = append(enum, v.(string))
			}
		}
	}
	var eventEnum []string
	for _, v := range doc.Components.Schemas["AuditEvent"].Value.Properties["action"].Value.Enum {
		eventEnum = append(eventEnum, v.(string))
	}
	want := model.AuditActions()
	slices.Sort(want)
	for what, got := range map[string][]string{"the action parameter": enum, "AuditEvent.action": eventEnum} {
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s enum %v\nwant model.AuditActions %v", what, got, want)
		}
	}
}
