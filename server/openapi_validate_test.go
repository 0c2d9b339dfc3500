package server_test

import (
	"net/http"
	"testing"
)

// validateExchange checks a request and its response against the OpenAPI
// document. (Filled in once the document lands.)
func validateExchange(t *testing.T, method, path string, header http.Header, body []byte, res *response) {}
