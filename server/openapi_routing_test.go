package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/server"
)

// The document's "Routing" conventions (trailing slashes, HEAD, 404 for
// unknown routes, 405 with Allow), checked with real requests over every
// path it documents, so a route added to the document is held to them.

// orMethods are the methods a 405 is checked for: the ones a route may
// have, and OPTIONS and TRACE, which none has.
var orMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions, http.MethodTrace}

// orTarget fills the path parameters of a documented path with their
// examples (which TestOpenAPIPathParametersHaveExamples requires).
func orTarget(t *testing.T, p string, item *openapi3.PathItem) string {
	t.Helper()
	params := slices.Clone(item.Parameters)
	for _, op := range item.Operations() {
		params = append(params, op.Parameters...)
	}
	for _, ref := range params {
		v := ref.Value
		if v == nil || v.In != openapi3.ParameterInPath {
			continue
		}
		example := v.Example
		if example == nil && v.Schema != nil && v.Schema.Value != nil {
			example = v.Schema.Value.Example
		}
		for _, ex := range v.Examples {
			if example == nil && ex.Value != nil {
				example = ex.Value.Value
			}
		}
		if example == nil {
			t.Fatalf("%s: path parameter %q has no example", p, v.Name)
		}
		p = strings.ReplaceAll(p, "{"+v.Name+"}", fmt.Sprint(example))
	}
	if strings.ContainsAny(p, "{}") {
		t.Fatalf("%s: a path parameter is not declared", p)
	}
	return p
}

// orDocumented reports whether a documented path template matches target,
// a parameter standing for any one segment.
func orDocumented(templates []string, target string) bool {
	segments := strings.Split(strings.Trim(target, "/"), "/")
	for _, tpl := range templates {
		parts := strings.Split(strings.Trim(tpl, "/"), "/")
		if len(parts) != len(segments) {
			continue
		}
		match := true
		for i, part := range parts {
			if !strings.HasPrefix(part, "{") && !strings.EqualFold(part, segments[i]) {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// orResult is what a routing check compares between two requests.
type orResult struct {
	status      int
	contentType string
	allow       []string
	body        []byte
}

// orDo sends one request through the app, with the access token if any.
func orDo(t *testing.T, h *harness, method, target, token string) orResult {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := h.srv.App().Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.Header.Get("X-Request-ID") == "" {
		t.Errorf("%s %s: no X-Request-ID", method, target)
	}
	var allow []string
	if a := res.Header.Get("Allow"); a != "" {
		allow = strings.Split(a, ", ")
		slices.Sort(allow)
	}
	ct, _, _ := strings.Cut(res.Header.Get("Content-Type"), ";")
	return orResult{status: res.StatusCode, contentType: ct, allow: allow, body: body}
}

// orExpectError checks an error answer's status and ErrorBody message.
func orExpectError(t *testing.T, what string, r orResult, status int, message string) {
	t.Helper()
	var e model.ErrorBody
	if r.status != status || json.Unmarshal(r.body, &e) != nil || e.Message != message {
		t.Errorf("%s: %d %s, want %d {\"message\": %q}", what, r.status, r.body, status, message)
	}
}

func TestOpenAPIRoutingConventions(t *testing.T) {
	h := newHarness(t)
	staff := h.staff("staff@example.org")
	doc := docsLoadOpenAPI(t, server.OpenAPIDocument())
	paths := doc.Paths.InMatchingOrder()
	slices.Sort(paths)

	for _, p := range paths {
		item := doc.Paths.Value(p)
		t.Run(p, func(t *testing.T) {
			h := mrSub(h, t)
			target := orTarget(t, p, item)
			documented := map[string]bool{}
			for m := range item.Operations() {
				documented[strings.ToUpper(m)] = true
			}
			if documented[http.MethodGet] {
				documented[http.MethodHead] = true
			}
			var allow []string
			for m := range documented {
				allow = append(allow, m)
			}
			slices.Sort(allow)

			for _, m := range orMethods {
				if !documented[m] || m == http.MethodHead {
					continue
				}
				// Trailing slashes: the same route, with or without
				// credentials. Only reads are sent with staff's token.
				tokens := []string{""}
				if m == http.MethodGet {
					tokens = append(tokens, staff.Access)
				}
				for _, tok := range tokens {
					want := orDo(t, h, m, target, tok)
					for _, variant := range []string{target + "/", target + "//"} {
						got := orDo(t, h, m, variant, tok)
						if got.status != want.status || got.contentType != want.contentType {
							t.Errorf("%s %s (token %t): %d %s, but %s answers %d %s", m, variant, tok != "", got.status, got.contentType, target, want.status, want.contentType)
						}
					}
					// HEAD: GET's status and type, no body.
					if m == http.MethodGet {
						head := orDo(t, h, http.MethodHead, target, tok)
						if head.status != want.status || head.contentType != want.contentType || len(head.body) != 0 {
							t.Errorf("HEAD %s (token %t): %d %s with %d body bytes, want GET's %d %s and no body", target, tok != "", head.status, head.contentType, len(head.body), want.status, want.contentType)
						}
					}
				}
				// Paths are matched without regard to case.
				if m == http.MethodGet {
					upper := orDo(t, h, m, strings.ToUpper(target), "")
					if want := orDo(t, h, m, target, ""); upper.status != want.status {
						t.Errorf("GET %s: %d, but %s answers %d", strings.ToUpper(target), upper.status, target, want.status)
					}
				}
			}

			// Every other method: 405 with Allow naming the documented
			// ones, with or without credentials.
			for _, m := range orMethods {
				if documented[m] {
					continue
				}
				for _, tok := range []string{"", staff.Access} {
					got := orDo(t, h, m, target, tok)
					what := fmt.Sprintf("%s %s (token %t)", m, target, tok != "")
					if m == http.MethodHead {
						if got.status != http.StatusMethodNotAllowed {
							t.Errorf("%s: %d, want 405", what, got.status)
						}
					} else {
						orExpectError(t, what, got, http.StatusMethodNotAllowed, "Method not allowed.")
					}
					if !slices.Equal(got.allow, allow) {
						t.Errorf("%s: Allow %v, want %v", what, got.allow, allow)
					}
				}
			}

			// Unknown routes below and beside it: 404, with or without
			// credentials. (One that a documented template matches, as
			// /api/users/zz-unknown matches /api/users/{id}, is a known
			// route.)
			for _, unknown := range []string{strings.TrimRight(target, "/") + "/zz-unknown", "/zz-unknown" + target} {
				if orDocumented(paths, unknown) {
					continue
				}
				for _, tok := range []string{"", staff.Access} {
					orExpectError(t, fmt.Sprintf("GET %s (token %t)", unknown, tok != ""), orDo(t, h, http.MethodGet, unknown, tok), http.StatusNotFound, "Not found.")
				}
			}
		})
	}
}

// TestOpenAPIRoutingTrailingSlashIsTheList: /api/medical-records/ is the
// list (a page), not the record with an empty id that a router matching
// /api/medical-records/{id} literally would make of it; and a HEAD runs
// the GET's handler, audit included, and tells the GET's length.
func TestOpenAPIRoutingTrailingSlashIsTheList(t *testing.T) {
	h := newHarness(t)
	a := h.signup("ann@example.org")
	r := mrCreate(h, a.Access, nil)

	for _, target := range []string{"/api/medical-records/", "/api/medical-records//"} {
		var page model.Page[model.MedicalRecord]
		h.get(target, a.Access).expect(http.StatusOK).decode(&page)
		if page.Count != 1 || len(page.Results) != 1 || page.Results[0].ID != r.ID {
			t.Errorf("GET %s: %+v, want the list with the one record", target, page)
		}
	}

	// A HEAD's Content-Length is the GET's body's.
	get := orDo(t, h, http.MethodGet, "/schema", "")
	req := httptest.NewRequest(http.MethodHead, "/schema", nil)
	res, err := h.srv.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Length") != fmt.Sprint(len(get.body)) {
		t.Errorf("HEAD /schema: %d, Content-Length %q; want 200 and the GET's %d", res.StatusCode, res.Header.Get("Content-Length"), len(get.body))
	}

	before := h.auditActions(r.ID)
	head := orDo(t, h, http.MethodHead, "/api/medical-records/"+r.ID, a.Access)
	if head.status != http.StatusOK || len(head.body) != 0 {
		t.Fatalf("HEAD of the record: %d with %d body bytes, want 200 and none", head.status, len(head.body))
	}
	after := h.auditActions(r.ID)
	if len(after) != len(before)+1 || after[len(after)-1] != model.ActionRecordRead {
		t.Errorf("audit after HEAD: %v, want %v and %s", after, before, model.ActionRecordRead)
	}
}
