package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/anavara/anavara/db/sqlite"
	"github.com/anavara/anavara/internal/testenv"
	"github.com/anavara/anavara/mail"
	"github.com/anavara/anavara/server"
)

// docsTestServer builds the API on a fresh database in a temporary directory.
func docsTestServer(t *testing.T) *server.Server {
	t.Helper()
	store, _ := testenv.OpenStore(t, sqlite.Options{Path: filepath.Join(t.TempDir(), "t.db")})
	srv, err := server.New(server.Config{JWTSecret: make([]byte, 32)}, store, mail.NewCapture())
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	return srv
}

// docsLoadOpenAPI parses and validates the embedded document.
func docsLoadOpenAPI(t *testing.T, data []byte) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		t.Fatalf("load OpenAPI document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("OpenAPI document is invalid: %v", err)
	}
	return doc
}

// docsDo sends req to srv and returns the response and its body.
func docsDo(t *testing.T, srv *server.Server, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := srv.App().Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	if resp.Header.Get("X-Request-ID") == "" {
		t.Errorf("%s %s: no X-Request-ID header", req.Method, req.URL)
	}
	return resp, body
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := docsLoadOpenAPI(t, server.OpenAPIDocument())
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q, want a 3.x document", doc.OpenAPI)
	}
	if len(doc.Paths.Map()) == 0 {
		t.Fatal("the document describes no paths")
	}
}

func TestOpenAPIDocumentIsACopy(t *testing.T) {
	a := server.OpenAPIDocument()
	a[0] ^= 0xff
	if b := server.OpenAPIDocument(); b[0] == a[0] {
		t.Error("OpenAPIDocument returns shared memory: a caller's change leaked")
	}
}

// docsFiberParam matches a Fiber path parameter such as ":id".
var docsFiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// docsNormalizeRoute turns a Fiber route path into an OpenAPI path: ":id"
// becomes "{id}" and a trailing slash goes.
func docsNormalizeRoute(p string) string {
	p = docsFiberParam.ReplaceAllString(p, "{$1}")
	if len(p) > 1 {
		p = strings.TrimRight(p, "/")
	}
	return p
}

// TestOpenAPIDocumentMatchesRoutes checks that every route the Fiber app
// registers is described, with its method, and that the document describes
// nothing the app does not serve.
func TestOpenAPIDocumentMatchesRoutes(t *testing.T) {
	srv := docsTestServer(t)
	doc := docsLoadOpenAPI(t, server.OpenAPIDocument())

	registered := map[string]bool{}
	for _, r := range srv.App().GetRoutes(true) {
		if r.Method == http.MethodHead || r.Path == "/docs/*" {
			continue
		}
		registered[r.Method+" "+docsNormalizeRoute(r.Path)] = true
	}
	documented := map[string]bool{}
	for p, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[strings.ToUpper(method)+" "+docsNormalizeRoute(p)] = true
		}
	}
	if len(registered) == 0 {
		t.Fatal("the app registers no routes")
	}

	var missing, extra []string
	for k := range registered {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !registered[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	for _, k := range missing {
		t.Errorf("route %s is served but not in openapi.yaml", k)
	}
	for _, k := range extra {
		t.Errorf("openapi.yaml describes %s, which the app does not serve", k)
	}
}

// TestOpenAPIDocumentConventions checks the promises every operation makes:
// the X-Request-ID header on every response, 400 and 500 everywhere, 401
// where a token is needed, and 413/415 where a body is read.
func TestOpenAPIDocumentConventions(t *testing.T) {
	doc := docsLoadOpenAPI(t, server.OpenAPIDocument())
	for p, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + p
			if op.OperationID == "" {
				t.Errorf("%s: no operationId", name)
			}
			codes := op.Responses.Map()
			for code, ref := range codes {
				if ref.Value == nil {
					t.Errorf("%s %s: unresolved response", name, code)
					continue
				}
				h := ref.Value.Headers["X-Request-ID"]
				if h == nil || h.Value == nil || !h.Value.Required {
					t.Errorf("%s %s: X-Request-ID is not a required header", name, code)
				}
				if code[0] != '2' && code != "503" {
					mt := ref.Value.Content.Get("application/json")
					if mt == nil || mt.Schema == nil || mt.Schema.Ref != "#/components/schemas/ErrorBody" {
						t.Errorf("%s %s: body is not an ErrorBody", name, code)
					}
				}
			}
			// 400 everywhere: every operation refuses unknown query
			// parameters (query_params.go).
			want := []string{"400", "500"}
			security := doc.Security
			if op.Security != nil {
				security = *op.Security
			}
			if len(security) > 0 {
				want = append(want, "401")
			}
			if op.RequestBody != nil {
				want = append(want, "413", "415")
				content := op.RequestBody.Value.Content
				for _, mt := range []string{"application/json", "application/x-www-form-urlencoded"} {
					if content.Get(mt) == nil {
						t.Errorf("%s: request body does not accept %s", name, mt)
					}
				}
			}
			if codes["429"] != nil {
				h := codes["429"].Value.Headers["Retry-After"]
				if h == nil || h.Value == nil || !h.Value.Required {
					t.Errorf("%s 429: Retry-After is not a required header", name)
				}
			}
			for _, code := range want {
				if codes[code] == nil {
					t.Errorf("%s: response %s is not described", name, code)
				}
			}
		}
	}

	// The endpoints that are rate-limited say so.
	for _, p := range []string{"/api/auth/signup", "/api/auth/login", "/api/auth/token/refresh", "/api/auth/forgot-password", "/api/auth/reset-password"} {
		item := doc.Paths.Value(p)
		if item == nil || item.Post == nil || item.Post.Responses.Status(http.StatusTooManyRequests) == nil {
			t.Errorf("POST %s: 429 is not described", p)
		}
	}
}

func TestSchemaEndpointServesYAMLAndJSON(t *testing.T) {
	srv := docsTestServer(t)
	embedded := docsLoadOpenAPI(t, server.OpenAPIDocument())
	want, err := json.Marshal(embedded)
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name, target, accept, wantType string
	}{
		{"default", "/schema", "", "application/yaml"},
		{"any", "/schema", "*/*", "application/yaml"},
		{"accept yaml", "/schema", "application/yaml", "application/yaml"},
		{"format json", "/schema?format=json", "", "application/json"},
		{"accept json", "/schema", "application/json", "application/json"},
		{"format overrides accept", "/schema?format=yaml", "application/json", "application/yaml"},
		{"trailing slash", "/schema/?format=json", "", "application/json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tc.target, nil)
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			resp, body := docsDo(t, srv, req)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200: %s", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.wantType) {
				t.Fatalf("Content-Type %q, want %s", ct, tc.wantType)
			}
			if tc.wantType == "application/yaml" && string(body) != string(server.OpenAPIDocument()) {
				t.Fatal("the YAML served differs from the embedded document")
			}
			if tc.wantType == "application/json" && !json.Valid(body) {
				t.Fatal("the JSON served is not valid JSON")
			}
			got, err := json.Marshal(docsLoadOpenAPI(t, body))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatal("the document served differs from the embedded one")
			}
		})
	}

	t.Run("unknown format", func(t *testing.T) {
		resp, body := docsDo(t, srv, httptest.NewRequest(http.MethodGet, "/schema?format=xml", nil))
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d, want 400: %s", resp.StatusCode, body)
		}
		var e struct {
			Message string              `json:"message"`
			Errors  map[string][]string `json:"errors"`
		}
		if err := json.Unmarshal(body, &e); err != nil || e.Message == "" || len(e.Errors["format"]) == 0 {
			t.Fatalf("body %s is not an error naming format", body)
		}
	})
}

// TestOpenAPISchemaEndpointMatchesItsDocumentation sends GET /schema
// through the harness, which validates every response against the
// document: the YAML as the string it is documented as, the JSON as an
// OpenAPIDocument object.
func TestOpenAPISchemaEndpointMatchesItsDocumentation(t *testing.T) {
	h := newHarness(t)
	for _, target := range []string{"/schema", "/schema?format=yaml", "/schema?format=json"} {
		res := h.get(target, "").expect(http.StatusOK)
		if len(res.Body) == 0 {
			t.Errorf("GET %s: empty body", target)
		}
	}
}

// docsAssetRef finds the script and stylesheet URLs of an HTML page.
var docsAssetRef = regexp.MustCompile(`(?is)<(script|link)\b[^>]*?\b(src|href)\s*=\s*["']([^"']+)["']`)

func TestDocsServesEmbeddedSwaggerUI(t *testing.T) {
	srv := docsTestServer(t)

	for _, target := range []string{"/docs", "/docs/"} {
		resp, body := docsDo(t, srv, httptest.NewRequest(http.MethodGet, target, nil))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d, want 200: %s", target, resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Fatalf("GET %s: Content-Type %q, want text/html", target, ct)
		}
		if !strings.Contains(string(body), "swagger-ui") || !strings.Contains(string(body), "/schema?format=json") {
			t.Fatalf("GET %s: not a Swagger UI page for /schema: %s", target, body)
		}
	}

	_, page := docsDo(t, srv, httptest.NewRequest(http.MethodGet, "/docs", nil))
	refs := docsAssetRef.FindAllStringSubmatch(string(page), -1)
	var scripts, styles int
	for _, m := range refs {
		tag, u := strings.ToLower(m[1]), m[3]
		if strings.Contains(u, "://") || strings.HasPrefix(u, "//") {
			t.Errorf("the docs page loads %s from another host", u)
			continue
		}
		if !strings.HasPrefix(u, "/docs/") {
			t.Errorf("asset %s is not served under /docs/", u)
			continue
		}
		wantType := ""
		switch {
		case strings.HasSuffix(u, ".js"):
			wantType, scripts = "javascript", scripts+1
		case strings.HasSuffix(u, ".css"):
			wantType, styles = "text/css", styles+1
		case strings.HasSuffix(u, ".png"):
			wantType = "image/png"
		default:
			t.Errorf("unexpected %s asset %s", tag, u)
			continue
		}
		// Served from the binary, with a type the browser will accept under
		// X-Content-Type-Options: nosniff, compressed or not.
		for _, enc := range []string{"", "gzip"} {
			req := httptest.NewRequest(http.MethodGet, u, nil)
			if enc != "" {
				req.Header.Set("Accept-Encoding", enc)
			}
			resp, body := docsDo(t, srv, req)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s (Accept-Encoding %q): status %d", u, enc, resp.StatusCode)
				continue
			}
			if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, wantType) {
				t.Errorf("GET %s: Content-Type %q, want %s", u, ct, wantType)
			}
			if len(body) == 0 {
				t.Errorf("GET %s: empty body", u)
			}
			if enc == "" && resp.Header.Get("Content-Encoding") != "" {
				t.Errorf("GET %s: encoded as %q though the client accepts no encoding", u, resp.Header.Get("Content-Encoding"))
			}
		}
	}
	if scripts == 0 || styles == 0 {
		t.Errorf("the docs page references %d scripts and %d stylesheets; want Swagger UI's", scripts, styles)
	}

	resp, body := docsDo(t, srv, httptest.NewRequest(http.MethodGet, "/docs/no-such-asset.js", nil))
	if resp.StatusCode != http.StatusNotFound || !json.Valid(body) {
		t.Errorf("GET /docs/no-such-asset.js: status %d body %s, want a JSON 404", resp.StatusCode, body)
	}
}
