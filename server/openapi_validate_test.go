package server_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/anavara/anavara/server"
)

// specRouter is the OpenAPI document loaded once for the whole test binary;
// it is read-only after loading.
var specRouter = sync.OnceValues(func() (routers.Router, error) {
	doc, err := openapi3.NewLoader().LoadFromData(server.OpenAPIDocument())
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	// Match paths regardless of the host the tests use.
	doc.Servers = nil
	// The exports' media types, which kin-openapi has no decoder for:
	// their bodies are checked as a string and as bytes, as documented.
	openapi3filter.RegisterBodyDecoder("application/fhir+ndjson", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/zip", openapi3filter.FileBodyDecoder)
	// GET /schema's YAML is text to a client, as documented ({type:
	// string}); kin-openapi would otherwise parse it into an object.
	openapi3filter.RegisterBodyDecoder("application/yaml", openapi3filter.PlainBodyDecoder)
	return gorillamux.NewRouter(doc)
})

// validateExchange checks every response the API tests receive against the
// OpenAPI document, so the document cannot drift from the code: an
// undocumented status, a missing required property or an extra property in
// a response body fails the test that made the request.
func validateExchange(t *testing.T, method, path string, header http.Header, body []byte, res *response) {
	t.Helper()
	router, err := specRouter()
	if err != nil {
		t.Fatalf("load OpenAPI document: %v", err)
	}
	p := path
	if i := strings.IndexByte(p, '?'); i >= 0 {
		if trimmed := strings.TrimRight(p[:i], "/"); trimmed != "" {
			p = trimmed + p[i:]
		}
	} else if trimmed := strings.TrimRight(p, "/"); trimmed != "" {
		p = trimmed
	}
	req, err := http.NewRequest(method, "http://anavara.test"+p, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header.Clone()
	route, params, err := router.FindRoute(req)
	if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
		// Unknown routes and wrong methods have no operation to check
		// against; the tests assert their 404/405 bodies directly.
		return
	}
	if err != nil {
		t.Fatalf("OpenAPI route for %s %s: %v", method, path, err)
	}
	input := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true},
	}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input,
		Status:                 res.Status,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(res.Body)),
		Options:                input.Options,
	})
	if err != nil {
		t.Fatalf("%s %s → %d does not match openapi.yaml: %v\nbody: %s", method, path, res.Status, err, res.Body)
	}
}
