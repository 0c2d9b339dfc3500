package server

import (
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
