package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/anavara/anavara/audit"
	"github.com/anavara/anavara/db"
	"github.com/anavara/anavara/mail"
)

// NewWithoutResetWorker is New without starting the reset-code worker: a
// server that answers forgot-password and stops (or crashes) before it
// serves any request, for tests of what the outbox keeps.
func NewWithoutResetWorker(cfg Config, store db.Store, mailer mail.Mailer) (*Server, error) {
	return newServer(cfg, store, mailer)
}

// StartResetWorker starts the worker of a server built by
// NewWithoutResetWorker.
func (s *Server) StartResetWorker() { s.resetCodes.Start() }

// InFlight is the number of requests running in handlers, for tests.
func (s *Server) InFlight() int {
	s.requests.mu.Lock()
	defer s.requests.mu.Unlock()
	return s.requests.n
}

// HashesInUse is how many password hashes run now, for tests.
func (s *Server) HashesInUse() int { return s.hasher.InUse() }

// ReadAuditStats reports what the audit of reads has committed, for tests
// and benchmarks.
func (s *Server) ReadAuditStats() audit.Stats { return s.reads.Stats() }

// RouteAccess is what the route method path takes from a scoped
// credential (scopes.go), and whether the table has it at all, for the
// test that every route has a scope decision.
func RouteAccess(method, path string) (string, bool) {
	a, ok := routeAccess[method+" "+path]
	return a, ok
}

// RouteAccessKeys are every route routeAccess decides, for the test that
// it names no route the app does not serve.
func RouteAccessKeys() []string {
	keys := make([]string, 0, len(routeAccess))
	for k := range routeAccess {
		keys = append(keys, k)
	}
	return keys
}

// AddIdempotentRoute registers POST path behind authenticate and the
// Idempotency-Key middleware (idempotentSecret when secret), answered by
// h: routes that fail, panic or show a secret on demand, for the tests of
// what the middleware keeps of them.
func (s *Server) AddIdempotentRoute(path string, secret bool, h fiber.Handler) {
	mw := s.idempotent
	if secret {
		mw = s.idempotentSecret
	}
	s.app.Post(path, s.authenticate, mw, h)
}

// RouteQueryParams is the table of the query parameters each route
// accepts, for the tests that hold it to the routes and the document.
func RouteQueryParams() map[string][]string { return routeQueryParams() }

// RouteKey names a route in RouteQueryParams.
func RouteKey(method, path string) string { return routeKey(method, path) }
