package server_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/server"
)

// The rules in this file are what third-party generators and linters need
// of the document (issue 16); scripts/check-openapi-clients runs the tools
// themselves in CI. Each rule is checked over the whole document, so a new
// route, parameter or schema is held to it without a change here.

// ogOperation is one operation of the document with where it lives.
type ogOperation struct {
	name string // "GET /api/users/{id}"
	path string
	item *openapi3.PathItem
	op   *openapi3.Operation
}

// ogOperations lists the document's operations in a stable order.
func ogOperations(doc *openapi3.T) []ogOperation {
	var ops []ogOperation
	for _, p := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(p)
		for method, op := range item.Operations() {
			ops = append(ops, ogOperation{name: method + " " + p, path: p, item: item, op: op})
		}
	}
	slices.SortFunc(ops, func(a, b ogOperation) int { return strings.Compare(a.name, b.name) })
	return ops
}

// TestOpenAPIDocumentForLinters holds the document to what Spectral's
// spectral:oas and Redocly's recommended rules warn about: servers, a
// contact, and a summary and description on every operation.
func TestOpenAPIDocumentForLinters(t *testing.T) {
	doc := docsLoadOpenAPI(t, server.OpenAPIDocument())
	if len(doc.Servers) == 0 || doc.Servers[0].URL == "" {
		t.Error("servers is missing or empty: generators and linters want one (url: /)")
	}
	if doc.Info.Contact == nil || doc.Info.Contact.Name == "" && doc.Info.Contact.URL == "" && doc.Info.Contact.Email == "" {
		t.Error("info.contact is missing or empty")
	}
	for _, o := range ogOperations(doc) {
		if strings.TrimSpace(o.op.Summary) == "" {
			t.Errorf("%s: no summary", o.name)
		}
		if strings.TrimSpace(o.op.Description) == "" {
			t.Errorf("%s: no description", o.name)
		}
		if len(o.op.Tags) == 0 {
			t.Errorf("%s: no tag", o.name)
		}
	}
}

// TestOpenAPIPathParametersHaveExamples: contract testers (Dredd) build
// each request's URL from the examples of its path parameters, and stop at
// the first that has none.
func TestOpenAPIPathParametersHaveExamples(t *testing.T) {
	doc := docsLoadOpenAPI(t, server.OpenAPIDocument())
	for _, o := range ogOperations(doc) {
		params := append(slices.Clone(o.item.Parameters), o.op.Parameters...)
		for _, ref := range params {
			p := ref.Value
			if p == nil || p.In != openapi3.ParameterInPath {
				continue
			}
			hasExample := p.Example != nil || len(p.Examples) > 0 ||
				p.Schema != nil && p.Schema.Value != nil && p.Schema.Value.Example != nil
			if !hasExample {
				t.Errorf("%s: path parameter %q has no example", o.name, p.Name)
			}
		}
	}
}

// ogGoName is the name oapi-codegen gives a component or operation, reduced
// to compare without regard to case: it drops separators and capitalises.
func ogGoName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return strings.ToLower(b.String())
}

// ogWrapperSuffix matches what oapi-codegen (client, server and strict
// server) appends to an operation's name for the types it generates per
// operation: <Op>Params, <Op>ParamsOrdering, <Op>Response,
// <Op>Response200Headers, <Op>JSONRequestBody, <Op>FormdataRequestBody,
// <Op>JSONBody, <Op>RequestObject, <Op>200JSONResponse...
var ogWrapperSuffix = regexp.MustCompile(`^(params|response|requestobject|responseobject|[0-9]|[a-z0-9]*body$)`)

// TestOpenAPIGoNamesDoNotCollide: oapi-codegen names a type after every
// component (schemas, parameters, responses, request bodies) and several
// after every operation; two alike do not compile ("ChangePasswordResponse
// redeclared": a schema named like the wrapper of operation
// changePassword's responses). A new component must not be named
// <OperationId>Response, <OperationId>Params... nor like a component of
// another kind.
func TestOpenAPIGoNamesDoNotCollide(t *testing.T) {
	doc := docsLoadOpenAPI(t, server.OpenAPIDocument())
	components := map[string]string{} // Go name → "schemas/X"
	add := func(kind string, names []string) {
		for _, n := range names {
			g := ogGoName(n)
			if prev, ok := components[g]; ok {
				t.Errorf("components %s/%s and %s generate the same Go type name", kind, n, prev)
				continue
			}
			components[g] = kind + "/" + n
		}
	}
	keys := func(m any) []string {
		var out []string
		switch m := m.(type) {
		case openapi3.Schemas:
			for k := range m {
				out = append(out, k)
			}
		case openapi3.ParametersMap:
			for k := range m {
				out = append(out, k)
			}
		case openapi3.ResponseBodies:
			for k := range m {
				out = append(out, k)
			}
		case openapi3.RequestBodies:
			for k := range m {
				out = append(out, k)
			}
		}
		slices.Sort(out)
		return out
	}
	add("schemas", keys(doc.Components.Schemas))
	add("parameters", keys(doc.Components.Parameters))
	add("responses", keys(doc.Components.Responses))
	add("requestBodies", keys(doc.Components.RequestBodies))

	opIDs := map[string]string{}
	for _, o := range ogOperations(doc) {
		g := ogGoName(o.op.OperationID)
		if prev, ok := opIDs[g]; ok {
			t.Errorf("%s: operationId %q generates the same Go name as %s's", o.name, o.op.OperationID, prev)
		}
		opIDs[g] = o.name
		for cg, component := range components {
			if rest, ok := strings.CutPrefix(cg, g); ok && ogWrapperSuffix.MatchString(rest) {
				t.Errorf("component %s collides with the types oapi-codegen generates for operation %s (%s): rename one", component, o.op.OperationID, o.name)
			}
		}
	}
}

// ogWalk calls f on s and every schema inside it, once each.
func ogWalk(s *openapi3.SchemaRef, seen map[*openapi3.Schema]bool, where string, f func(where string, s *openapi3.Schema)) {
	if s == nil || s.Value == nil || seen[s.Value] {
		return
	}
	seen[s.Value] = true
	if s.Ref != "" {
		where = s.Ref
	}
	f(where, s.Value)
	v := s.Value
	for name, p := range v.Properties {
		ogWalk(p, seen, where+"."+name, f)
	}
	ogWalk(v.Items, seen, where+"[]", f)
	ogWalk(v.Not, seen, where+"!", f)
	if v.AdditionalProperties.Schema != nil {
		ogWalk(v.AdditionalProperties.Schema, seen, where+"{}", f)
	}
	for _, group := range []openapi3.SchemaRefs{v.AllOf, v.AnyOf, v.OneOf} {
		for _, sub := range group {
			ogWalk(sub, seen, where, f)
		}
	}
}

// TestOpenAPIRequestSchemasHaveNoDefaults: openapi-typescript makes every
// property with a default required (the server fills it in, so a response
// always has it), which in a request body forces clients to send what may
// be omitted (CreateUserRequest.is_staff). A request body's optional
// property says what omitting it means in its description instead.
func TestOpenAPIRequestSchemasHaveNoDefaults(t *testing.T) {
	doc := docsLoadOpenAPI(t, server.OpenAPIDocument())
	seen := map[*openapi3.Schema]bool{}
	for _, o := range ogOperations(doc) {
		if o.op.RequestBody == nil || o.op.RequestBody.Value == nil {
			continue
		}
		for mt, media := range o.op.RequestBody.Value.Content {
			ogWalk(media.Schema, seen, o.name+" "+mt, func(where string, s *openapi3.Schema) {
				if s.Default != nil {
					t.Errorf("%s: request schema %s has a default (%v): describe it instead", o.name, where, s.Default)
				}
			})
		}
	}
}

// TestOpenAPITextBodiesAreNotObjects: a body that is not JSON (the YAML of
// /schema, CSV, NDJSON, a zip) is text or bytes to a client; an object
// schema under it makes generators decode it as JSON.
func TestOpenAPITextBodiesAreNotObjects(t *testing.T) {
	doc := docsLoadOpenAPI(t, server.OpenAPIDocument())
	for _, o := range ogOperations(doc) {
		for code, resp := range o.op.Responses.Map() {
			if resp.Value == nil {
				continue
			}
			for mt, media := range resp.Value.Content {
				if strings.Contains(mt, "json") && !strings.Contains(mt, "ndjson") || media.Schema == nil || media.Schema.Value == nil {
					continue
				}
				if s := media.Schema.Value; s.Type.Is(openapi3.TypeObject) || len(s.Properties) > 0 {
					t.Errorf("%s %s %s: an object schema for a body that is not JSON; want {type: string}", o.name, code, mt)
				}
			}
		}
	}
	schema := doc.Paths.Value("/schema").Get.Responses.Status(200).Value.Content.Get("application/yaml")
	if schema == nil || schema.Schema == nil || !schema.Schema.Value.Type.Is(openapi3.TypeString) {
		t.Error("GET /schema: application/yaml is not documented as a string")
	}
}

// ogModelConsts returns the string constants of package model whose names
// start with prefix (ActionSignup, ...), read from its source so that a
// constant added anywhere in the package counts.
func ogModelConsts(t *testing.T, prefix string) []string {
	t.Helper()
	dir := filepath.Join("..", "model")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var values []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !strings.HasPrefix(name.Name, prefix) || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					values = append(values, v)
				}
			}
		}
	}
	slices.Sort(values)
	return values
}

// ogEnum returns a schema's enum as sorted strings.
func ogEnum(s *openapi3.SchemaRef) []string {
	if s == nil || s.Value == nil {
		return nil
	}
	var out []string
	for _, v := range s.Value.Enum {
		if str, ok := v.(string); ok {
			out = append(out, str)
		}
	}
	slices.Sort(out)
	return out
}

// ogQueryParam finds an operation's query parameter by name.
func ogQueryParam(doc *openapi3.T, path, method, name string) *openapi3.Parameter {
	op := doc.Paths.Value(path).GetOperation(method)
	if op == nil {
		return nil
	}
	return op.Parameters.GetByInAndName(openapi3.ParameterInQuery, name)
}

// TestOpenAPIEnumsMatchTheModel: closed-valued fields and parameters are
// enums in the document (generators make them typed constants), and the
// lists are the model's own, so a new audit action or ordering cannot be
// forgotten in one of them.
func TestOpenAPIEnumsMatchTheModel(t *testing.T) {
	doc := docsLoadOpenAPI(t, server.OpenAPIDocument())

	actions := ogModelConsts(t, "Action")
	entities := ogModelConsts(t, "Entity")
	if len(actions) == 0 || len(entities) == 0 {
		t.Fatalf("found %d actions and %d entities in package model", len(actions), len(entities))
	}
	var orderings []string
	for _, o := range model.RecordOrderings {
		orderings = append(orderings, o, "-"+o)
	}
	slices.Sort(orderings)

	type enumCase struct {
		name   string
		schema *openapi3.SchemaRef
		want   []string
	}
	cases := []enumCase{
		{"components/schemas/AuditAction", doc.Components.Schemas["AuditAction"], actions},
		{"components/schemas/AuditEntity", doc.Components.Schemas["AuditEntity"], entities},
		{"AuditEvent.action", doc.Components.Schemas["AuditEvent"].Value.Properties["action"], actions},
		{"AuditEvent.entity", doc.Components.Schemas["AuditEvent"].Value.Properties["entity"], entities},
		{"AccessLogEntry.action", doc.Components.Schemas["AccessLogEntry"].Value.Properties["action"], actions},
		{"AccessLogEntry.entity", doc.Components.Schemas["AccessLogEntry"].Value.Properties["entity"], entities},
		{"RecordListDetail.ordering", doc.Components.Schemas["RecordListDetail"].Value.Properties["ordering"], orderings},
	}
	if p := ogQueryParam(doc, "/api/audit-events", "GET", "action"); p != nil {
		cases = append(cases, enumCase{"GET /api/audit-events ?action", p.Schema, actions})
	} else {
		t.Error("GET /api/audit-events: no action parameter")
	}
	if p := ogQueryParam(doc, "/api/medical-records", "GET", "ordering"); p != nil {
		cases = append(cases, enumCase{"GET /api/medical-records ?ordering", p.Schema, orderings})
	} else {
		t.Error("GET /api/medical-records: no ordering parameter")
	}
	for _, tc := range cases {
		if got := ogEnum(tc.schema); !slices.Equal(got, tc.want) {
			t.Errorf("%s: enum %v, want the model's %v", tc.name, got, tc.want)
		}
	}
}
