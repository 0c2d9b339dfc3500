package server_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/anavara/anavara/model"
	"github.com/anavara/anavara/server"
)

// TestEveryRouteHasAScope: every route the app serves has a decision in
// the scope table (scopes.go), a scope, sessions only, or public, so that
// a route added without one fails here; and the table names no route the
// app does not serve.
func TestEveryRouteHasAScope(t *testing.T) {
	h := newHarness(t)
	served := map[string]bool{}
	for _, r := range h.srv.App().GetRoutes(true) {
		if r.Method == http.MethodHead {
			continue
		}
		key := r.Method + " " + r.Path
		served[key] = true
		access, ok := server.RouteAccess(r.Method, r.Path)
		if !ok {
			t.Errorf("route %s has no scope decision in server/scopes.go (routeAccess)", key)
			continue
		}
		if access != "public" && access != "session" && !slices.Contains(model.AllScopes, access) {
			t.Errorf("route %s takes %q: no scope, nor public or session", key, access)
		}
	}
	for _, key := range server.RouteAccessKeys() {
		if !served[key] {
			t.Errorf("routeAccess decides %s, which the app does not serve", key)
		}
	}
}
